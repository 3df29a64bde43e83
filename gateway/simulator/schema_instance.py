"""Deterministic JSON instances for a JSON schema (the simulator's "structured output").

:func:`json_instance` walks a schema and builds a value that validates against it, drawing the free
choices (words, numbers, array lengths) from a seeded generator: the same schema and seed give the same value.

Supported: ``type`` (also as a list), ``object`` with ``properties``/``required``/``additionalProperties``,
``array`` with ``items``/``prefixItems``/``minItems``/``maxItems``, ``string`` with ``enum``/``const``/
``minLength``/``maxLength``/``format`` (date, date-time, time, email, uri, uuid; loosely),
``integer``/``number`` with ``minimum``/``maximum``/``exclusiveMinimum``/``exclusiveMaximum``/``multipleOf``,
``boolean``, ``null``,
``enum``, ``const``, ``anyOf``/``oneOf`` (first branch), ``allOf`` (shallow merge) and ``$ref`` to
``#/$defs/...`` or ``#/definitions/...``. ``pattern`` is not honoured.
"""

from __future__ import annotations

import math
import random
from typing import Any


def _vocab(words: str) -> tuple[str, ...]:
    return tuple(words.split())


_WORDS = _vocab(
    "amber beacon cedar delta ember falcon granite harbor indigo juniper kestrel lumen meadow nimbus orchid "
    "pepper quartz raven sierra tundra"
)
_MAX_DEPTH = 12


class _Builder:
    """One walk over one schema; holds the root (for ``$ref``) and the generator."""

    def __init__(self, root: Any, rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def build(self, schema: Any, depth: int) -> Any:
        """A value valid for ``schema``."""
        if schema is True or not isinstance(schema, dict):
            return self.word()
        if "$ref" in schema:
            return self.build(self.resolve(str(schema["$ref"])), depth + 1)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return self.build(schema[key][0], depth + 1)
        if schema.get("allOf"):
            return self.build(self.merge(schema), depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return self.build_typed(str(kind), schema, depth)

    def build_typed(self, kind: str, schema: dict[str, Any], depth: int) -> Any:
        """A value of JSON type ``kind`` within ``schema``'s constraints."""
        if kind == "object":
            return self.build_object(schema, depth)
        if kind == "array":
            return self.build_array(schema, depth)
        if kind == "integer":
            return self.build_number(schema, integer=True)
        if kind == "number":
            return self.build_number(schema, integer=False)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.build_string(schema)

    def build_object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        """All declared properties (only required ones past the depth limit)."""
        properties: dict[str, Any] = schema.get("properties") or {}
        required: list[str] = list(schema.get("required") or [])
        names = list(properties) if depth < _MAX_DEPTH else [n for n in properties if n in required]
        names += [n for n in required if n not in names]
        return {name: self.build(properties.get(name, {"type": "string"}), depth + 1) for name in names}

    def build_array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        """Between ``minItems`` and ``maxItems`` items (two by default, the minimum past the depth limit)."""
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", max(low, 3)))
        count = low if depth >= _MAX_DEPTH else max(low, min(high, 2))
        prefix: list[Any] = list(schema.get("prefixItems") or [])
        items = schema.get("items", {"type": "string"})
        if schema.get("uniqueItems") and isinstance(items, dict) and "enum" in items:
            return list(items["enum"][:count])
        out = [self.build(prefix[i] if i < len(prefix) else items, depth + 1) for i in range(count)]
        if schema.get("uniqueItems") and all(isinstance(v, str) for v in out):
            out = [f"{v}-{i}" if i else v for i, v in enumerate(out)]
        return out

    def build_number(self, schema: dict[str, Any], *, integer: bool) -> int | float:
        """A number inside the (exclusive) bounds, honouring ``multipleOf`` for integers."""
        low: float = float(schema.get("minimum", -math.inf))
        high: float = float(schema.get("maximum", math.inf))
        step = 1.0 if integer else 0.5
        if "exclusiveMinimum" in schema:
            low = max(low, float(schema["exclusiveMinimum"]) + step)
        if "exclusiveMaximum" in schema:
            high = min(high, float(schema["exclusiveMaximum"]) - step)
        low = low if math.isfinite(low) else (min(0.0, high - 100) if math.isfinite(high) else 0.0)
        high = high if math.isfinite(high) else low + 100
        if integer:
            lo_i, hi_i = math.ceil(low), math.floor(high)
            value = self.rng.randint(lo_i, max(lo_i, hi_i))
            multiple = schema.get("multipleOf")
            if isinstance(multiple, int) and multiple > 0:
                value = math.ceil(lo_i / multiple) * multiple
            return value
        return round(low + (high - low) * self.rng.random(), 2) if high > low else low

    def build_string(self, schema: dict[str, Any]) -> str:
        """A word-like string, or a loose instance of the requested ``format``."""
        fmt = schema.get("format")
        if fmt == "date":
            text = f"2024-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
        elif fmt == "date-time":
            text = f"2024-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}T12:00:00Z"
        elif fmt == "time":
            text = f"{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}:00Z"
        elif fmt == "email":
            text = f"{self.word()}@example.com"
        elif fmt in ("uri", "url"):
            text = f"https://example.com/{self.word()}"
        elif fmt == "uuid":
            text = f"{self.rng.getrandbits(32):08x}-0000-4000-8000-{self.rng.getrandbits(48):012x}"
        else:
            text = f"{self.word()} {self.word()}"
        min_len = int(schema.get("minLength", 0))
        while len(text) < min_len:
            text += f" {self.word()}"
        if "maxLength" in schema:
            text = text[: int(schema["maxLength"])]
        return text

    def word(self) -> str:
        """One word from the vocabulary."""
        return _WORDS[self.rng.randrange(len(_WORDS))]

    def resolve(self, ref: str) -> Any:
        """The schema a local ``$ref`` (``#/...`` JSON pointer) points at."""
        if not ref.startswith("#"):
            raise ValueError(f"only local $ref is supported, got {ref!r}")
        node: Any = self.root
        for part in ref[1:].strip("/").split("/"):
            if part:
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def merge(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Shallow merge of ``allOf`` branches into one schema (properties and required are combined)."""
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for branch in schema["allOf"]:
            part = self.resolve(branch["$ref"]) if isinstance(branch, dict) and "$ref" in branch else branch
            if not isinstance(part, dict):
                continue
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        return merged


def json_instance(schema: Any, seed: int = 0) -> Any:
    """A deterministic value valid for ``schema`` (the same schema and seed always give the same value)."""
    return _Builder(schema, random.Random(seed)).build(schema, 0)
