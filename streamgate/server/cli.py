"""``streamgate serve`` and ``streamgate keys add``, registered with the command line as entry-point plugins."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from gateway.errors import BrokerError
from gateway.settings import Settings

DEV_STATE = Path(".streamgate/dev.json")


def bootstrap_for_serve(settings: Settings, explicit: str | None) -> str:
    """``--bootstrap``, else ``KAFKA_BOOTSTRAP_SERVERS``, else the broker of a ``streamgate dev`` run here."""
    if explicit or settings.kafka_bootstrap_servers:
        return str(explicit or settings.kafka_bootstrap_servers)
    if DEV_STATE.is_file():
        return str(json.loads(DEV_STATE.read_text())["kafka_bootstrap_servers"])
    raise BrokerError("no broker: set KAFKA_BOOTSTRAP_SERVERS or start `streamgate dev` in this directory")


class ServeCommand:
    """Runs the HTTP front door."""

    name = "serve"
    help = "serve the OpenAI/Anthropic-compatible HTTP API over the gateway"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """``--host``, ``--port``, ``--keys``, ``--bootstrap``."""
        parser.add_argument("--host", default=None, help="address to bind (unset: settings serve.host)")
        parser.add_argument("--port", type=int, default=None, help="port to listen on (unset: settings serve.port)")
        parser.add_argument("--keys", type=Path, default=None, help="API key file (unset: settings serve.keys_file)")
        parser.add_argument("--bootstrap", default=None, help="Kafka bootstrap servers (unset: as other commands)")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        """Load the keys, build the app and serve until interrupted."""
        import uvicorn

        from streamgate import kafka
        from streamgate.server.app import create_app
        from streamgate.server.keys import KeyRing

        overrides = {"host": args.host, "port": args.port, "keys_file": args.keys}
        serve = settings.serve.model_copy(update={k: v for k, v in overrides.items() if v is not None})
        settings = settings.model_copy(update={"serve": serve})
        keys = KeyRing(serve.keys_file)
        bootstrap = bootstrap_for_serve(settings, args.bootstrap)
        asyncio.run(kafka.probe(settings, bootstrap))  # an unreachable broker is one error line, not a traceback
        app = create_app(settings, keys, bootstrap=bootstrap)
        loop = "uvloop" if settings.event_loop == "uvloop" else "asyncio"
        uvicorn.run(app, host=serve.host, port=serve.port, loop=loop, log_level="warning", timeout_graceful_shutdown=10)
        return 0


class KeysCommand:
    """Manages the front door's API keys."""

    name = "keys"
    help = "manage API keys of `streamgate serve` (the key file stores only their SHA-256)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """``add --tenant T --user U [--keys FILE]``."""
        sub = parser.add_subparsers(dest="keys_command", required=True)
        add = sub.add_parser("add", help="create a key for a tenant and user and print it once")
        add.add_argument("--tenant", required=True, help="tenant the key's requests are charged to")
        add.add_argument("--user", required=True, help="user within the tenant")
        add.add_argument("--keys", type=Path, default=None, help="key file (unset: settings serve.keys_file)")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        """Append a new key's digest to the file and print the key."""
        from streamgate.server.keys import add_key

        path = args.keys or settings.serve.keys_file
        key = add_key(path, args.tenant, args.user)
        print(key)
        print(f"(added to {path} as its SHA-256 only; this is the only time the key is shown)", file=sys.stderr)
        return 0


SERVE = ServeCommand()
KEYS = KeysCommand()
