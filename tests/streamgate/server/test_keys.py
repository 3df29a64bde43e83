"""The key file: only digests stored, every digest compared, malformed files refused, new keys picked up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from streamgate.server.keys import KeyRing, Principal, add_key, digest_of


def test_a_new_key_maps_to_its_tenant_and_user_and_only_its_digest_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    alice, bob = add_key(path, "acme", "alice"), add_key(path, "globex", "bob")
    text = path.read_text()
    assert alice not in text and bob not in text and f"sha256:{digest_of(alice).hex()}" in text
    assert os.stat(path).st_mode & 0o777 == 0o600
    ring = KeyRing(path)
    assert ring.principal(alice) == Principal("acme", "alice") and ring.principal(bob) == Principal("globex", "bob")
    assert ring.principal(alice[:-1]) is None and ring.principal("") is None and ring.principal(None) is None


def test_a_key_added_while_serving_is_accepted_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    add_key(path, "acme", "alice")
    ring = KeyRing(path, check_every_s=0)
    later = add_key(path, "acme", "carol")
    os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 1_000_000))  # the same mtime tick as the first write
    assert ring.principal(later) == Principal("acme", "carol")


@pytest.mark.parametrize(
    "text",
    [
        "[keys.alice]\ntenant = 'acme'\nuser = 'alice'\n",  # not a sha256 digest
        f"[keys.'sha256:{'0' * 64}']\ntenant = 'acme'\n",  # no user
        f"[keys.'sha256:{'0' * 64}']\ntenant = 'no spaces'\nuser = 'u'\n",
        "not toml [",
        "[other]\n",
    ],
)
def test_a_malformed_key_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        KeyRing(path)


def test_keys_add_refuses_a_tenant_the_gateway_would_refuse(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        add_key(tmp_path / "keys.toml", "acme corp", "alice")
