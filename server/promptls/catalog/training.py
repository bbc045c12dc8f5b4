"""What fine-tuning a model costs and allows: training price per million tokens and the per-example token limit.

The figures come from the bundled `data/finetune_models.json` (OpenAI's fine-tunable snapshots, with the page
they were taken from and the date), loaded once and validated. Aliases (`gpt-4o-mini`), provider prefixes
(`openai/`) and fine-tuned ids (`ft:gpt-4o-mini-2024-07-18:org::id`) resolve to the base snapshot. Models not
in the table get no training price and, as the limit, the catalog's context window when the catalog knows one.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from promptls.catalog.pricing import training_cost as training_cost  # datasets price a run here; computed there

DATA_FILE = "finetune_models.json"
_PROVIDER_PREFIXES = ("openai/", "azure/")


@dataclass(frozen=True, slots=True)
class FinetuneModel:
    id: str
    aliases: tuple[str, ...]
    tokenizer: str
    training_context: int
    training_per_mtok: float


@dataclass(frozen=True, slots=True)
class FinetuneTable:
    source: str
    limits_source: str
    as_of: str
    models: dict[str, FinetuneModel]
    lookup: dict[str, str]  # lower-case id or alias -> model id


@dataclass(frozen=True, slots=True)
class TrainingTarget:
    """The model a dataset is checked for: how to count, the per-example limit and the training price."""

    model: str  # the fine-tunable snapshot, or the reference as given when it is not in the table
    tokenizer: str
    max_example_tokens: int | None
    limit_source: str
    price_per_mtok: float | None
    price_source: str | None
    known: bool  # in the bundled fine-tuning table


def parse_table(document: Any) -> FinetuneTable:
    """Validate the data file's shape and build the table; raises ValueError naming the bad entry."""
    if not isinstance(document, dict):
        raise ValueError(f"{DATA_FILE}: expected an object at the top level")
    meta = {key: document.get(key) for key in ("source", "limits_source", "as_of")}
    for key, value in meta.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{DATA_FILE}: `{key}` must be a non-empty string")
    raw_models = document.get("models")
    if not isinstance(raw_models, dict) or not raw_models:
        raise ValueError(f"{DATA_FILE}: `models` must be a non-empty object")
    models: dict[str, FinetuneModel] = {}
    lookup: dict[str, str] = {}
    for model_id, row in raw_models.items():
        model = _parse_model(model_id, row)
        models[model_id] = model
        for name in (model_id, *model.aliases):
            if name.lower() in lookup:
                raise ValueError(f"{DATA_FILE}: {name!r} is listed twice")
            lookup[name.lower()] = model_id
    return FinetuneTable(meta["source"], meta["limits_source"], meta["as_of"], models, lookup)


def _parse_model(model_id: str, row: Any) -> FinetuneModel:
    where = f"{DATA_FILE}: model {model_id!r}"
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected an object")
    aliases = row.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise ValueError(f"{where}: `aliases` must be a list of strings")
    tokenizer = row.get("tokenizer")
    if tokenizer not in ("o200k_base", "cl100k_base"):
        raise ValueError(f"{where}: `tokenizer` must be o200k_base or cl100k_base")
    context = row.get("training_context")
    if type(context) is not int or context <= 0:
        raise ValueError(f"{where}: `training_context` must be a positive integer")
    price = row.get("training_per_mtok")
    if type(price) not in (int, float) or price < 0:
        raise ValueError(f"{where}: `training_per_mtok` must be a non-negative number")
    return FinetuneModel(model_id, tuple(aliases), tokenizer, context, float(price))


_lock = threading.Lock()
_table: FinetuneTable | None = None


def finetune_table() -> FinetuneTable:
    """The bundled table, parsed and validated once per process."""
    global _table
    if _table is None:
        with _lock:
            if _table is None:
                from importlib import resources

                data = resources.files("promptls").joinpath("data", DATA_FILE).read_text("utf-8")
                _table = parse_table(json.loads(data))
    return _table


def base_model_name(ref: str) -> str:
    """`ft:gpt-4o-mini-2024-07-18:org:suffix:id` -> `gpt-4o-mini-2024-07-18`; `openai/gpt-4o` -> `gpt-4o`."""
    name = ref.strip()
    lowered = name.lower()
    for prefix in _PROVIDER_PREFIXES:
        if lowered.startswith(prefix):
            name = name[len(prefix):]
            lowered = lowered[len(prefix):]
            break
    if lowered.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
    return name


def training_target(model: str, *, max_example_tokens: int | None = None,
                    price_per_mtok: float | None = None) -> TrainingTarget:
    """Resolve `model` for fine-tuning; explicit limits and prices (from settings) win over bundled ones."""
    table = finetune_table()
    name = base_model_name(model)
    model_id = table.lookup.get(name.lower())
    if model_id is not None:
        entry = table.models[model_id]
        target = TrainingTarget(
            model=model_id,
            tokenizer=entry.tokenizer,
            max_example_tokens=entry.training_context,
            limit_source=f"{table.limits_source} (as of {table.as_of})",
            price_per_mtok=entry.training_per_mtok,
            price_source=f"{table.source} (as of {table.as_of})",
            known=True,
        )
    else:
        target = _unknown_target(model, name)
    if max_example_tokens is not None:
        target = _replace(target, max_example_tokens=max_example_tokens, limit_source="settings")
    if price_per_mtok is not None:
        target = _replace(target, price_per_mtok=price_per_mtok, price_source="settings")
    return target


def _unknown_target(model: str, name: str) -> TrainingTarget:
    from promptls.catalog import load_catalog
    from promptls.catalog.tokenizer_map import tokenizer_for

    info = load_catalog().resolve(name or model).info
    not_listed = f"{model!r} is not a fine-tunable model in promptls' table"
    if info is not None and info.context_window:
        limit_source = f"{not_listed}; limit is the catalog's context window for {info.id}"
    else:
        limit_source = f"{not_listed}; no limit known"
    return TrainingTarget(
        model=model,
        tokenizer=info.tokenizer if info is not None else tokenizer_for(name or model, ""),
        max_example_tokens=info.context_window if info is not None else None,
        limit_source=limit_source,
        price_per_mtok=None,
        price_source=f"{not_listed}; no training price",
        known=False,
    )


def _replace(target: TrainingTarget, **changes: Any) -> TrainingTarget:
    from dataclasses import replace

    return replace(target, **changes)
