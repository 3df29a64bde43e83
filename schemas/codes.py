"""Stable error and rejection codes carried in ``result.error.code``.

These strings are part of the wire contract: clients branch on them, so a code is never renamed or reused.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every code a result's ``error.code`` may carry."""

    # rejected: the gateway refused the request before calling a provider
    INVALID_REQUEST = "invalid_request"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    GUARDRAIL_BLOCKED = "guardrail_blocked"
    RATE_LIMITED = "rate_limited"
    BUDGET_EXHAUSTED = "budget_exhausted"
    MODEL_NOT_FOUND = "model_not_found"
    MODEL_NOT_ALLOWED = "model_not_allowed"
    CONTEXT_TOO_LONG = "context_too_long"
    PRICE_UNKNOWN = "price_unknown"
    UNAUTHENTICATED = "unauthenticated"  # tenant binding on: no valid signature of the named tenant
    TENANT_FORBIDDEN = "tenant_forbidden"  # tenant binding on: signed by one tenant, naming another
    # error: the request was admitted but could not be served
    DEADLINE_EXCEEDED = "deadline_exceeded"
    PROVIDER_TIMEOUT = "provider_timeout"
    PROVIDER_RATE_LIMITED = "provider_rate_limited"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    PROVIDER_BAD_REQUEST = "provider_bad_request"
    PROVIDER_AUTH = "provider_auth"
    PROVIDER_BAD_RESPONSE = "provider_bad_response"
    CIRCUIT_OPEN = "circuit_open"
    ALL_PROVIDERS_FAILED = "all_providers_failed"
    OUTPUT_INVALID = "output_invalid"
    BATCH_FAILED = "batch_failed"  # the batch job failed or expired the request and its deadline left no time
    INTERNAL_ERROR = "internal_error"
