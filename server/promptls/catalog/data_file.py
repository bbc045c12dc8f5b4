"""Read the bundled ``data/model_catalog.json`` (built by scripts/build_catalog.py from LiteLLM's table and the
providers' lifecycle table ``data/model_lifecycle.json``), checking that both files belong together."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from promptls.catalog.model_info import ModelInfo, PriceTier
from promptls.catalog.tokenizer_map import tokenizer_for

DATA_FILE = "model_catalog.json"
LIFECYCLE_FILE = "model_lifecycle.json"
# Where a row's shutdown date comes from: a provider's own page (may make a model retired) or only LiteLLM (warns).
DATE_FROM_PROVIDER = "provider"
DATE_FROM_LITELLM = "litellm"

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
    "deprecated_on",
    "date_source",
    "lifecycle_url",
)


class CatalogDataError(ValueError):
    """The bundled catalog files are missing, malformed, or were not built together."""


@dataclass(frozen=True, slots=True)
class CatalogSource:
    """Where the bundled catalog came from."""

    name: str
    version: str
    sha256: str
    license: str
    lifecycle_version: int | None = None
    lifecycle_sha256: str | None = None

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


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def verify_lifecycle(meta: dict[str, Any], lifecycle_bytes: bytes) -> None:
    """The catalog records the sha256 of the lifecycle table it merged; the bundled table must be that file."""
    expected = meta.get("lifecycle_sha256")
    actual = hashlib.sha256(lifecycle_bytes).hexdigest()
    if expected != actual:
        raise CatalogDataError(
            f"{LIFECYCLE_FILE} has sha256 {actual}, but {DATA_FILE} was built from "
            f"{expected or 'no lifecycle table'}; rebuild with scripts/build_catalog.py (or reinstall promptls)"
        )


def parse_catalog(document: dict[str, Any]) -> CatalogData:
    """Turn the JSON document into ModelInfo objects."""
    meta = document["meta"]
    source = CatalogSource(
        name=meta["source"], version=meta["source_version"], sha256=meta["source_sha256"], license=meta["license"],
        lifecycle_version=meta.get("lifecycle_version"), lifecycle_sha256=meta.get("lifecycle_sha256"),
    )
    label = source.label()
    columns = document["columns"]
    if list(columns) != list(COLUMNS):
        raise CatalogDataError(f"{DATA_FILE}: unexpected columns {columns}; rebuild with scripts/build_catalog.py")
    models: dict[str, ModelInfo] = {}
    for model_id, row in document["models"].items():
        (provider, mode, max_in, max_out, inp, out, cached, tiers, dep, successor, caching, cache_min,
         deprecated_on, date_source, lifecycle_url) = row
        models[model_id] = ModelInfo(
            id=model_id,
            provider=provider,
            context_window=max_in,
            max_output=max_out,
            input_per_mtok=inp,
            output_per_mtok=out,
            cached_input_per_mtok=cached,
            deprecation_date=_day(dep),
            successor=successor,
            tokenizer=tokenizer_for(model_id, provider),
            supports_prompt_caching=bool(caching),
            prompt_cache_min_tokens=cache_min,
            mode=mode,
            tiers=_tiers(tiers),
            source=label,
            deprecated_on=_day(deprecated_on),
            date_source=date_source,
            lifecycle_url=lifecycle_url,
        )
    return CatalogData(models=models, aliases=dict(document.get("aliases", {})), source=source)


def load_bundled() -> CatalogData:
    """Parse the catalog shipped in ``promptls/data``, after checking the lifecycle table it was built with."""
    from importlib import resources

    data = resources.files("promptls").joinpath("data")
    document = json.loads(data.joinpath(DATA_FILE).read_text(encoding="utf-8"))
    try:
        lifecycle_bytes = data.joinpath(LIFECYCLE_FILE).read_bytes()
    except FileNotFoundError as exc:
        raise CatalogDataError(f"{LIFECYCLE_FILE} is missing from promptls/data; reinstall promptls") from exc
    verify_lifecycle(document["meta"], lifecycle_bytes)
    return parse_catalog(document)
