"""Plain-text table of models for ``promptls models [QUERY]``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from promptls.catalog.model_info import ModelInfo

if TYPE_CHECKING:
    from promptls.catalog.catalog import Catalog

HEADERS = ("MODEL", "PROVIDER", "CONTEXT", "MAX OUT", "IN $/M", "OUT $/M", "CACHED $/M", "TOKENIZER", "STATUS")
NUMERIC = frozenset({2, 3, 4, 5, 6})


def _int(value: int | None) -> str:
    return f"{value:,}" if value is not None else "-"


def _price(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def _status(info: ModelInfo, today: date, catalog: Catalog | None) -> str:
    status = info.status(today)
    if status == "active":
        return status
    parts = [status]
    if info.deprecation_date is not None:
        parts.append(info.deprecation_date.isoformat())
        if not info.date_confirmed:
            parts.append("(per LiteLLM)")
    successor = catalog.live_successor(info, today)[0] if catalog is not None else info.successor
    if successor:
        parts.append(f"-> {successor}")
    return " ".join(parts)


def format_models_table(infos: Sequence[ModelInfo], today: date | None = None, catalog: Catalog | None = None) -> str:
    """Aligned columns, one model per line; numbers right-aligned; ``-`` where unknown. With ``catalog`` the
    successor shown is the first one still serving (retired successors are followed)."""
    today = today or date.today()
    rows = [
        (
            info.id,
            info.provider,
            _int(info.context_window),
            _int(info.max_output),
            _price(info.input_per_mtok),
            _price(info.output_per_mtok),
            _price(info.cached_input_per_mtok),
            info.tokenizer,
            _status(info, today, catalog),
        )
        for info in infos
    ]
    widths = [max(len(row[i]) for row in (HEADERS, *rows)) for i in range(len(HEADERS))]

    def line(cells: Sequence[str]) -> str:
        out = [cell.rjust(widths[i]) if i in NUMERIC else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(out).rstrip()

    return "\n".join([line(HEADERS), *(line(row) for row in rows)])
