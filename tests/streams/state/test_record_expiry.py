"""RecordExpiry: per-partition retention queues, seeded once after a restart."""

from __future__ import annotations

from streams.state.record_expiry import RecordExpiry


def test_keys_come_due_after_retention_and_only_in_their_partition() -> None:
    expiry = RecordExpiry(retention_s=10)
    expiry.schedule(0, "t|a", created_at=100)
    expiry.schedule(1, "t|b", created_at=100)
    expiry.schedule(0, "t|c", created_at=105)
    assert expiry.due(0, now=109.9) == []
    assert expiry.due(0, now=110) == ["t|a"]
    assert expiry.due(0, now=200) == ["t|c"]
    assert expiry.due(0, now=300) == []
    assert expiry.due(1, now=110) == ["t|b"]


def test_seeding_after_a_restart_queues_found_records_in_age_order_once() -> None:
    expiry = RecordExpiry(retention_s=5)
    assert expiry.needs_seed(3)
    expiry.seed(3, [("t|late", 50.0), ("t|early", 10.0)])
    assert not expiry.needs_seed(3) and expiry.needs_seed(4)
    expiry.schedule(3, "t|new", created_at=60)
    assert expiry.due(3, now=20) == ["t|early"]
    assert expiry.due(3, now=70) == ["t|late", "t|new"]
