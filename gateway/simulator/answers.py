"""Deterministic answers: the same prompt always gets the same reply.

A prompt (model + system + messages) is hashed into a 64-bit seed (:func:`prompt_seed`); the seed drives a
tiny grammar that writes one or two plausible sentences (:func:`answer_text`), cut to ~``max_tokens`` tokens.
Structured replies come from :func:`gateway.simulator.schema_instance.json_instance` with the same seed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from gateway.simulator.schema_instance import json_instance
from gateway.tokens import count_chat, count_text


def _vocab(words: str) -> tuple[str, ...]:
    return tuple(words.split())


_DETS = _vocab("the a every this one our")
_ADJS = _vocab(
    "quiet bright steady curious distant careful gentle rapid simple hidden patient silver modern ancient "
    "clever vivid humble robust subtle eager"
)
_NOUNS = _vocab(
    "river engine garden signal library harbor pattern window market forest question system bridge letter "
    "machine journey theory village message stream answer kitchen mountain record planet network lantern "
    "meadow compass story"
)
_VERBS = _vocab(
    "follows builds reveals carries explains shapes measures guides connects holds changes supports reflects "
    "crosses finds remembers balances opens gathers tests"
)
_PREPS = _vocab("near beyond inside across under beside through around")
_JOINS = _vocab("and while because so but")


class Answer(NamedTuple):
    """A generated reply and whether it was cut short by ``max_tokens``."""

    text: str
    truncated: bool


def prompt_seed(model: str, messages: Sequence[Any], system: Any = None) -> int:
    """A stable 64-bit seed for a prompt: equal for equal (model, system, messages), different otherwise."""
    blob = orjson.dumps([model, system, list(messages)], option=orjson.OPT_SORT_KEYS)
    return int.from_bytes(hashlib.sha256(blob).digest()[:8], "big")


def content_text(content: Any) -> str:
    """The plain text of a message ``content``: a string, or a list of text / tool-result parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            if isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif part.get("type") == "tool_result":
                parts.append(content_text(part.get("content")))
    return "\n".join(parts)


def prompt_tokens(messages: Sequence[Mapping[str, Any]], system: Any = None) -> int:
    """Prompt tokens of a request with the gateway's own counter (text parts only)."""
    plain = [{"content": content_text(m.get("content"))} for m in messages if isinstance(m, Mapping)]
    system_text = content_text(system) if system is not None else None
    return count_chat(plain, system_text)


def _clause(rng: random.Random) -> list[str]:
    words = [rng.choice(_DETS)]
    if rng.random() < 0.6:
        words.append(rng.choice(_ADJS))
    words += [rng.choice(_NOUNS), rng.choice(_VERBS), rng.choice(_DETS)]
    if rng.random() < 0.5:
        words.append(rng.choice(_ADJS))
    words.append(rng.choice(_NOUNS))
    if rng.random() < 0.5:
        words += [rng.choice(_PREPS), rng.choice(_DETS), rng.choice(_NOUNS)]
    return words


def _sentence(rng: random.Random) -> str:
    words = _clause(rng)
    if rng.random() < 0.5:
        words[-1] += ","
        words += [rng.choice(_JOINS), *_clause(rng)]
    words = ["an" if w == "a" and nxt[0] in "aeiou" else w for w, nxt in zip(words, [*words[1:], "."], strict=True)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


@lru_cache(maxsize=8192)
def answer_text(seed: int, max_tokens: int) -> Answer:
    """One or two sentences derived from ``seed``, cut to ~``max_tokens`` tokens (at least one word)."""
    rng = random.Random(seed)
    full = " ".join(_sentence(rng) for _ in range(rng.randint(1, 2)))
    if count_text(full) <= max_tokens:
        return Answer(full, False)
    words = full.split(" ")[: max(1, max_tokens)]
    text = " ".join(words)
    while len(words) > 1 and count_text(text) > max_tokens:
        words.pop()
        text = " ".join(words)
    return Answer(text, True)


def json_answer(schema: Any | None, seed: int) -> Any:
    """The structured reply: an instance of ``schema``, or ``{"answer": <text>}`` when there is no schema."""
    if schema is None:
        return {"answer": answer_text(seed, 256).text}
    return json_instance(schema, seed)


def broken_json(seed: int) -> str:
    """Text that looks like a JSON reply but does not parse (for the ``#sim:bad_json`` directive)."""
    return 'Sure! Here is the JSON you asked for: {"answer": "' + answer_text(seed, 24).text


def violating_instance(schema: Any, seed: int) -> dict[str, Any] | None:
    """An object breaking ``schema`` (a required field dropped, or a field of the wrong type), if possible."""
    value = json_instance(schema, seed)
    if not isinstance(value, dict) or not isinstance(schema, dict):
        return None
    required = schema.get("required") or []
    if required and required[0] in value:
        del value[required[0]]
        return value
    for name, sub in (schema.get("properties") or {}).items():
        kind = sub.get("type") if isinstance(sub, dict) else None
        if isinstance(kind, str):
            value[name] = 12345 if kind == "string" else "not-a-" + kind
            return value
    if schema.get("additionalProperties") is False:
        value["_sim_unexpected"] = True
        return value
    return None
