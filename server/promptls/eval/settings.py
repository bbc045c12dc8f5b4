"""The `eval` settings table (targets, concurrency, the judge chain), validated with clear messages.

`calls-per-month` lives in the `cost` table (`Config.calls_per_month`), since monthly cost is shown wherever
cost is. `parse_eval_settings` never raises: bad values keep their defaults, each problem yields one message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promptls.config.sections import Section, declare


@dataclass(slots=True)
class EvalSettings:
    #: Share of cases a model must pass (0..1) to be recommended.
    accuracy_target: float = 1.0
    #: Median latency a model must stay under to be recommended; None: no latency target.
    latency_target_ms: float | None = None
    #: Model calls in flight at once.
    concurrency: int = 4
    #: Provider names that grade `llm-rubric` assertions, tried in order; empty: the `action` chain.
    judge: list[str] = field(default_factory=list)
    #: Projected calls per month (from `[cost] calls-per-month`), for the monthly cost column.
    calls_per_month: int | None = None


_KEYS = {"accuracy-target", "latency-target-ms", "concurrency", "judge"}

EVAL_SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "default": {},
    "description": "Prompt tests (`promptls eval`): targets, concurrency, the judge chain.",
    "additionalProperties": False,
    "properties": {
        "accuracy-target": {"type": "number", "minimum": 0, "maximum": 1, "default": 1.0,
                            "description": "Pass rate a model needs to be recommended (0..1)."},
        "latency-target-ms": {"type": "number", "minimum": 0,
                              "description": "Median latency (ms) a model must stay under to be recommended."},
        "concurrency": {"type": "integer", "minimum": 1, "default": 4,
                        "description": "Model calls in flight at once."},
        "judge": {"type": "array", "items": {"type": "string"},
                  "description": "Providers that grade llm-rubric assertions (default: the action chain)."},
    },
}


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def parse_eval_settings(raw: Mapping[str, Any] | None) -> tuple[EvalSettings, list[str]]:
    """Read `eval` from the whole promptls table (`calls_per_month` is filled from `Config` by the caller)."""
    out = EvalSettings()
    errors: list[str] = []
    raw = raw if isinstance(raw, Mapping) else {}
    table = raw.get("eval")
    if table is None:
        return out, errors
    if not isinstance(table, Mapping):
        return out, [*errors, f"[eval] must be a table, got {type(table).__name__}"]
    for key, value in table.items():
        name = str(key).replace("_", "-")
        where = f"eval.{key}"
        if name not in _KEYS:
            errors.append(f"[eval] unknown key '{key}' (known: {', '.join(sorted(_KEYS))})")
        elif name == "accuracy-target":
            if _num(value) and 0 <= value <= 1:
                out.accuracy_target = float(value)
            else:
                errors.append(f"'{where}' must be a number from 0 to 1, got {value!r}")
        elif name == "latency-target-ms":
            if _num(value) and value > 0:
                out.latency_target_ms = float(value)
            else:
                errors.append(f"'{where}' must be a positive number of milliseconds, got {value!r}")
        elif name == "concurrency":
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                out.concurrency = value
            else:
                errors.append(f"'{where}' must be a whole number >= 1, got {value!r}")
        elif name == "judge":
            if isinstance(value, str):
                value = [value]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                out.judge = list(value)
            else:
                errors.append(f"'{where}' must be a list of provider names, got {value!r}")
    return out, errors


#: Prompt tests' part of the configuration schema (`[eval]`).
SECTION: Section[EvalSettings] = declare(Section("eval", ("eval",), parse_eval_settings,
                                                 lambda: {"eval": EVAL_SETTINGS_SCHEMA}))
