"""Tenants a client cannot forge: requests signed with a per-tenant key, verified at intake before any work.

A producer signs each request record with its tenant's key (:func:`sign`): two Kafka headers, the tenant it signs
for (``streamgate-tenant``) and ``streamgate-signature: v1=<hex>``, an HMAC-SHA256 over a version tag, that tenant
and the record's value bytes exactly as published. With ``[tenant_binding] mode = "hmac"`` the worker's intake
(:func:`verify`) refuses, before parsing further, screening, reserving or calling anything:

- ``unauthenticated``: no or a malformed signature, a tenant without a key, or a signature no key of the tenant
  verifies (a changed byte, a wrong or revoked key);
- ``tenant_forbidden``: a valid signature by one tenant on a request whose ``tenant`` field names another.

Keys are per tenant and may be several at once (a rotation: add the new key, move the producers, drop the old).
This module needs only the standard library and :mod:`schemas`, so a client SDK or an HTTP front door imports it
without the worker.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from schemas.codes import ErrorCode

TENANT_HEADER = "streamgate-tenant"
SIGNATURE_HEADER = "streamgate-signature"
KEY_PREFIX = "sgk_"
_VERSION = "v1"
_TAG = b"streamgate-request-v1\0"


class TenantBindingSettings(BaseModel):
    """``[tenant_binding]``: whether requests must be signed, and each tenant's keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["off", "hmac"] = Field(
        default="off", description="off: the tenant field is trusted; hmac: it must be signed with the tenant's key."
    )
    keys: dict[str, tuple[SecretStr, ...]] = Field(
        default_factory=dict, description="tenant -> accepted keys (several during a rotation). Never logged."
    )

    @field_validator("keys", mode="before")
    @classmethod
    def _one_key_or_many(cls, value: object) -> object:
        # `acme = "sgk_..."` and `acme = ["sgk_new", "sgk_old"]` both work in TOML.
        if isinstance(value, Mapping):
            return {tenant: (keys,) if isinstance(keys, str | SecretStr) else keys for tenant, keys in value.items()}
        return value

    def signing_keys(self) -> dict[str, str]:
        """Each tenant's first key, the one producers sign with (``mode = "off"``: none, nothing is signed)."""
        if self.mode == "off":
            return {}
        return {tenant: keys[0].get_secret_value() for tenant, keys in self.keys.items() if keys}

    def keys_of(self, tenant: str) -> tuple[str, ...]:
        """The accepted keys of ``tenant`` (none when it has no key)."""
        return tuple(key.get_secret_value() for key in self.keys.get(tenant, ()))


def new_key() -> str:
    """A fresh random tenant key (256 bits, URL-safe text)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_config(tenant: str, key: str) -> str:
    """The TOML that makes the worker accept ``key`` for ``tenant`` (what ``streamgate tenant-key`` prints)."""
    return (
        f"# tenant {tenant!r}: give the key to its producers only; keep older keys listed after it while they move\n"
        "[tenant_binding]\n"
        'mode = "hmac"\n\n'
        "[tenant_binding.keys]\n"
        f'"{tenant}" = ["{key}"]\n'
    )


def signature(key: str, tenant: str, value: bytes) -> str:
    """The ``streamgate-signature`` header value of ``value`` signed by ``tenant`` with ``key``."""
    mac = hmac.new(key.encode(), _TAG + tenant.encode() + b"\0" + value, hashlib.sha256)
    return f"{_VERSION}={mac.hexdigest()}"


def sign(value: bytes, tenant: str, key: str) -> list[tuple[str, bytes]]:
    """The Kafka headers that bind ``value`` (a request record's exact bytes) to ``tenant``; add them to the record."""
    return [(TENANT_HEADER, tenant.encode()), (SIGNATURE_HEADER, signature(key, tenant, value).encode())]


def verify(
    value: bytes,
    headers: Iterable[tuple[str, bytes]],
    claimed_tenant: str,
    keys: Mapping[str, Sequence[str]] | TenantBindingSettings,
) -> ErrorCode | None:
    """``None`` when ``value`` is signed by ``claimed_tenant`` (the request's ``tenant``), else the refusal's code.

    ``keys``: each tenant's accepted keys, or the settings that hold them.
    """
    found = {name: bytes(raw) for name, raw in headers if name in (TENANT_HEADER, SIGNATURE_HEADER)}
    if TENANT_HEADER not in found or SIGNATURE_HEADER not in found:
        return ErrorCode.UNAUTHENTICATED
    try:
        signer, sent = found[TENANT_HEADER].decode(), found[SIGNATURE_HEADER].decode()
    except UnicodeDecodeError:
        return ErrorCode.UNAUTHENTICATED
    accepted = keys.keys_of(signer) if isinstance(keys, TenantBindingSettings) else tuple(keys.get(signer, ()))
    if not any(hmac.compare_digest(sent, signature(key, signer, value)) for key in accepted):
        return ErrorCode.UNAUTHENTICATED
    if signer != claimed_tenant:
        return ErrorCode.TENANT_FORBIDDEN
    return None
