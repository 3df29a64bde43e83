"""Table writes on behalf of a Kafka event, from code that is not iterating that event's stream.

Faust sends a table's changelog record to the partition of ``current_event()``. The stages after screening run in
other actors (their current event is a channel event), so a stage that settles a request in place must name the
admit event it is settling for: :func:`acting_for` makes it the current event for the duration of a block.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any

from faust.streams import _current_event


@contextlib.contextmanager
def acting_for(event: Any) -> Iterator[None]:
    """Make ``event`` Faust's current event inside the block (restored afterwards)."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
