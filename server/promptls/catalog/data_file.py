"""Read the bundled ``data/model_catalog.json`` (built by scripts/build_catalog.py from LiteLLM's table)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from promptls.catalog.model_info import ModelInfo, PriceTier
from promptls.catalog.tokenizer_map import tokenizer_for

DATA_FILE = "model_catalog.json"

# The data file's row layout; scripts/build_catalog.py writes rows in this order.
COLUMNS = (
    "provider",
    "mode",
    "max_input",
    "max_output",
    "input_per_mtok",
    "output_per_mtok",
    "cached_input_per_mtok",
    "tiers",
    "deprecation_date",
    "successor",
    "supports_prompt_caching",
    "prompt_cache_min_tokens",
)


@dataclass(frozen=True, slots=True)
class CatalogSource:
    """Where the bundled catalog came from."""

    name: str
    version: str
    sha256: str
    license: str

    def label(self) -> str:
        return f"LiteLLM {self.version}"


@dataclass(frozen=True, slots=True)
class CatalogData:
    models: dict[str, ModelInfo]
    aliases: dict[str, str]
    source: CatalogSource


def _tiers(raw: list[list[Any]] | None) -> tuple[PriceTier, ...]:
    if not raw:
        return ()
    return tuple(PriceTier(int(t[0]), t[1], t[2], t[3]) for t in raw)


def parse_catalog(document: dict[str, Any]) -> CatalogData:
    """Turn the JSON document into ModelInfo objects."""
    meta = document["meta"]
    source = CatalogSource(
        name=meta["source"], version=meta["source_version"], sha256=meta["source_sha256"], license=meta["license"]
    )
    label = source.label()
    columns = document["columns"]
    if list(columns) != list(COLUMNS):
        raise ValueError(f"{DATA_FILE}: unexpected columns {columns}; rebuild with scripts/build_catalog.py")
    models: dict[str, ModelInfo] = {}
    for model_id, row in document["models"].items():
        (provider, mode, max_in, max_out, inp, out, cached, tiers, dep, successor, caching, cache_min) = row
        models[model_id] = ModelInfo(
            id=model_id,
            provider=provider,
            context_window=max_in,
            max_output=max_out,
            input_per_mtok=inp,
            output_per_mtok=out,
            cached_input_per_mtok=cached,
            deprecation_date=date.fromisoformat(dep) if dep else None,
            successor=successor,
            tokenizer=tokenizer_for(model_id, provider),
            supports_prompt_caching=bool(caching),
            prompt_cache_min_tokens=cache_min,
            mode=mode,
            tiers=_tiers(tiers),
            source=label,
        )
    return CatalogData(models=models, aliases=dict(document.get("aliases", {})), source=source)


def load_bundled() -> CatalogData:
    """Parse the catalog shipped in ``promptls/data``."""
    from importlib import resources

    text = resources.files("promptls").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return parse_catalog(json.loads(text))
