"""The table value: immutability and its compact JSON form."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from gateway.limits.state import STATE_VERSION, UsageState, decode, encode

POPULATED = UsageState(
    window_s=60,
    window_start=1_750_000_000 - 1_750_000_000 % 60,
    requests=17,
    tokens=12_345,
    inflight=3,
    reserved_tokens=1_836,
    reserved_usd=0.0123456789,
    day="2025-06-15",
    day_usd=0.1 + 0.2,
    month="2025-06",
    month_usd=12.3456789012,
)


@pytest.mark.parametrize("state", [UsageState(), POPULATED])
def test_json_round_trip(state: UsageState) -> None:
    data = state.to_json()
    assert isinstance(data, bytes)
    assert UsageState.from_json(data) == state
    assert UsageState.from_json(data.decode()) == state
    assert decode(encode(state)) == state


@pytest.mark.parametrize(
    "state", [UsageState(), POPULATED, POPULATED.replace(alerted="2025-06-15:0.8", alert_pending=True)]
)
def test_dict_round_trip_matches_asdict(state: UsageState) -> None:
    alerting = state.alerted or state.alert_pending  # the alert fields are left out while they are empty
    expected = {k: v for k, v in dataclasses.asdict(state).items() if alerting or k not in ("alerted", "alert_pending")}
    assert state.to_dict() == expected
    assert UsageState.from_dict(state.to_dict()) == state


def test_json_is_small_and_readable() -> None:
    data = POPULATED.to_json()
    assert len(data) < 256
    assert orjson.loads(data)["v"] == STATE_VERSION


def test_missing_value_decodes_to_fresh_state() -> None:
    assert decode(None) == UsageState()
    assert decode(b"") == UsageState()


def test_from_json_rejects_foreign_data() -> None:
    with pytest.raises(ValueError, match="version"):
        UsageState.from_json(b'{"v": 99}')
    with pytest.raises(ValueError, match="unknown"):
        UsageState.from_json(b'{"v": 1, "offsets": {}}')
    with pytest.raises(ValueError, match="object"):
        UsageState.from_json(b"[1, 2]")


def test_state_is_frozen() -> None:
    state = UsageState()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.requests = 5  # type: ignore[misc]
    assert state.replace(requests=5).requests == 5
    assert state.requests == 0
