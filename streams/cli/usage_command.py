"""``streamgate usage``: a report over the usage topic (table, CSV or JSON; optionally HTML and repriced)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gateway.kafka_security import KafkaTarget
from gateway.settings import Settings
from gateway.usage_report.build import build_report, parse_by
from gateway.usage_report.html import render_html
from gateway.usage_report.render import render
from gateway.usage_report.timerange import time_range

USAGE_HELP = "report requests, tokens, cost and latency from the usage topic"


def add_usage_arguments(usage: argparse.ArgumentParser) -> None:
    """The ``usage`` subcommand's flags."""
    usage.add_argument("--since", default=None, help="relative start, e.g. 30m, 1h, 7d")
    usage.add_argument("--from", dest="start", default=None, help="start: ISO 8601 (UTC) or epoch ms")
    usage.add_argument("--to", dest="end", default=None, help="end (exclusive): ISO 8601 (UTC) or epoch ms")
    usage.add_argument("--by", default="tenant,model", help="group by any of tenant,user,task,model,lane")
    usage.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    usage.add_argument("--reprice", action="store_true", help="recompute every cost at the current price table")
    usage.add_argument("--html", type=Path, default=None, help="also write a self-contained HTML report here")
    usage.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def run_usage(settings: Settings, bootstrap: Callable[[], KafkaTarget], args: argparse.Namespace) -> int:
    """Check the flags, then read, aggregate and print the report (``bootstrap`` finds the broker)."""
    from streams.cli.usage_reader import read_usage  # aiokafka and tqdm only when the command runs

    now_ms = int(time.time() * 1000)
    window = time_range(args.since, args.start, args.end, now_ms)
    by = parse_by(args.by)
    events, bad = asyncio.run(read_usage(bootstrap(), settings.topics.usage, window, progress=not args.no_progress))
    if bad:
        print(f"streamgate usage: skipped {bad} records that are not usage events", file=sys.stderr)
    report, charts = build_report(events, by, window, reprice_with=settings.models if args.reprice else None)
    print(render(report, args.format))
    if args.html is not None:
        title = f"streamgate usage by {', '.join(by)}"
        args.html.write_text(render_html(report, charts, title=title, generated_ms=now_ms), encoding="utf-8")
        print(f"wrote {args.html}", file=sys.stderr)
    return 0
