"""The one typed configuration schema, validated with clear messages, shared by the CLI and the server.

Sources, later ones winning: `promptls.toml` or `[tool.promptls]` in `pyproject.toml` found upward from the
workspace, then the LSP `initializationOptions`, `workspace/configuration` and `didChangeConfiguration`
(`promptls` section). Invalid values never raise: they are reported (CF001) and the default is kept.
The core settings are declared once as the fields of `Config` (`config/settings.py`); the tables of the router,
prompt tests and the assist layer are declared by those packages (`config/sections.py`). Validation and the JSON
Schema both come from these declarations.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from promptls.config.declare import ConfigErrors, show
from promptls.config.sections import declared, declared_keys
from promptls.config.settings import (
    CODE_LANGUAGES,
    CODE_SUFFIXES,
    CORE,
    DEFAULT_DATASET_GLOBS,
    DEFAULT_TEMPLATE_GLOBS,
    ENGINES,
    Config,
    TemplateOverride,
)
from promptls.core import safe_read

__all__ = ["CODE_LANGUAGES", "CODE_SUFFIXES", "DEFAULT_DATASET_GLOBS", "DEFAULT_TEMPLATE_GLOBS", "ENGINES",
           "Config", "TemplateOverride", "find_config_file", "from_dict", "json_schema", "load", "load_file"]


def from_dict(data: dict[str, Any], base: Config | None = None) -> tuple[Config, list[str]]:
    """Validate a promptls table onto `base` (a later source over an earlier one). Unknown or invalid entries
    produce messages and keep the values they would have replaced."""
    cfg = base or Config()
    if not isinstance(data, dict):
        return cfg, [f"promptls settings: expected a table/object, got {show(data)}"]
    errs = ConfigErrors()
    known = CORE.known()
    for key in data:
        if key not in known and key not in declared_keys():
            errs.add(key, "unknown setting")
    changes = CORE.read(data, errs)
    raw = dict(cfg.raw)
    raw.update(data)
    return replace(cfg, **changes, raw=raw), list(errs) + _section_errors(raw)


def _section_errors(raw: dict[str, Any]) -> list[str]:
    """Messages for the tables owned by other packages (router, assist, eval...), each validated by the
    section its owner declared (`config/sections.py`)."""
    errors: list[str] = []
    for s in declared():
        if s.present_in(raw):
            errors.extend(s.parse(raw)[1])
    return errors


# -- files ----------------------------------------------------------------------------------------------
def find_config_file(start: Path) -> Path | None:
    """`promptls.toml` (or `.promptls.toml`), else a `pyproject.toml` with `[tool.promptls]`, upward. A
    `promptls.toml` that is there but no regular file is still the one (`load_file` says why it is not read); a
    `pyproject.toml` that cannot be read is passed over, like one without `[tool.promptls]`."""
    start = start if start.is_dir() else start.parent
    for d in [start, *start.parents]:
        for name in ("promptls.toml", ".promptls.toml"):
            if (d / name).exists():
                return d / name
        pp = d / "pyproject.toml"
        try:
            if "promptls" in tomllib.loads(safe_read.read_text(pp)).get("tool", {}):
                return pp
        except (tomllib.TOMLDecodeError, safe_read.Refused):
            continue
    return None


def load_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The promptls table of a config file (a regular file of at most 1 MiB), or the reason it was not read."""
    try:
        data = tomllib.loads(safe_read.read_text(path))
    except safe_read.Refused as e:
        return {}, [f"{path}: {e.reason}"]
    except tomllib.TOMLDecodeError as e:
        return {}, [f"{path}: invalid TOML: {e}"]
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("promptls", {})
    return data, []


def load(start: Path | None = None, explicit: Path | None = None) -> tuple[Config, list[str], Path | None]:
    """The config for a workspace or CLI run, with its validation messages and the file it came from."""
    path = explicit or (find_config_file(start) if start else None)
    if path is None:
        return Config(), [], None
    data, errs = load_file(path)
    cfg, more = from_dict(data)
    return cfg, [f"{path.name}: {m}" for m in errs + more] if errs or more else [], path


# -- JSON Schema (drives editor settings) ----------------------------------------------------------------
def json_schema() -> dict[str, Any]:
    """The settings' JSON Schema: the core settings, then every declared section, in declaration order."""
    props = CORE.properties()
    for s in declared():
        props.update(s.schema())
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": "promptls settings",
            "type": "object", "properties": props, "additionalProperties": False}
