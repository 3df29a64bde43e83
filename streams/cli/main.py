"""The ``streamgate`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import ValidationError

from gateway.errors import StreamgateError
from gateway.kafka_security import KafkaConnection
from gateway.settings import Settings, load_settings
from streams.cli import batches_cli, cache_cli, plugins
from streams.cli.usage_command import USAGE_HELP, add_usage_arguments

DEV_STATE = Path(".streamgate/dev.json")


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="streamgate", description="Kafka-native LLM gateway", formatter_class=formatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML settings file; when absent, $STREAMGATE_CONFIG (env vars still override)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=formatter)

    worker = command("worker", "run a gateway worker against KAFKA_BOOTSTRAP_SERVERS")
    worker.add_argument(
        "--loglevel", default="info", choices=["crit", "error", "warn", "info", "debug"], help="Faust log level"
    )
    dev = command("dev", "broker + simulator + worker on this machine")
    dev.add_argument("--workers", type=int, default=1, help="worker subprocesses to start")
    sim = command("simulate", "run the OpenAI/Anthropic provider simulator")
    sim.add_argument("--host", default=None, help="address to bind (unset: settings simulator.host)")
    sim.add_argument("--port", type=int, default=None, help="port to listen on (unset: settings simulator.port)")
    sim.add_argument(
        "--latency-ms", type=float, default=None, help="added latency per call (unset: settings simulator.latency_ms)"
    )
    send = command("send", "publish one request and print its result")
    send.add_argument("text", help="the user message")
    send.add_argument("--tenant", default="demo", help="tenant charged for the request")
    send.add_argument("--user", default="cli", help="user within the tenant")
    send.add_argument("--model", default=None, help="model to ask for (unset: the configured default route)")
    send.add_argument("--schema", type=Path, default=None, help="JSON schema file for the output")
    send.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the result")
    command("demo", "start everything, run a representative batch, print results and costs")
    schema = command("schema", "print the wire contract as JSON Schema")
    schema.add_argument("name", nargs="?", default=None, help="request | result | usage | dead_letter (unset: all)")
    command("topology", "print the pipeline's stages and edges")
    limits = command("limits", "show a tenant's (or user's) usage against its limits")
    limits.add_argument("tenant", help="tenant to show")
    limits.add_argument("user", nargs="?", default=None, help="also show this user of the tenant")
    status = command("status", "show workers' in-flight counts, partitions and circuit breakers")
    status.add_argument(
        "--url", action="append", default=None, help="worker web URL, repeatable (unset: the dev stack's workers)"
    )
    replay = command("replay", "re-run a time range of requests against a variant, into shadow topics")
    replay.add_argument("--since", default=None, help="a duration back from now: 30s, 15m, 2h, 1d")
    replay.add_argument("--from", dest="start", default=None, help="start: epoch ms or ISO 8601 (UTC if no zone)")
    replay.add_argument("--to", dest="end", default=None, help="end (default now)")
    replay.add_argument("--prompt-version", default=None, help="render registry prompts at this version")
    replay.add_argument("--model", default=None, help="send every request to this model or alias")
    replay.add_argument("--task", default=None, help="route every request as this task (its tier or cascade)")
    replay.add_argument("--shadow-topic", default=None, help="shadow results topic (default <results>.shadow)")
    replay.add_argument("--shadow-usage-topic", default=None, help="shadow usage topic (default <usage>.shadow)")
    replay.add_argument("--concurrency", type=int, default=16, help="requests replayed at once")
    add_usage_arguments(command("usage", USAGE_HELP))
    tenant_key = command("tenant-key", "create a signing key for a tenant (tenant binding) and print its config")
    tenant_key.add_argument("tenant", help="the tenant the key signs for")
    for plugin in plugins.discover().values():
        plugin.add_arguments(command(plugin.name, plugin.help))
    cache_cli.add_parser(command)
    batches_cli.add_parser(command)
    for each in sub.choices.values():  # after the subcommand too; SUPPRESS keeps a value given before it
        each.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file")
    return parser


def _version() -> str:
    """The installed distribution's version ("unknown" when run from a checkout that was never installed)."""
    try:
        return version("streamgate")
    except PackageNotFoundError:
        return "unknown"


def _bootstrap(settings: Settings) -> KafkaConnection:
    """The configured broker with ``[kafka]``'s security, else the running dev stack's (PLAINTEXT when embedded)."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_connection()
    if DEV_STATE.is_file():
        state = json.loads(DEV_STATE.read_text())
        servers = str(state["kafka_bootstrap_servers"])
        return KafkaConnection(servers) if state.get("embedded_broker") else settings.kafka_connection(servers)
    raise StreamgateError("no broker: set KAFKA_BOOTSTRAP_SERVERS or start `streamgate dev` in this directory")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``streamgate`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        return _dispatch(args, settings)
    except StreamgateError as exc:
        print(f"streamgate: {exc.message}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"streamgate: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _one_line(exc: ValidationError) -> str:
    """Every error of a pydantic validation on one line: ``where: what; ...``."""
    return f"invalid {exc.title}: " + "; ".join(
        f"{'.'.join(map(str, error['loc'])) or 'value'}: {error['msg']}" for error in exc.errors()
    )


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command: str = args.command
    if command == "usage":  # before importing the other commands: they load the worker and both provider SDKs
        from streams.cli.usage_command import run_usage

        return run_usage(settings, lambda: _bootstrap(settings), args)
    found = plugins.discover().get(command)  # also before them: `serve` and `keys` need neither
    if found is not None:
        return found.run(args, settings)
    # The simulator and the worker before them too: `streams.cli.commands` loads the dev stack, both provider SDKs
    # and the semantic cache's NLP (spaCy); that took 21 s on a loaded box, past the dev stack's 20 s wait for the
    # simulator's port (the chaos suite failed on it), and it lengthened every worker restart.
    if command == "simulate":
        from gateway.event_loop import install_event_loop
        from gateway.simulator.config import SimulatorConfig
        from gateway.simulator.server import run

        overrides = {} if args.latency_ms is None else {"latency_ms": args.latency_ms}
        sim = settings.simulator
        install_event_loop(settings.event_loop)
        run(args.host or sim.host, args.port or sim.port, SimulatorConfig.from_settings(sim, **overrides))
        return 0
    if command == "worker":
        from streams.runtime.worker import run_worker

        run_worker(settings, loglevel=args.loglevel)
        return 0
    import streams.cli.commands as commands

    if command == "dev":
        return commands.dev(settings, args.config, workers=args.workers, state_file=DEV_STATE)
    if command == "send":
        request = commands.cli_request(args)
        return asyncio.run(commands.send(settings, _bootstrap(settings), request, timeout_s=args.timeout))
    if command == "demo":
        from streams.devtools.demo import run_demo

        return run_demo(settings, args.config)
    if command == "schema":
        return commands.schema(args.name)
    if command == "topology":
        from streams.runtime.topology import describe

        print(describe())
        return 0
    if command == "limits":
        return asyncio.run(commands.limits(settings, _bootstrap(settings), args.tenant, args.user))
    if command == "tenant-key":
        return commands.tenant_key(args.tenant)
    if command == "status":
        return commands.status(DEV_STATE, args.url)
    if command == "replay":
        from streams.cli.replay import replay_command

        return asyncio.run(replay_command(settings, _bootstrap(settings), args, dev_state=DEV_STATE))
    if command == "cache":
        return cache_cli.run(args, settings)
    if command == "batches":
        return batches_cli.run(args, settings)
    raise AssertionError(command)


if __name__ == "__main__":
    sys.exit(main())
