"""A loopback port nothing listens on, for "the service is down" tests."""

from __future__ import annotations

import socket


def closed_port() -> int:
    """A port that was free a moment ago: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_redis_url() -> str:
    """A Redis URL on which every connection is refused."""
    return f"redis://127.0.0.1:{closed_port()}/0"
