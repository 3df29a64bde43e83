"""Refuse a request whose ``response_format`` is not a valid JSON schema: no provider call could satisfy it."""

from __future__ import annotations

from dataclasses import dataclass

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from guards.base import PASS, Block, GuardInput, GuardStage, Verdict
from schemas.codes import ErrorCode


@dataclass(frozen=True, slots=True)
class ResponseFormatGuard:
    """Checks ``response_format`` against the JSON Schema 2020-12 meta-schema."""

    name: str = "response_format"
    stage: GuardStage = "admission"

    def check(self, subject: GuardInput) -> Verdict:
        """Block an invalid schema with ``invalid_request``."""
        schema = subject.request.response_format
        if schema is None:
            return PASS
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "<root>"
            return Verdict.blocking(
                Block(
                    code=ErrorCode.INVALID_REQUEST,
                    message=f"response_format is not a valid JSON schema at {where}: {exc.message}",
                    rule="schema",
                )
            )
        return PASS
