"""``streamgate bench``, registered with the command line as an entry-point plugin (see :mod:`streams.cli.plugins`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.settings import Settings


class BenchCommand:
    """Runs the benchmark suite and prints a table (and JSON)."""

    name = "bench"
    help = "run the benchmark suite and print a table (and JSON)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """``--quick`` and ``--json FILE``."""
        parser.add_argument("--quick", action="store_true", help="fewer and shorter runs")
        parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON here")
        parser.add_argument(
            "--cpu",
            action="store_true",
            help="only measure worker CPU per request (cache misses, then hits) at --rate for --seconds each",
        )
        parser.add_argument("--rate", type=float, default=200.0, help="offered req/s of --cpu")
        parser.add_argument("--seconds", type=float, default=20.0, help="seconds per --cpu run (or --peers rate)")
        parser.add_argument(
            "--ttft",
            action="store_true",
            help="only measure time to first token of streamed answers: through the gateway vs the provider directly",
        )
        parser.add_argument("--requests", type=int, default=12, help="requests per --ttft row")
        parser.add_argument("--concurrency", type=int, default=1, help="--ttft requests in flight at once")
        parser.add_argument("--provider-ms", type=float, default=300.0, help="--ttft: simulator time to first byte")
        parser.add_argument("--delta-ms", type=float, default=40.0, help="--ttft: simulator pause between deltas")
        parser.add_argument(
            "--peers",
            action="store_true",
            help="streamgate and the LiteLLM proxy side by side at --rates (install it with `make bench-peers`)",
        )
        parser.add_argument(
            "--rates", default="100,200,300", help="comma-separated offered req/s of --peers (default 100,200,300)"
        )

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        """Start the stacks, run the scenarios, print the report."""
        if args.ttft:
            from bench.ttft import run_ttft

            return run_ttft(
                settings,
                requests=args.requests,
                concurrency=args.concurrency,
                provider_ms=args.provider_ms,
                delta_ms=args.delta_ms,
            )
        if args.cpu:
            from bench.cpu import run_cpu

            return run_cpu(settings, rate=args.rate, seconds=args.seconds, config_file=getattr(args, "config", None))
        if args.peers:
            from bench.peers import run_peers

            rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
            return run_peers(settings, rates=rates, seconds=args.seconds, config_file=getattr(args, "config", None))
        from bench.runner import run_bench  # heavy: only when the command runs

        return run_bench(settings, quick=args.quick, json_path=args.json)


COMMAND = BenchCommand()
