"""How a correction replaces a Faust method: remembering upstream's, so installing again never wraps twice.

Every replacement is marked and keeps the method it replaced as ``__wrapped__``. :func:`upstream` unwraps our
marked replacements and returns what the library itself (or whoever replaced it, not us) has there; installing
again replaces that, so an install is idempotent and a foreign replacement is seen by the gate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MARK = "__streamgate_faust_patch__"


def upstream(owner: type, name: str) -> Any:
    """``owner.name`` as it is without our corrections (looked up in ``owner``'s own namespace)."""
    method = owner.__dict__[name]
    while getattr(method, _MARK, False):
        method = method.__wrapped__
    return method


def installed(owner: type, name: str) -> bool:
    """Whether ``owner.name`` is one of our replacements right now."""
    return bool(getattr(owner.__dict__.get(name), _MARK, False))


def replace(owner: type, name: str, make: Callable[[Any], Callable[..., Any]]) -> None:
    """Set ``owner.name`` to ``make(upstream's method)``, marked as ours."""
    original = upstream(owner, name)
    replacement = make(original)
    replacement.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(replacement, _MARK, True)
    setattr(owner, name, replacement)


def restore(owner: type, name: str) -> None:
    """Put upstream's ``owner.name`` back (a no-op when none of ours is installed)."""
    setattr(owner, name, upstream(owner, name))
