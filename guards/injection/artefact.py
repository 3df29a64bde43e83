"""Reading and writing the injection artefacts: gzip-compressed JSON documents, never pickle."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError


def write_document(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` with deterministic bytes (compact JSON, no timestamp in the gzip header)."""
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def read_document(path: Path, what: str) -> dict[str, Any]:
    """The JSON object stored at ``path``; a ``ConfigError`` naming ``what`` when it cannot be read."""
    try:
        document = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"cannot read the {what} {path}: not a JSON object")
    return document
