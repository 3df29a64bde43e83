"""TLS and SASL in front of a PLAINTEXT Kafka broker, for tests: the embedded Tansu 0.6.0 has neither working.

:class:`SecureProxy` listens on one port (TLS when given a server context), answers ``SaslHandshake`` and
``SaslAuthenticate`` itself when given users or tokens (PLAIN, SCRAM-SHA-256/512 through ``scramp``,
OAUTHBEARER), forwards ``ApiVersions`` before authentication and then relays bytes both ways to the broker.
Any other request before a successful authentication closes the connection, as a Kafka broker does; so does a
failed authentication, after its error answer. The broker must advertise the proxy's address (see
:class:`streams.devtools.embedded_broker.EmbeddedBroker`'s ``advertised``) so that clients come back through it.

It runs its own event loop in a thread, because the worker under test is a subprocess started by blocking code.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from scramp import ScramException, ScramMechanism

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, SASL_AUTHENTICATION_FAILED = 33, 34, 58


@dataclass
class SecureProxy:
    """A TLS-terminating, SASL-checking proxy on ``127.0.0.1:port`` in front of ``upstream`` (``host:port``)."""

    upstream: str
    port: int
    server_context: ssl.SSLContext | None = None
    users: dict[str, str] = field(default_factory=dict)  # SASL PLAIN and SCRAM users -> passwords
    mechanisms: tuple[str, ...] = ()  # what the handshake offers; () = no SASL at all
    tokens: frozenset[str] = frozenset()  # OAUTHBEARER tokens accepted
    counts: Counter[str] = field(default_factory=Counter)  # "connections", "tls", "auth:<mech>", "refused:<why>"
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[SecureProxy]:
        """Serve in a background thread while the block runs."""
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.server_context)
            )
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="secure-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._close)
            self._thread.join(10)

    def _close(self) -> None:
        assert self._server is not None and self._loop is not None
        self._server.close()
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.call_soon(self._loop.stop)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts["connections"] += 1
        if writer.get_extra_info("ssl_object") is not None:
            self.counts["tls"] += 1
        host, port = self.upstream.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        try:
            if not self.mechanisms or await self._authenticate(reader, writer, up_reader, up_writer):
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            for each in (writer, up_writer):
                each.close()

    async def _authenticate(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> bool:
        """Run the SASL exchange; True once the client is authenticated (then everything is relayed)."""
        mechanism: str | None = None
        exchange: _Exchange | None = None
        while True:
            frame = await _read_frame(reader)
            api_key, version, correlation = struct.unpack_from(">hhi", frame)
            body = frame[10 + max(0, struct.unpack_from(">h", frame, 8)[0]) :]  # after the client id
            if api_key == API_VERSIONS:
                up_writer.write(struct.pack(">i", len(frame)) + frame)
                answer = await _read_frame(up_reader)
                writer.write(struct.pack(">i", len(answer)) + answer)
            elif api_key == SASL_HANDSHAKE and version >= 1:
                mechanism = _read_string(body, 0)[0]
                known = mechanism in self.mechanisms
                offered = b"".join(_string(m) for m in self.mechanisms)
                reply = struct.pack(">hi", 0 if known else UNSUPPORTED_SASL_MECHANISM, len(self.mechanisms)) + offered
                _answer(writer, correlation, reply)
                if not known:
                    self.counts[f"refused:mechanism {mechanism}"] += 1
                    return False
                exchange = _Exchange(mechanism, self.users, self.tokens)
            elif api_key == SASL_AUTHENTICATE and exchange is not None and version <= 1:
                (size,) = struct.unpack_from(">i", body)
                challenge, done, error = exchange.step(body[4 : 4 + size])
                message = b"\xff\xff" if error is None else _string(error)  # a null string when all is well
                reply = struct.pack(">h", SASL_AUTHENTICATION_FAILED if error else 0) + message
                reply += struct.pack(">i", len(challenge)) + challenge
                if version == 1:
                    reply += struct.pack(">q", 0)  # session lifetime: no re-authentication asked
                _answer(writer, correlation, reply)
                if error is not None:
                    self.counts[f"refused:{mechanism} {error}"] += 1
                    return False
                if done:
                    self.counts[f"auth:{mechanism}"] += 1
                    return True
            else:  # anything else before authentication (e.g. a PLAINTEXT client's Metadata)
                self.counts[f"refused:api {api_key} before authentication"] += 1
                return False
            await writer.drain()


class _Exchange:
    """The server side of one SASL exchange: each step takes the client's bytes."""

    def __init__(self, mechanism: str, users: dict[str, str], tokens: frozenset[str]) -> None:
        self.mechanism = mechanism
        self.users = users
        self.tokens = tokens
        self._scram = None
        if mechanism.startswith("SCRAM-"):
            scram = ScramMechanism(mechanism)
            infos = {name: scram.make_auth_info(password, iteration_count=4096) for name, password in users.items()}
            self._scram = scram.make_server(lambda name: infos[name])

    def step(self, data: bytes) -> tuple[bytes, bool, str | None]:
        """(bytes to send back, whether the client is now authenticated, an error message or None)."""
        if self.mechanism == "PLAIN":
            _, user, password = data.decode().split("\0")
            ok = self.users.get(user) == password
            return b"", ok, None if ok else "bad user name or password"
        if self.mechanism == "OAUTHBEARER":
            fields = dict(part.split("=", 1) for part in data.decode().split("\x01") if "=" in part)
            ok = fields.get("auth", "").removeprefix("Bearer ") in self.tokens
            return b"", ok, None if ok else "token not accepted"
        assert self._scram is not None
        try:
            if self._scram.stage is None:  # client-first
                self._scram.set_client_first(data.decode())
                return self._scram.get_server_first().encode(), False, None
            self._scram.set_client_final(data.decode())
            return self._scram.get_server_final().encode(), True, None
        except (ScramException, KeyError) as exc:
            return b"", False, f"SCRAM failed: {type(exc).__name__}"


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(size)


def _answer(writer: asyncio.StreamWriter, correlation: int, body: bytes) -> None:
    payload = struct.pack(">i", correlation) + body  # response header v0: the SASL APIs are not flexible
    writer.write(struct.pack(">i", len(payload)) + payload)


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def _read_string(data: bytes, offset: int) -> tuple[str, int]:
    (size,) = struct.unpack_from(">h", data, offset)
    return data[offset + 2 : offset + 2 + size].decode(), offset + 2 + size


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        target.write(data)
        await target.drain()
    target.close()
