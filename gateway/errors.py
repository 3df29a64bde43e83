"""The one exception tree of streamgate.

Every error raised by streamgate code derives from :class:`StreamgateError` and carries what a caller needs to
decide what to do next: a stable ``code`` (see :class:`schemas.codes.ErrorCode`), whether the same call may be
``retryable``, and whether the request may ``allow_fallback`` to another model or provider.

::

    StreamgateError
    ├── ConfigError                  settings or policy files are wrong (raised at start-up)
    ├── FaustPatchError              faust-streaming/aiokafka is not the version our corrections fit (start-up)
    ├── BrokerError                  the Kafka broker cannot be started, reached or set up
    ├── InvalidEvent                 an input event is not a valid request (agents.intake)
    ├── PromptError                  a request's registry prompt cannot be rendered (gateway.prompts.registry)
    ├── AllLinksFailed               every link of the fallback chain failed (gateway.resilience.errors)
    ├── DeadlineExceeded             the request's deadline passed
    │   └── ChainDeadlineExceeded    ... while the fallback chain was worked through (gateway.resilience.errors)
    └── ProviderError                a provider call failed
        ├── ProviderTimeout          per-attempt timeout or connection timeout      retryable, fallback
        ├── ProviderConnectionError  connection refused/reset                        retryable, fallback
        ├── ProviderRateLimited      HTTP 429 (carries retry_after_s)               retryable, fallback
        ├── ProviderUnavailable      HTTP 5xx                                        retryable, fallback
        ├── ProviderAuthError        HTTP 401/403                                    fallback only
        ├── ProviderBadRequest       other HTTP 4xx: our request is wrong           neither
        └── ProviderBadResponse      the body could not be understood               retryable, fallback

The classes live beside the code that raises them (named in brackets above) and import their base from here;
``tests/test_error_tree.py`` checks that every exception class in our packages belongs to this tree.
"""

from __future__ import annotations

from schemas.codes import ErrorCode


class StreamgateError(Exception):
    """Root of every streamgate error.

    Subclasses set the class defaults; instances may override them.
    """

    code: ErrorCode = ErrorCode.INTERNAL_ERROR
    retryable: bool = False
    allow_fallback: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        retryable: bool | None = None,
        allow_fallback: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        if allow_fallback is not None:
            self.allow_fallback = allow_fallback


class ConfigError(StreamgateError):
    """Settings or policy configuration is invalid."""


class FaustPatchError(StreamgateError):
    """The installed faust-streaming or aiokafka is not the one streams.faust_patches was written for."""


class BrokerError(StreamgateError):
    """The Kafka broker could not be started, reached or set up (topics)."""


class DeadlineExceeded(StreamgateError):
    """The request's deadline passed before it could be served."""

    code = ErrorCode.DEADLINE_EXCEEDED


class ProviderError(StreamgateError):
    """A provider call failed; ``provider``/``model`` name the link that failed."""

    code = ErrorCode.PROVIDER_UNAVAILABLE
    retryable = True
    allow_fallback = True

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.model = model
        self.status = status
        self.retry_after_s = retry_after_s


class ProviderTimeout(ProviderError):
    """The attempt did not finish within its timeout."""

    code = ErrorCode.PROVIDER_TIMEOUT


class ProviderConnectionError(ProviderError):
    """The provider could not be reached."""

    code = ErrorCode.PROVIDER_UNAVAILABLE


class ProviderRateLimited(ProviderError):
    """The provider answered 429; ``retry_after_s`` carries its Retry-After when given."""

    code = ErrorCode.PROVIDER_RATE_LIMITED


class ProviderUnavailable(ProviderError):
    """The provider answered with a 5xx status."""

    code = ErrorCode.PROVIDER_UNAVAILABLE


class ProviderAuthError(ProviderError):
    """The provider refused our credentials; another provider may still serve the request."""

    code = ErrorCode.PROVIDER_AUTH
    retryable = False
    allow_fallback = True


class ProviderBadRequest(ProviderError):
    """The provider rejected the request itself (4xx other than 408/409/429): retrying cannot help."""

    code = ErrorCode.PROVIDER_BAD_REQUEST
    retryable = False
    allow_fallback = False


class ProviderBadResponse(ProviderError):
    """The provider's answer could not be parsed."""

    code = ErrorCode.PROVIDER_BAD_RESPONSE
