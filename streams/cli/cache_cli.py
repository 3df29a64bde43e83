"""``streamgate cache stats|purge|eval|bench``: the cache's operator commands."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import redis.asyncio as aioredis

from gateway.cache_admin import known_tenants, purge, tenant_stats
from gateway.cache_policy import EmbeddingModel
from gateway.settings import Settings

DEFAULT_PAIRS = Path("data/cache_eval/heldout.jsonl")


def models() -> tuple[str, ...]:
    """The configurable embedding models (without importing the embedder at start-up)."""
    return get_args(EmbeddingModel)


def add_parser(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Register the ``cache`` command and its subcommands (``command`` makes a subcommand parser)."""
    cache = command("cache", "cache statistics, purges, semantic-cache evaluation and benchmark")
    commands = cache.add_subparsers(dest="cache_command", required=True)

    def subcommand(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help, description=help, formatter_class=argparse.ArgumentDefaultsHelpFormatter
        )

    stats = subcommand("stats", "entries, hit rates by kind and saved cost (per tenant)")
    stats.add_argument("--tenant", default=None, help="one tenant (default: every tenant with counters)")
    drop = subcommand("purge", "delete a tenant's cached answers (of one model, or all)")
    drop.add_argument("--tenant", required=True, help="the tenant whose answers are deleted")
    drop.add_argument("--model", default=None, help="catalog model name (default: every model)")
    evaluate = subcommand("eval", "semantic-hit precision and recall on labelled pairs {a, b, same}")
    evaluate.add_argument("pairs", type=Path, nargs="+", help="JSONL files of {a, b, same} pairs (taken together)")
    evaluate.add_argument("--threshold", type=float, default=None, help="default: [cache] semantic_threshold")
    evaluate.add_argument("--restructured", type=float, default=None, help="default: [cache] restructured_threshold")
    evaluate.add_argument(
        "--compose", action="store_true", help="add each file's derived pairs: reworded paraphrases and traps"
    )
    bench = subcommand("bench", "semantic lookup latency with N entries in one tenant's index")
    bench.add_argument("--entries", type=int, default=10_000, help="entries in the tenant's index")
    bench.add_argument("--queries", type=int, default=300, help="lookups timed")
    bench.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="questions to index and to look up")
    for each in (evaluate, bench):
        each.add_argument("--model", choices=models(), default=None, help="default: [cache] semantic_model")
    for each in commands.choices.values():  # `streamgate cache stats --config x.toml` as well
        each.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch a ``cache`` subcommand."""
    command: str = args.cache_command
    if command in ("stats", "purge"):
        return asyncio.run(_with_redis(args, settings))
    from gateway.semantic.embedder import MiniLMEmbedder

    options = settings.cache
    model = args.model or options.semantic_model
    embedder = MiniLMEmbedder(model=model, max_tokens=options.semantic_max_tokens, threads=options.embed_threads)
    threshold = args.threshold if command == "eval" and args.threshold is not None else options.semantic_threshold
    if command == "eval":
        from gateway.semantic.evaluate import report

        restructured = args.restructured if args.restructured is not None else options.restructured_threshold
        print(report(args.pairs, embedder, threshold=threshold, restructured_threshold=restructured,
                     compose=args.compose))  # fmt: skip
        return 0
    from gateway.semantic.benchmark import run as run_bench

    print(run_bench(args.pairs, embedder, entries=args.entries, queries=args.queries, threshold=threshold,
                    restructured_threshold=options.restructured_threshold))  # fmt: skip
    return 0


async def _with_redis(args: argparse.Namespace, settings: Settings) -> int:
    client = aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=2.0)
    try:
        if args.cache_command == "purge":
            removed = await purge(client, args.tenant, args.model)
            print(json.dumps({"tenant": args.tenant, "model": args.model, "removed": removed}))
            return 0
        tenants = [args.tenant] if args.tenant else await known_tenants(client)
        print(json.dumps([await tenant_stats(client, t) for t in tenants], indent=2))
        return 0
    finally:
        await client.aclose()
