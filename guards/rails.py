"""Running our detectors as guardrails-ai validators, fully offline.

Each content/output guard is a guardrails ``Validator`` subclass registered with ``register_validator`` and run by
a ``Guard().use(...)`` built once per guard. guardrails-ai 0.11 would otherwise (a) re-read ``~/.guardrailsrc`` in
every new Guard and, without ``enable_metrics=false`` there, export telemetry to a remote endpoint, (b) trace every
call, and (c) run validators through a fresh thread and event loop per call (~4 ms). :func:`configure_offline`
forces metrics and remote inferencing off where the rc is loaded, disables tracing and selects the sequential
validator service (~0.3 ms per call).

A validator cannot hand a rich result back through ``Guard.validate``; it leaves its :class:`Verdict` in the
call's ``metadata`` under :data:`VERDICT_KEY`, which the caller reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from guardrails import Guard as RailsGuard
from guardrails import OnFailAction
from guardrails.classes.rc import RC
from guardrails.settings import settings as rails_settings
from guardrails.validators import FailResult, PassResult, ValidationResult, Validator, register_validator

from guards.base import PASS, GuardInput, Verdict

VERDICT_KEY = "streamgate_verdict"
SUBJECT_KEY = "streamgate_subject"
_configured = False


def configure_offline() -> None:
    """Telemetry, remote inferencing and tracing off; sequential validation. Idempotent."""
    global _configured
    if _configured:
        return
    import guardrails.validator_service as validator_service

    original = RC.load.__func__

    def load_offline(cls: type[RC], logger: Any = None) -> RC:
        rc: RC = original(cls, logger)
        rc.enable_metrics = False
        rc.use_remote_inferencing = False
        return rc

    RC.load = classmethod(load_offline)
    rails_settings.rc = RC.load()
    rails_settings.disable_tracing = True
    validator_service.should_run_sync = lambda: True
    _configured = True


Check = Callable[[GuardInput], Verdict]


@register_validator(name="streamgate/check", data_type="string")
class StreamgateCheck(Validator):  # type: ignore[misc]
    """A guardrails validator that runs one streamgate check on the subject passed in the metadata."""

    def __init__(self, check: Check, **kwargs: Any) -> None:
        super().__init__(on_fail=OnFailAction.NOOP, **kwargs)
        self._check = check

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        verdict = self._check(metadata[SUBJECT_KEY])
        metadata[VERDICT_KEY] = verdict
        if verdict.action == "pass":
            return PassResult()
        return FailResult(error_message=f"{verdict.action}", fix_value=value)


class RailedCheck:
    """One streamgate check wrapped in a guardrails ``Guard`` built once."""

    def __init__(self, check: Check) -> None:
        configure_offline()
        self._guard = RailsGuard(history_max_length=1).use(StreamgateCheck(check))

    def run(self, subject: GuardInput, text: str) -> Verdict:
        """Validate ``text`` (what the check reads) through guardrails; the check's verdict."""
        metadata: dict[str, Any] = {SUBJECT_KEY: subject}
        self._guard.validate(text, metadata=metadata)
        verdict = metadata.get(VERDICT_KEY, PASS)
        assert isinstance(verdict, Verdict)
        return verdict
