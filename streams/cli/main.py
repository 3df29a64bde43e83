"""The ``streamgate`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from gateway.errors import StreamgateError
from gateway.settings import Settings, load_settings
from streams.cli import cache_cli, plugins

DEV_STATE = Path(".streamgate/dev.json")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamgate", description="Kafka-native LLM gateway")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML settings file (default: $STREAMGATE_CONFIG; env vars still override)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="run a gateway worker against KAFKA_BOOTSTRAP_SERVERS")
    worker.add_argument("--loglevel", default="info", choices=["crit", "error", "warn", "info", "debug"])
    dev = sub.add_parser("dev", help="broker + simulator + worker on this machine")
    dev.add_argument("--workers", type=int, default=1)
    sim = sub.add_parser("simulate", help="run the OpenAI/Anthropic provider simulator")
    sim.add_argument("--host", default=None)
    sim.add_argument("--port", type=int, default=None)
    sim.add_argument("--latency-ms", type=float, default=None)
    send = sub.add_parser("send", help="publish one request and print its result")
    send.add_argument("text")
    send.add_argument("--tenant", default="demo")
    send.add_argument("--user", default="cli")
    send.add_argument("--model", default=None)
    send.add_argument("--schema", type=Path, default=None, help="JSON schema file for the output")
    send.add_argument("--timeout", type=float, default=60.0)
    sub.add_parser("demo", help="start everything, run a representative batch, print results and costs")
    schema = sub.add_parser("schema", help="print the wire contract as JSON Schema")
    schema.add_argument("name", nargs="?", default=None, help="request | result | usage | dead_letter")
    sub.add_parser("topology", help="print the pipeline's stages and edges")
    limits = sub.add_parser("limits", help="show a tenant's (or user's) usage against its limits")
    limits.add_argument("tenant")
    limits.add_argument("user", nargs="?", default=None)
    status = sub.add_parser("status", help="show workers' in-flight counts, partitions and circuit breakers")
    status.add_argument("--url", action="append", default=None, help="worker web URL (default: the dev stack's)")
    replay = sub.add_parser("replay", help="re-run a time range of requests against a variant, into shadow topics")
    replay.add_argument("--since", default=None, help="a duration back from now: 30s, 15m, 2h, 1d")
    replay.add_argument("--from", dest="start", default=None, help="start: epoch ms or ISO 8601 (UTC if no zone)")
    replay.add_argument("--to", dest="end", default=None, help="end (default now)")
    replay.add_argument("--prompt-version", default=None, help="render registry prompts at this version")
    replay.add_argument("--model", default=None, help="send every request to this model or alias")
    replay.add_argument("--task", default=None, help="route every request as this task (its tier or cascade)")
    replay.add_argument("--shadow-topic", default=None, help="shadow results topic (default <results>.shadow)")
    replay.add_argument("--shadow-usage-topic", default=None, help="shadow usage topic (default <usage>.shadow)")
    replay.add_argument("--concurrency", type=int, default=16)
    for plugin in plugins.discover().values():
        plugin.add_arguments(sub.add_parser(plugin.name, help=plugin.help))
    cache_cli.add_parser(sub)
    for each in sub.choices.values():  # after the subcommand too; SUPPRESS keeps a value given before it
        each.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file")
    return parser


def _bootstrap(settings: Settings) -> str:
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    if DEV_STATE.is_file():
        return str(json.loads(DEV_STATE.read_text())["kafka_bootstrap_servers"])
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
    import streams.cli.commands as commands

    command: str = args.command
    if command == "worker":
        from streams.runtime.worker import run_worker

        run_worker(settings, loglevel=args.loglevel)
        return 0
    if command == "simulate":
        from gateway.event_loop import install_event_loop
        from gateway.simulator.config import SimulatorConfig
        from gateway.simulator.server import run

        overrides = {} if args.latency_ms is None else {"latency_ms": args.latency_ms}
        sim = settings.simulator
        install_event_loop(settings.event_loop)
        run(args.host or sim.host, args.port or sim.port, SimulatorConfig.from_settings(sim, **overrides))
        return 0
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
    if command == "status":
        return commands.status(DEV_STATE, args.url)
    if command == "replay":
        from streams.cli.replay import replay_command

        return asyncio.run(replay_command(settings, _bootstrap(settings), args, dev_state=DEV_STATE))
    if command == "cache":
        return cache_cli.run(args, settings)
    found = plugins.discover().get(command)
    if found is not None:
        return found.run(args, settings)
    raise AssertionError(command)


if __name__ == "__main__":
    sys.exit(main())
