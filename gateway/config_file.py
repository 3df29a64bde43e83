"""The TOML settings file: reading it, and laying it over the defaults instead of in place of them.

The named maps of the settings (:data:`NAMED_MAPS`: the model catalog, the aliases, the limit tiers and tenants,
the fallback chains and the per-model retry and provider limits) hold one entry per name. A file's entry of such a
map *overlays* the built-in entry of the same name: a table is merged into it key by key (so
``[limits.tiers.free.tenant] usd_per_day = 10`` keeps the free tier's other limits and its user limits), any other
value (a fallback chain, an alias target) replaces it, and a new name adds an entry. Everything else in the file
merges into the defaults the same way, as pydantic-settings does for nested tables.

A built-in entry is removed by naming it in the top-level ``[remove]`` table, shaped like the settings with a
list of entry names at each leaf::

    [remove]
    aliases = ["best"]
    resilience.fallbacks = ["gpt-4o-mini"]
    limits.tiers = ["pro"]

Removal applies to the built-in entries before the file's own entries are laid over them, so removing a name and
giving a table of the same name defines that entry afresh instead of overlaying it. An empty table is not a
removal.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from gateway.errors import ConfigError

REMOVE_KEY = "remove"

NAMED_MAPS: tuple[tuple[str, ...], ...] = (
    ("models",),
    ("aliases",),
    ("limits", "tiers"),
    ("limits", "tenants"),
    ("resilience", "fallbacks"),
    ("resilience", "retry"),
    ("resilience", "limits"),
)

Document = dict[str, Any]


def read_config_file(path: Path, allowed_keys: Collection[str]) -> Document:
    """The TOML document at ``path``; :class:`ConfigError` (one line, with the file) when it cannot be used.

    ``allowed_keys`` are the top-level settings; any other top-level key (except ``remove``) is refused, as a
    misspelt key inside a section already is.
    """
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from None
    known = {*allowed_keys, REMOVE_KEY}
    unknown = [key for key in document if key not in known]
    if unknown:
        raise ConfigError(f"config file {path}: {'; '.join(_unknown_key(key, known) for key in unknown)}")
    return document


def _unknown_key(key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown setting {key!r}{hint}"


def overlay(defaults: Mapping[str, Any], document: Mapping[str, Any]) -> Document:
    """``defaults`` with ``document`` merged in: tables key by key, every other value replacing the default."""
    merged = dict(defaults)
    for key, value in document.items():
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = overlay(base, value)
        else:
            merged[key] = value
    return merged


def named_map_defaults(settings_cls: type[BaseModel]) -> Document:
    """The built-in entries of every named map, as a plain document shaped like the TOML file."""
    document: Document = {}
    for path in NAMED_MAPS:
        entries = _default_at(settings_cls, path)
        target = document
        for name in path[:-1]:
            target = target.setdefault(name, {})
        target[path[-1]] = {name: _plain(entry) for name, entry in entries.items()}
    return document


def _default_at(settings_cls: type[BaseModel], path: tuple[str, ...]) -> Mapping[str, Any]:
    value: Any = settings_cls.model_fields[path[0]].get_default(call_default_factory=True)
    for name in path[1:]:
        value = getattr(value, name)
    if not isinstance(value, Mapping):
        raise TypeError(f"{'.'.join(path)} is not a map")
    return value


def _plain(entry: Any) -> Any:
    if isinstance(entry, BaseModel):
        return entry.model_dump()
    if isinstance(entry, (list, tuple)):
        return list(entry)
    return entry


def apply_removals(defaults: Document, removals: object) -> Document:
    """``defaults`` without the entries the file's ``[remove]`` table names; :class:`ConfigError` on a bad name."""
    if not isinstance(removals, Mapping):
        raise ConfigError(f'{REMOVE_KEY} must be a table of named maps, e.g. [remove] aliases = ["best"]')
    result = defaults
    for path, names in _removal_leaves(removals, ()):
        if path not in NAMED_MAPS:
            maps = ", ".join(".".join(p) for p in NAMED_MAPS)
            raise ConfigError(f"{REMOVE_KEY}.{'.'.join(path)} is not a named map (those are: {maps})")
        result = _without(result, path, names)
    return result


def _removal_leaves(table: Mapping[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in table.items():
        if isinstance(value, Mapping):
            yield from _removal_leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def _without(document: Document, path: tuple[str, ...], names: Any) -> Document:
    where = f"{REMOVE_KEY}.{'.'.join(path)}"
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ConfigError(f"{where} must be a list of entry names")
    copy = dict(document)
    parent = copy
    for name in path[:-1]:
        parent[name] = dict(parent[name])
        parent = parent[name]
    entries = dict(parent[path[-1]])
    for name in names:
        if name not in entries:
            raise ConfigError(f"{where} names {name!r}, which is not a built-in entry")
        del entries[name]
    parent[path[-1]] = entries
    return copy


def file_over_defaults(settings_cls: type[BaseModel], document: Mapping[str, Any]) -> Document:
    """The settings document of a config file: named-map defaults, minus removals, with the file laid over them."""
    body = {key: value for key, value in document.items() if key != REMOVE_KEY}
    defaults = named_map_defaults(settings_cls)
    if REMOVE_KEY in document:
        defaults = apply_removals(defaults, document[REMOVE_KEY])
    return overlay(defaults, body)


class OverlaySettingsSource(PydanticBaseSettingsSource):
    """A settings source giving the defaults of the named maps with a config file's document laid over them.

    It sits below the environment, whose nested variables pydantic-settings merges into this document in turn.
    """

    def __init__(self, settings_cls: type[BaseSettings], document: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._document = file_over_defaults(settings_cls, document)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """The document's value of one field (part of the source interface; :meth:`__call__` is what is used)."""
        return self._document.get(field_name), field_name, False

    def __call__(self) -> Document:
        """The whole document."""
        return dict(self._document)
