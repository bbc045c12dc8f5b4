"""Typed configuration sections declared by the packages that own them.

The config floor knows how to load and validate `promptls.toml`; it does not know what the router, the assist
layer or prompt tests want from their tables. Each owner declares its section here once, at import (the way
esbonio's features subscribe to their own config section): the top-level keys it owns, a parser that turns the
raw tables into its typed settings with messages (never raising), and its JSON Schema properties. The loader
validates every declared section, the JSON Schema is built from them, and owners read their typed value with
`config.section(SECTION)`, parsed once per configuration instead of re-reading `Config.raw` by hand.

The faces import `promptls.sections`, which imports every owner, so a server or CLI run knows all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Section(Generic[T]):
    """One owner's part of the schema. `keys`: the top-level tables it owns; `parse`: raw settings -> (typed
    value, messages); `schema`: JSON Schema properties of those tables."""

    name: str
    keys: tuple[str, ...]
    parse: Callable[[Mapping[str, Any] | None], tuple[T, list[str]]]
    schema: Callable[[], dict[str, Any]]

    def present_in(self, raw: Mapping[str, Any]) -> bool:
        return any(k in raw for k in self.keys)


_DECLARED: dict[str, Section[Any]] = {}


def declare(section: Section[T]) -> Section[T]:
    """Declare `section` (idempotent by name: a module re-imported by a test replaces its own declaration)."""
    _DECLARED[section.name] = section
    return section


def declared() -> tuple[Section[Any], ...]:
    return tuple(_DECLARED.values())


def declared_keys() -> frozenset[str]:
    return frozenset(k for s in _DECLARED.values() for k in s.keys)
