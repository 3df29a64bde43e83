"""``streamgate guards train | eval | bench | export-tests``, registered as an entry-point command plugin."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.settings import Settings


class GuardsCommand:
    """Train, evaluate and benchmark the content guards."""

    name = "guards"
    help = "train, evaluate and benchmark the content guards"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The action, its path and options."""
        parser.add_argument("action", choices=["train", "eval", "bench", "export-tests"], help="what to do")
        parser.add_argument("path", nargs="?", type=Path, help="eval: FILE.jsonl; export-tests: DIR; train: output")
        parser.add_argument("--guard", default="injection", choices=["injection", "pii"], help="eval: which guard")
        parser.add_argument("--threshold", type=float, default=None, help="eval: default, the model's calibrated")
        parser.add_argument("--requests", type=int, default=2000, help="bench: prompts to time")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        """Run the action (imports the guards only now)."""
        from guards.commands import run_guards_command

        return run_guards_command(settings, args.action, args.path, args)


COMMAND = GuardsCommand()
