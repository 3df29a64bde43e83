"""The SDK's exceptions, in the one exception tree (:mod:`gateway.errors`).

::

    StreamgateError
    ├── ClientClosed        the client is not started or already closed
    ├── InvalidClientRequest  the request cannot be built (code invalid_request); nothing was published
    ├── BrokerError         (gateway.errors) the broker cannot be reached or refused the request record
    └── DeadlineExceeded
        └── ResultTimeout   no result reached the client in time (code deadline_exceeded)
"""

from __future__ import annotations

from gateway.errors import DeadlineExceeded, StreamgateError
from schemas.codes import ErrorCode


class ClientClosed(StreamgateError):
    """The client is not started (use ``async with``) or was closed."""


class InvalidClientRequest(StreamgateError):
    """The arguments do not make a valid request; nothing was published."""

    code = ErrorCode.INVALID_REQUEST


class ResultTimeout(DeadlineExceeded):
    """No result for ``request_id`` reached the client within its timeout (the request's deadline plus a grace)."""

    def __init__(self, request_id: str, timeout_s: float) -> None:
        super().__init__(f"no result for {request_id} within {timeout_s:g} s")
        self.request_id = request_id
