"""Model catalog: context windows, output limits, prices, deprecations, tokenizers, id mapping.

The bundled table is built from LiteLLM's model list (MIT; see ``data/model_catalog.LICENSE``) by
``scripts/build_catalog.py``; prices come from genai-prices when it knows the model. Nothing is loaded at
import time: ``load_catalog()`` parses the table on first use and caches it for the process.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from promptls.catalog.catalog import Catalog, Resolution
from promptls.catalog.data_file import CatalogSource
from promptls.catalog.model_info import ModelInfo, ModelStatus, PriceTier
from promptls.catalog.overrides import CatalogConfigError
from promptls.catalog.pricing import Price
from promptls.catalog.table import format_models_table

if TYPE_CHECKING:
    from promptls.config import Config

_lock = threading.Lock()
_base: Catalog | None = None


def _base_catalog() -> Catalog:
    global _base
    if _base is None:
        with _lock:
            if _base is None:
                from promptls.catalog.data_file import load_bundled

                _base = Catalog.from_data(load_bundled())
    return _base


def load_catalog(overrides: Mapping[str, Any] | None = None) -> Catalog:
    """The bundled catalog (parsed once per process), with the user's ``models`` table applied if given.

    With overrides a new Catalog is built (cheap, it shares the bundled tables); keep it for as long as the
    configuration does. Raises CatalogConfigError for an invalid ``overrides`` table.
    """
    base = _base_catalog()
    return base.with_overrides(overrides) if overrides else base


def catalog_for(config: Config) -> Catalog:
    """The catalog of a configuration (its ``[models]`` table applied), built once per configuration: what the
    analysis, the router and eval price with, so an editor, ``promptls usage`` and a budget agree."""
    models = config.models
    return config.derived("catalog", models, lambda: load_catalog(models or None))


__all__ = [
    "Catalog",
    "CatalogConfigError",
    "CatalogSource",
    "ModelInfo",
    "ModelStatus",
    "Price",
    "PriceTier",
    "Resolution",
    "catalog_for",
    "format_models_table",
    "load_catalog",
]
