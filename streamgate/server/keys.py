"""API keys of the front door: a TOML file that stores only each key's SHA-256, mapped to a tenant and a user.

::

    [keys."sha256:9f86d081884c7d65..."]
    tenant = "acme"
    user = "alice"

A presented key is hashed and compared with **every** stored digest in constant time (``hmac.compare_digest``,
no early exit), so neither the answer time nor a lookup structure tells how close a guess came. The file is read
again when its modification time changes (at most once a second), so ``streamgate keys add`` needs no restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,127}$")  # schemas.request's tenant/user pattern
_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
KEY_PREFIX = "sg-"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a key speaks for: requests are charged to ``tenant`` and ``user``."""

    tenant: str
    user: str


def digest_of(key: str) -> bytes:
    """The SHA-256 of a key (what the file stores, in hex)."""
    return hashlib.sha256(key.encode()).digest()


def parse_keys(text: str, where: str) -> tuple[tuple[bytes, Principal], ...]:
    """The ``(digest, principal)`` entries of a key file's text; a malformed file is a :class:`ConfigError`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"key file {where}: {exc}") from exc
    entries = []
    unknown = set(document) - {"keys"}
    if unknown:
        raise ConfigError(f"key file {where}: unknown top-level keys {sorted(unknown)}")
    for name, entry in dict(document.get("keys", {})).items():
        match = _DIGEST.match(name)
        if match is None or not isinstance(entry, dict) or set(entry) != {"tenant", "user"}:
            raise ConfigError(f'key file {where}: each entry is [keys."sha256:<64 hex>"] with tenant and user only')
        tenant, user = entry["tenant"], entry["user"]
        if not (isinstance(tenant, str) and _NAME.match(tenant) and isinstance(user, str) and _NAME.match(user)):
            raise ConfigError(f"key file {where}: invalid tenant or user in {name}")
        entries.append((bytes.fromhex(match.group(1)), Principal(tenant=tenant, user=user)))
    return tuple(entries)


class KeyRing:
    """The keys of one key file, re-read when the file changes."""

    def __init__(self, path: Path, *, check_every_s: float = 1.0) -> None:
        self.path = path
        self._check_every_s = check_every_s
        self._mtime_ns = -1
        self._checked_at = float("-inf")
        self._entries: tuple[tuple[bytes, Principal], ...] = ()
        self._reload()

    def _reload(self) -> None:
        try:
            stat = self.path.stat()
            if stat.st_mtime_ns != self._mtime_ns:
                self._entries = parse_keys(self.path.read_text(), str(self.path))
                self._mtime_ns = stat.st_mtime_ns
        except OSError as exc:
            raise ConfigError(f"cannot read key file {self.path}: {exc.strerror}") from exc

    def __len__(self) -> int:
        return len(self._entries)

    def principal(self, key: str | None) -> Principal | None:
        """Who ``key`` speaks for, or ``None`` (no key, or not one of the file's)."""
        now = time.monotonic()
        if now - self._checked_at >= self._check_every_s:
            self._checked_at = now
            with contextlib.suppress(ConfigError):  # keep the keys last read: a half-written file is no outage
                self._reload()
        if not key:
            return None
        presented = digest_of(key)
        found: Principal | None = None
        for stored, principal in self._entries:
            if hmac.compare_digest(presented, stored) and found is None:
                found = principal
        return found


def add_key(path: Path, tenant: str, user: str) -> str:
    """Create a key for ``tenant``/``user``, append its digest to ``path`` (created 0600 if missing) and return
    the key itself: it is shown once and stored nowhere."""
    if not _NAME.match(tenant) or not _NAME.match(user):
        raise ConfigError("tenant and user must be 1-128 of A-Z a-z 0-9 . _ : @ - (starting with a letter or digit)")
    if path.exists():
        parse_keys(path.read_text(), str(path))  # never append to a file we could not read back
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    entry = f'\n[keys."sha256:{digest_of(key).hex()}"]\ntenant = "{tenant}"\nuser = "{user}"\n'
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as out:
        out.write(entry)
    return key
