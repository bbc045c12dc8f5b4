"""Model families: which catalog models are the same generation in a different size, so that a code action can
offer "the same family, cheaper" (`gpt-4o` -> `gpt-4o-mini`, `claude-sonnet-4-5` -> `claude-haiku-4-5`).

No catalog records families, so this is a naming rule: drop the date snapshot and the size/tier words; what is
left names the generation. It is deliberately conservative: a model with no size word stays in its own family.
"""

from __future__ import annotations

import datetime as _dt
import re

from promptls.catalog.model_info import ModelInfo

_DATE = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{4}|@\d{8})$")
_TIERS = {"mini", "nano", "flash", "lite", "haiku", "sonnet", "opus", "pro", "small", "medium", "large", "tiny",
          "8b", "70b", "405b"}


def family_key(model_id: str) -> str:
    tail = model_id.rpartition("/")[2].lower()
    tail = _DATE.sub("", tail)
    return "-".join(p for p in tail.split("-") if p not in _TIERS)


def _undated(info: ModelInfo) -> bool:
    return not _DATE.search(info.id)


def cheaper_in_family(models: list[ModelInfo], current: ModelInfo, today: _dt.date, limit: int = 2) -> list[ModelInfo]:
    """Chat models of the same provider and family with a lower input price that still serve requests (active
    first, then deprecated ones), closest price first."""
    if current.input_per_mtok is None:
        return []
    key = family_key(current.id)
    out = [m for m in models
           if m.provider == current.provider and m.id != current.id and m.mode == current.mode
           and m.input_per_mtok is not None and m.input_per_mtok < current.input_per_mtok
           and m.status(today) != "retired" and _undated(m) and "preview" not in m.id
           and family_key(m.id) == key]
    out.sort(key=lambda m: (m.status(today) != "active", -(m.input_per_mtok or 0), m.id))
    return out[:limit]
