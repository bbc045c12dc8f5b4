"""Declaring a setting once: its key, type, default, description and check, from which both its validation (with
the messages users see) and its JSON Schema are made.

A setting is a field of the `Config` dataclass made with `setting(...)`; a dotted key (`cost.calls-per-month`) puts
it in a table, which is declared with `Table` for its description. `Schema` reads the declared fields of a class:
`read` validates a promptls table into field values, `properties` writes the JSON Schema. Checks never raise: a bad
value yields one message and keeps the default. Plain dataclasses, no pydantic: the server's start-up matters.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from promptls.core.findings import Severity


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: A check's answer for a value it rejected (the message is already added): the setting keeps its value.
INVALID: Any = _Invalid()


class ConfigErrors(list):
    def add(self, where: str, msg: str) -> None:
        self.append(f"{where}: {msg}")

    def bad(self, where: str, msg: str) -> Any:
        """Add the message and answer INVALID."""
        self.add(where, msg)
        return INVALID


def show(v: Any) -> str:
    """A value as messages quote it (cut at 60 characters)."""
    s = repr(v)
    return s if len(s) < 60 else s[:57] + "..."


Check = Callable[[Any, str, ConfigErrors], Any]


@dataclass(frozen=True, slots=True)
class Kind:
    """What values a setting takes: `check(value, where, errors)` answers the typed value (or INVALID, with a
    message); `schema` is the value's JSON Schema (type, items, ...), nullable when the default is None."""

    check: Check
    schema: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Setting:
    """One key of the configuration. `key`: its name in promptls.toml and the LSP settings, dotted for a key in a
    table; `null_unset`: a null value counts as unset (keys in tables always do). `document_default=False` leaves
    the default out of the JSON Schema."""

    key: str
    kind: Kind
    default: Any
    description: str | None = None
    document_default: bool = True
    null_unset: bool = False

    @property
    def table(self) -> str | None:
        return self.key.split(".")[0] if "." in self.key else None

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    def json_schema(self) -> dict[str, Any]:
        out = dict(self.kind.schema)
        if self.default is None and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if self.document_default:
            out["default"] = _json_value(self.default, out.get("type"))
        if self.description:
            out["description"] = self.description
        return out


def setting(key: str, kind: Kind, default: Any, description: str | None = None, *, document_default: bool = True,
            null_unset: bool = False) -> Any:
    """A dataclass field declared as the setting `key` (see `Setting`); its default is the field's default."""
    meta = {"setting": Setting(key, kind, default, description, document_default, null_unset)}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


def _json_value(default: Any, typ: Any) -> Any:
    if typ == "object":
        return dict(default)  # tables kept as tuples of pairs (hashable) are objects in JSON
    if isinstance(default, tuple):
        return list(default)
    return default


@dataclass(frozen=True, slots=True)
class Table:
    """A table of settings (its keys are declared as the settings `<key>.<name>`)."""

    key: str
    description: str


class Schema:
    """The settings a dataclass declares, grouped by top-level key in declaration order (the JSON Schema's order,
    and the order of the messages)."""

    def __init__(self, cls: type, tables: Iterable[Table]) -> None:
        self.tables = {t.key: t for t in tables}
        self.entries: dict[str, list[tuple[str, Setting]]] = {}
        for f in fields(cls):
            s = f.metadata.get("setting")
            if s is not None:
                self.entries.setdefault(s.table or s.key, []).append((f.name, s))

    def known(self) -> frozenset[str]:
        """The top-level keys, with the snake_case spelling of hyphenated ones."""
        return frozenset(k for key in self.entries for k in (key, key.replace("-", "_")))

    def read(self, data: Mapping[str, Any], errs: ConfigErrors) -> dict[str, Any]:
        """The valid values in `data` by field name; a message in `errs` for each invalid or unknown one."""
        changes: dict[str, Any] = {}
        for key, members in self.entries.items():
            if key not in self.tables:
                attr, s = members[0]
                _read(data, s, s.null_unset, changes, attr, errs)
            elif key in data:
                self._read_table(key, data[key], members, changes, errs)
        return changes

    @staticmethod
    def _read_table(key: str, table: Any, members: list[tuple[str, Setting]], changes: dict[str, Any],
                    errs: ConfigErrors) -> None:
        if not isinstance(table, dict):
            errs.add(key, "expected a table")
            return
        for attr, s in members:
            _read(table, s, True, changes, attr, errs)
        known = {k for _, s in members for k in (s.name, s.name.replace("-", "_"))}
        for k in table:
            if k not in known:
                errs.add(f"{key}.{k}", "unknown setting")

    def properties(self) -> dict[str, Any]:
        """JSON Schema properties of every declared setting (tables as objects with properties)."""
        props: dict[str, Any] = {}
        for key, members in self.entries.items():
            table = self.tables.get(key)
            if table is None:
                props[key] = members[0][1].json_schema()
            else:
                props[key] = {"type": "object", "default": {}, "description": table.description,
                              "properties": {s.name: s.json_schema() for _, s in members}}
        return props


