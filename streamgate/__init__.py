"""The streamgate client SDK: request/reply over Kafka (``from streamgate import Client``), and the HTTP front door
(``streamgate serve``, :mod:`streamgate.server`).

>>> async with Client(tenant="acme", user="alice") as client:
...     result = await client.complete("Hello!", model="fast")
"""

from schemas.request import LLMRequest
from schemas.result import LLMResult
from streamgate.client import Client, Pending
from streamgate.errors import ClientClosed, InvalidClientRequest, ResultTimeout
from streamgate.replies import Chunk
from streamgate.sync import SyncClient

__all__ = [
    "Chunk",
    "Client",
    "ClientClosed",
    "InvalidClientRequest",
    "LLMRequest",
    "LLMResult",
    "Pending",
    "ResultTimeout",
    "SyncClient",
]
