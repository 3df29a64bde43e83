"""Subcommands that packages outside the runtime add to ``streamgate`` (entry-point group ``streamgate.commands``).

The benchmark suite registers ``streamgate bench`` this way (``bench.cli:COMMAND`` in ``pyproject.toml``), so the
runtime never imports :mod:`bench` while the command line still reaches it.
"""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from typing import Protocol

from gateway.settings import Settings

GROUP = "streamgate.commands"


class CommandPlugin(Protocol):
    """One subcommand: its name and help, its arguments, and what it runs."""

    name: str
    help: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the subcommand's arguments on its own parser."""
        ...

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        """Run the subcommand; the return value is the exit status."""
        ...


def discover() -> dict[str, CommandPlugin]:
    """Every installed plugin by command name (the modules are imported here; keep them light)."""
    found: dict[str, CommandPlugin] = {}
    for entry in entry_points(group=GROUP):
        plugin: CommandPlugin = entry.load()
        found[plugin.name] = plugin
    return found
