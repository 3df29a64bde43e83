"""Request signing (tenant binding): what verifies, what is refused with which code, keys and their config."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import load_settings
from gateway.tenant_binding import SIGNATURE_HEADER, TENANT_HEADER, TenantBindingSettings, new_key, sign, verify
from schemas.codes import ErrorCode
from streams.cli.main import main

KEYS = {"acme": ["k-acme-new", "k-acme-old"], "globex": ["k-globex"]}
VALUE = b'{"id":"r1","tenant":"acme","user":"alice","messages":[{"role":"user","content":"hi"}]}'


def test_a_request_signed_by_its_tenant_verifies_with_any_of_its_keys() -> None:
    assert verify(VALUE, sign(VALUE, "acme", "k-acme-new"), "acme", KEYS) is None
    assert verify(VALUE, sign(VALUE, "acme", "k-acme-old"), "acme", KEYS) is None  # during a rotation


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ([], ErrorCode.UNAUTHENTICATED),
        (sign(VALUE, "acme", "k-acme-new")[1:], ErrorCode.UNAUTHENTICATED),  # the signature without its tenant
        (sign(VALUE + b" ", "acme", "k-acme-new"), ErrorCode.UNAUTHENTICATED),  # one byte changed
        (sign(VALUE, "acme", "k-globex"), ErrorCode.UNAUTHENTICATED),  # another tenant's key
        (sign(VALUE, "acme", "k-dropped"), ErrorCode.UNAUTHENTICATED),  # a key no longer listed
        (sign(VALUE, "initech", "k-acme-new"), ErrorCode.UNAUTHENTICATED),  # a tenant without keys
        (sign(VALUE, "globex", "k-globex"), ErrorCode.TENANT_FORBIDDEN),  # globex's valid signature, acme's bill
        ([(TENANT_HEADER, b"\xff"), (SIGNATURE_HEADER, b"v1=00")], ErrorCode.UNAUTHENTICATED),
    ],
)
def test_unsigned_tampered_and_forged_requests_are_refused(headers: list[tuple[str, bytes]], code: ErrorCode) -> None:
    assert verify(VALUE, headers, "acme", KEYS) is code


def test_keys_in_the_config_one_or_several_and_never_shown(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[tenant_binding]\nmode = "hmac"\n[tenant_binding.keys]\nacme = "k1"\nglobex = ["k2", "k3"]\n')
    binding = load_settings(config).tenant_binding
    assert binding.keys_of("globex") == ("k2", "k3") and binding.keys_of("nobody") == ()
    assert binding.signing_keys() == {"acme": "k1", "globex": "k2"}
    assert "k1" not in repr(binding) and "k2" not in repr(binding)
    assert verify(VALUE, sign(VALUE, "acme", "k1"), "acme", binding) is None
    assert TenantBindingSettings(keys={"acme": ("k",)}).signing_keys() == {}  # off: producers sign nothing


def test_new_keys_are_random_and_long() -> None:
    keys = {new_key() for _ in range(20)}
    assert len(keys) == 20 and all(k.startswith("sgk_") and len(k) >= 40 for k in keys)


def test_tenant_key_prints_a_config_the_worker_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenant-key", "initech"]) == 0
    config = tmp_path / "keys.toml"
    config.write_text(capsys.readouterr().out)
    binding = load_settings(config).tenant_binding
    (key,) = binding.keys_of("initech")
    assert binding.mode == "hmac" and key.startswith("sgk_")
    assert verify(b"{}", sign(b"{}", "initech", key), "initech", binding) is None
    assert main(["tenant-key", "not a tenant"]) == 2
