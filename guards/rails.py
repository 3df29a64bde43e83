"""Running our detectors as guardrails-ai validators, fully offline.

Each content/output guard is a guardrails ``Validator`` subclass registered with ``register_validator`` and run by
a ``Guard().use(...)`` built once per guard. guardrails-ai 0.11 would otherwise (a) re-read ``~/.guardrailsrc`` in
every new Guard and, without ``enable_metrics=false`` there, export telemetry to a remote endpoint, (b) trace every
call, and (c) run validators through a fresh thread and event loop per call (~4 ms). :func:`configure_offline`
forces metrics and remote inferencing off where the rc is loaded, disables tracing and selects the sequential
validator service.

Even then ``Guard.validate`` costs ~0.4 ms per call on this machine (profiled: a new ``Call`` and history entry,
the output schema rebuilt with ``jsonref`` and re-validated with ``jsonschema``, pydantic models for every
iteration, and the tracing wrappers), about a third of a content guard's budget, for nothing our checks use: the
value is a plain string, ``on_fail`` is ``noop`` and the verdict travels in the metadata. So the ``Guard`` is built
once as the registry of a check's validators (``Guard().use(...)``, its ``get_validators``), and each call runs
those validators' own public ``Validator.validate(value, metadata)``, the method guardrails' validator service
itself calls. :meth:`RailedCheck.run_through_guard` keeps the full ``Guard.validate`` path (tests show both
give the same verdicts).

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
    """One streamgate check as a guardrails validator, registered in a ``Guard`` built once."""

    def __init__(self, check: Check) -> None:
        configure_offline()
        self._guard = RailsGuard(history_max_length=1).use(StreamgateCheck(check))
        self._validators: tuple[Validator, ...] = tuple(self._guard.get_validators("output"))

    def run(self, subject: GuardInput, text: str) -> Verdict:
        """Run the Guard's validators on ``text`` (what the check reads); the check's verdict."""
        metadata: dict[str, Any] = {SUBJECT_KEY: subject}
        for validator in self._validators:
            validator.validate(text, metadata)
        return _verdict(metadata)

    def run_through_guard(self, subject: GuardInput, text: str) -> Verdict:
        """The same through ``Guard.validate`` (history, schema validation, tracing): ~0.4 ms more per call."""
        metadata: dict[str, Any] = {SUBJECT_KEY: subject}
        self._guard.validate(text, metadata=metadata)
        return _verdict(metadata)


def _verdict(metadata: dict[str, Any]) -> Verdict:
    verdict = metadata.get(VERDICT_KEY, PASS)
    assert isinstance(verdict, Verdict)
    return verdict
