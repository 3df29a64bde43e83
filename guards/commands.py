"""The ``streamgate guards train | eval | bench | export-tests`` commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gateway.errors import ConfigError
from gateway.settings import Settings


def run_guards_command(settings: Settings, action: str, path: Path | None, args: argparse.Namespace) -> int:
    """Run one guards command; prints its figures."""
    if action == "train":
        from guards.injection.train import main as train_main

        return train_main(["--output", str(path)] if path else [])
    if action == "eval":
        from guards.evaluate import evaluate, render

        if path is None:
            raise ConfigError("usage: streamgate guards eval FILE.jsonl [--guard injection|pii] [--threshold T]")
        threshold = args.threshold if args.threshold is not None else settings.guards.injection_threshold
        result = evaluate(path, args.guard, threshold)
        print(render(result))
        print(json.dumps(result))
        return 0
    if action == "bench":
        from guards.benchmark import run_guard_bench

        print(json.dumps(run_guard_bench(settings, requests=args.requests), indent=2))
        return 0
    if action == "export-tests":
        from guards.export_tests import export_tests

        for written in export_tests(path or Path("guard-tests")):
            print(written)
        return 0
    raise ConfigError(f"unknown guards action {action!r}")
