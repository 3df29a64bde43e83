"""Handing the C heap's free pages back to the operating system once start-up is over.

Start-up builds and drops a lot of short-lived objects (module code, the vocabularies read from JSON and text files
before they become arrays and Rust tables). glibc's ``malloc`` keeps the freed pages inside its heap, counted in the
worker's resident size, unless they sit at its very top; ``malloc_trim(0)`` releases every free page of every arena.
"""

from __future__ import annotations

import ctypes
import gc


def release_free_heap() -> bool:
    """Collect garbage, then ask glibc to return free heap pages to the OS; ``False`` where there is no glibc
    (e.g. musl or macOS: nothing is done)."""
    gc.collect()
    try:  # the process's own symbols: libc's included, found without searching the file system
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim(0)
    return True
