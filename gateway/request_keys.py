"""The one key of a request inside the gateway: its tenant and its id.

Request ids are the clients' choice, so two tenants may pick the same one; every store that remembers a request
(the ledger table, the completion store and call claims, the batch lane) keys it by both, tenant first so that a
table key lives in the tenant's partition.
"""

from __future__ import annotations


def request_key(tenant: str, request_id: str) -> str:
    """The gateway-wide key of request ``request_id`` of ``tenant``."""
    return f"{tenant}|{request_id}"