def _read(table: Mapping[str, Any], s: Setting, null_unset: bool, changes: dict[str, Any], attr: str,
          errs: ConfigErrors) -> None:
    """Check `s` in `table` (spelt `name-with-hyphens` or `name_with_underscores`); keep its value when valid."""
    name, alias = s.name, s.name.replace("-", "_")
    if name in table:
        value = table[name]
    elif alias in table:
        value = table[alias]
    else:
        return
    if value is None and null_unset:
        return
    checked = s.kind.check(value, s.key, errs)
    if checked is not INVALID:
        changes[attr] = checked


# -- kinds every table uses -------------------------------------------------------------------------------
def _strings(v: Any, where: str, errs: ConfigErrors) -> Any:
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    return errs.bad(where, f"expected a list of strings, got {show(v)}")


def _positive_int(v: Any, where: str, errs: ConfigErrors) -> Any:
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return v
    return errs.bad(where, f"expected a positive integer, got {show(v)}")


def _whole_number(v: Any, where: str, errs: ConfigErrors) -> Any:
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    return errs.bad(where, f"expected a whole number >= 0, got {show(v)}")


def _non_negative(v: Any, where: str, errs: ConfigErrors) -> Any:
    if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0:
        return float(v)
    return errs.bad(where, f"expected a non-negative number, got {show(v)}")


def _boolean(v: Any, where: str, errs: ConfigErrors) -> Any:
    return v if isinstance(v, bool) else errs.bad(where, f"expected true or false, got {show(v)}")


def _model_id(v: Any, where: str, errs: ConfigErrors) -> Any:
    if isinstance(v, str) and v.strip():
        return v.strip()
    return errs.bad(where, f"expected a model id string, got {show(v)}")


def _date(v: Any, where: str, errs: ConfigErrors) -> Any:
    try:
        return v if isinstance(v, _dt.date) else _dt.date.fromisoformat(str(v))
    except ValueError:
        return errs.bad(where, f"expected a date YYYY-MM-DD, got {show(v)}")


def _severity(v: Any, where: str, errs: ConfigErrors) -> Any:
    try:
        return Severity.parse(str(v))
    except ValueError as e:
        return errs.bad(where, str(e))


STRINGS = Kind(_strings, {"type": "array", "items": {"type": "string"}})
POSITIVE_INT = Kind(_positive_int, {"type": "integer"})
WHOLE_NUMBER = Kind(_whole_number, {"type": "integer", "minimum": 0})
NON_NEGATIVE = Kind(_non_negative, {"type": "number"})
BOOLEAN = Kind(_boolean, {"type": "boolean"})
MODEL_ID = Kind(_model_id, {"type": "string"})
DATE = Kind(_date, {"type": "string"})
SEVERITY = Kind(_severity, {"type": "string", "enum": ["error", "warning", "info", "hint"]})


def table_of(entry: Kind, expected: str, build: Callable[[dict[str, Any]], Any] = dict) -> Kind:
    """A table of `key = value` with each value of kind `entry` (invalid ones left out); `expected`: the message
    when it is no table; `build`: the typed value from the valid entries."""

    def check(v: Any, where: str, errs: ConfigErrors) -> Any:
        if not isinstance(v, dict):
            return errs.bad(where, expected)
        good = {}
        for k, item in v.items():
            checked = entry.check(item, f"{where}.{k}", errs)
            if checked is not INVALID:
                good[k] = checked
        return build(good)

    return Kind(check, {"type": "object", "additionalProperties": dict(entry.schema)})
