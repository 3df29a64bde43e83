"""Prompt files and version selection.

One TOML file per version, ``<prompts_dir>/<name>/<version>.toml`` (e.g. ``prompts/summarise/3.toml``)::

    system = "You are a careful summariser."          # optional
    template = "Summarise in $words words:\\n\\n$text"  # required; $name or ${name} variables
    description = "shorter, bullet-free"              # optional, for people

Files are read once at start-up (a bad file is a :class:`ConfigError` then, not a failed request later).
``latest`` is the highest version number; a configured A/B split picks a version by a hash of the request id.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template

from gateway.errors import ConfigError, StreamgateError
from gateway.prompts.config import PromptSplit
from schemas.codes import ErrorCode

LATEST = "latest"


class PromptError(StreamgateError):
    """A request's prompt cannot be rendered: unknown name or version, or a missing variable."""

    code = ErrorCode.INVALID_REQUEST


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """One version of a named prompt."""

    name: str
    version: str
    template: Template
    system: Template | None = None

    @property
    def variables(self) -> frozenset[str]:
        """The variable names the template and system prompt use."""
        found = set(self.template.get_identifiers())
        if self.system is not None:
            found |= set(self.system.get_identifiers())
        return frozenset(found)


def split_point(request_id: str, name: str) -> float:
    """A uniform number in [0, 1) fixed by the request id (and prompt name): the same id always lands alike."""
    digest = hashlib.sha256(f"{name}\x00{request_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick_by_split(split: Mapping[str, float], request_id: str, name: str) -> str:
    """The version ``request_id`` falls into under ``split`` (versions taken in numeric order)."""
    point = split_point(request_id, name)
    ordered = sorted(split.items(), key=lambda item: int(item[0]))
    running = 0.0
    for version, share in ordered:
        running += share
        if point < running:
            return version
    return ordered[-1][0]


class PromptRegistry:
    """Every prompt version found under a directory, and the configured splits."""

    def __init__(self, prompts: Mapping[str, Mapping[str, PromptTemplate]], splits: Mapping[str, PromptSplit]) -> None:
        self._prompts = {name: dict(versions) for name, versions in prompts.items()}
        self._splits = dict(splits)
        for name, config in self._splits.items():
            missing = [v for v in config.split if v not in self._prompts.get(name, {})]
            if missing:
                raise ConfigError(f"prompt split of {name!r} names missing versions {missing}")

    @classmethod
    def load(cls, directory: Path | None, splits: Mapping[str, PromptSplit] | None = None) -> PromptRegistry:
        """Read every ``<name>/<version>.toml`` under ``directory`` (none when ``directory`` is ``None``)."""
        found: dict[str, dict[str, PromptTemplate]] = {}
        if directory is not None:
            if not directory.is_dir():
                raise ConfigError(f"prompts_dir {directory} is not a directory")
            for path in sorted(directory.glob("*/*.toml")):
                if not path.stem.isdigit():
                    raise ConfigError(f"prompt file {path}: the file name must be a version number")
                prompt = _read(path.parent.name, str(int(path.stem)), path)
                found.setdefault(prompt.name, {})[prompt.version] = prompt
        return cls(found, splits or {})

    def names(self) -> list[str]:
        """The prompt names known."""
        return sorted(self._prompts)

    def select(self, name: str, version: str | None, request_id: str) -> PromptTemplate:
        """The template a request asked for: an explicit version, else its A/B split, else the newest.

        Raises :class:`PromptError` (``invalid_request``) for an unknown name or version.
        """
        versions = self._prompts.get(name)
        if not versions:
            raise PromptError(f"unknown prompt {name!r}")
        if version is None or version == LATEST:
            split = self._splits.get(name)
            if split is not None and split.split:
                version = pick_by_split(split.split, request_id, name)
            else:
                version = max(versions, key=int)
        chosen = versions.get(str(int(version)))
        if chosen is None:
            raise PromptError(f"prompt {name!r} has no version {version}")
        return chosen


def _read(name: str, version: str, path: Path) -> PromptTemplate:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"prompt file {path}: {exc}") from exc
    template, system = doc.get("template"), doc.get("system")
    if not isinstance(template, str) or not template:
        raise ConfigError(f"prompt file {path}: `template` must be a non-empty string")
    if system is not None and not isinstance(system, str):
        raise ConfigError(f"prompt file {path}: `system` must be a string")
    unknown = set(doc) - {"template", "system", "description"}
    if unknown:
        raise ConfigError(f"prompt file {path}: unknown keys {sorted(unknown)}")
    prompt = PromptTemplate(name, version, Template(template), Template(system) if system else None)
    if not prompt.template.is_valid() or (prompt.system is not None and not prompt.system.is_valid()):
        raise ConfigError(f"prompt file {path}: a `$` that is not a variable (write `$$` for a dollar sign)")
    return prompt
