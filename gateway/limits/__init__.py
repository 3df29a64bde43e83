"""Rate-limit and budget decisions as pure functions over small, immutable table values.

* :mod:`~gateway.limits.policy` — configuration (tiers, overrides) and :func:`effective_limits`;
* :mod:`~gateway.limits.state` — :class:`UsageState`, the value stored per tenant and per ``tenant|user``;
* :mod:`~gateway.limits.decide` — :func:`admit`, :func:`settle`, :func:`release`;
* :mod:`~gateway.limits.snapshot` — :func:`snapshot`, usage against each limit (for the CLI);
* :mod:`~gateway.limits.periods` — windows, UTC days and months, rounding of USD amounts;
* :mod:`~gateway.limits.estimate` — :func:`estimate_request`, the worst case of a request.

Nothing here touches Kafka, Faust or the clock: the caller passes ``now`` and stores what is returned.
"""

from gateway.limits.decide import Admission, Estimate, Reservation, admit, release, settle
from gateway.limits.estimate import estimate_request
from gateway.limits.policy import (
    Limits,
    LimitsConfig,
    TenantPolicy,
    TierPolicy,
    effective_limits,
    merge_limits,
)
from gateway.limits.snapshot import LimitView, Snapshot, snapshot
from gateway.limits.state import UsageState

__all__ = [
    "Admission",
    "Estimate",
    "LimitView",
    "Limits",
    "LimitsConfig",
    "Reservation",
    "Snapshot",
    "TenantPolicy",
    "TierPolicy",
    "UsageState",
    "admit",
    "effective_limits",
    "estimate_request",
    "merge_limits",
    "release",
    "settle",
    "snapshot",
]
