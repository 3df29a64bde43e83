"""JSON Schema export of the public contract (``streamgate schema``; committed under ``schemas/json/``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.alert import BudgetAlert
from schemas.chunk import StreamChunk
from schemas.dead_letter import DeadLetter
from schemas.request import LLMRequest
from schemas.result import LLMResult
from schemas.usage import UsageEvent

CONTRACT: dict[str, type[BaseModel]] = {
    "request": LLMRequest,
    "result": LLMResult,
    "chunk": StreamChunk,
    "usage": UsageEvent,
    "dead_letter": DeadLetter,
    "alert": BudgetAlert,
}
JSON_DIR = Path(__file__).parent / "json"


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one contract model (a name of :data:`CONTRACT`, e.g. ``request`` or ``alert``)."""
    model = CONTRACT[name]
    schema = model.model_json_schema(mode="serialization" if name != "request" else "validation")
    schema["$id"] = f"https://streamgate.dev/schemas/v1/{name}.json"
    return schema


def render(name: str) -> str:
    """The schema as stable, pretty JSON text."""
    return json.dumps(json_schema(name), indent=2, sort_keys=True) + "\n"


def write_all(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema to ``directory`` and return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in CONTRACT:
        path = directory / f"{name}.json"
        path.write_text(render(name))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_all():
        print(written)
