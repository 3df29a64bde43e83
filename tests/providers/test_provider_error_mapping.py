"""The pure parts of the error mapping: Retry-After parsing, status classes, non-HTTP exceptions."""

from __future__ import annotations

import email.utils
import json

import pytest

from gateway.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from gateway.providers.error_mapping import error_for_status, map_sdk_error, parse_retry_after

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "2", "retry-after-ms": "2500"}, 2.5),
        ({"Retry-After": "2", "retry-after-ms": "x"}, 2.0),
        ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (429, ProviderRateLimited),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (408, ProviderUnavailable),
        (409, ProviderUnavailable),
        (500, ProviderUnavailable),
        (529, ProviderUnavailable),
        (400, ProviderBadRequest),
        (404, ProviderBadRequest),
        (422, ProviderBadRequest),
        (302, ProviderBadResponse),
    ],
)
def test_error_for_status(status: int, cls: type[ProviderError]) -> None:
    err = error_for_status(status, provider="p", model="m", message="x", headers={"Retry-After": "3"})
    assert type(err) is cls
    assert (err.provider, err.model, err.status, err.retry_after_s) == ("p", "m", status, 3.0)


def test_non_http_exceptions() -> None:
    assert type(map_sdk_error(TimeoutError(), provider="p", model="m")) is ProviderTimeout
    bad_json = json.JSONDecodeError("Expecting value", "{", 1)
    assert type(map_sdk_error(bad_json, provider="p", model="m")) is ProviderBadResponse
    unexpected = map_sdk_error(RuntimeError("odd"), provider="p", model="m")
    assert type(unexpected) is ProviderError and "RuntimeError" in unexpected.message
    already = ProviderBadRequest("x", provider="p", model="m", status=400)
    assert map_sdk_error(already, provider="q", model="n") is already
