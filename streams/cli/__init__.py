"""The ``streamgate`` command line: :func:`main` parses arguments and dispatches to the command modules."""

from streams.cli.main import main

__all__ = ["main"]
