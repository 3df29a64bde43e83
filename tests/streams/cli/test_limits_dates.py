"""`streamgate limits` shows times as ISO-8601 UTC dates; the snapshot it renders stays numeric."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.limits.policy import Limits
from gateway.limits.snapshot import snapshot
from gateway.limits.state import decode
from streams.cli.commands import iso_utc, with_dates


def ts(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[misc]


def test_iso_utc_is_a_utc_date_to_the_second() -> None:
    assert iso_utc(ts(2025, 6, 16)) == "2025-06-16T00:00:00Z"
    assert iso_utc(ts(2025, 6, 15, 12, 0, 59) + 0.7) == "2025-06-15T12:00:59Z"


def test_every_time_of_the_report_is_a_date_and_the_rest_is_unchanged() -> None:
    view = snapshot(decode(None), Limits(requests_per_window=10, window_s=60), ts(2025, 6, 15, 12, 0, 30))
    shown = with_dates(view)
    assert shown["window_start"] == "2025-06-15T12:00:00Z"
    assert shown["limits"]["requests_per_window"]["resets_at"] == "2025-06-15T12:01:00Z"
    assert shown["limits"]["usd_per_day"]["resets_at"] == "2025-06-16T00:00:00Z"
    assert shown["limits"]["usd_per_month"]["resets_at"] == "2025-07-01T00:00:00Z"
    assert shown["limits"]["requests_per_window"]["limit"] == 10 and shown["in_flight"] == view["in_flight"]
    assert isinstance(view["limits"]["usd_per_day"]["resets_at"], float)  # the snapshot itself stays numeric
