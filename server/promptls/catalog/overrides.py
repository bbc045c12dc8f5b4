"""Apply the user's ``models`` config table: custom models and overrides of catalogued ones.

Example (TOML)::

    [models.my-model]
    alias_of = "gpt-4o"          # start from a catalogued model (optional)
    context_window = 8192
    max_output = 1024
    input_per_mtok = 0.1
    output_per_mtok = 0.2
    tokenizer = "cl100k_base"

A name that is already a catalog id overrides that model; any other name is a new model. Setting any price
field makes the configured prices the only ones used for that model.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from promptls.catalog.model_info import ModelInfo
from promptls.catalog.tokenizer_map import tokenizer_for

if TYPE_CHECKING:
    from promptls.catalog.catalog import Catalog

INT_FIELDS = ("context_window", "max_output", "prompt_cache_min_tokens")
PRICE_FIELDS = ("input_per_mtok", "output_per_mtok", "cached_input_per_mtok")
STR_FIELDS = ("provider", "successor", "tokenizer")
FIELDS = (*INT_FIELDS, *PRICE_FIELDS, *STR_FIELDS, "alias_of", "deprecation_date", "supports_prompt_caching")


class CatalogConfigError(ValueError):
    """The ``models`` config table has an error; the message names the exact key."""


def _check_value(where: str, field: str, value: Any) -> Any:
    from promptls.tokens import KNOWN_TOKENIZERS

    if field in INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise CatalogConfigError(f"{where}.{field}: expected a positive integer, got {value!r}")
        return value
    if field in PRICE_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise CatalogConfigError(f"{where}.{field}: expected a price in USD per million tokens, got {value!r}")
        return float(value)
    if field == "supports_prompt_caching":
        if not isinstance(value, bool):
            raise CatalogConfigError(f"{where}.{field}: expected true or false, got {value!r}")
        return value
    if field == "deprecation_date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise CatalogConfigError(f"{where}.{field}: expected a date YYYY-MM-DD, got {value!r}") from None
    if not isinstance(value, str) or not value.strip():
        raise CatalogConfigError(f"{where}.{field}: expected a non-empty string, got {value!r}")
    if field == "tokenizer" and value not in KNOWN_TOKENIZERS:
        raise CatalogConfigError(
            f"{where}.tokenizer: unknown tokenizer {value!r}; expected one of: {', '.join(KNOWN_TOKENIZERS)}"
        )
    return value.strip()


def apply_overrides(
    catalog: Catalog, overrides: Mapping[str, Any]
) -> tuple[dict[str, ModelInfo], dict[str, str], frozenset[str]]:
    """Validate ``overrides`` against ``catalog``.

    Returns (models by configured name, name -> catalog id whose market prices apply, names priced from
    config). Raises CatalogConfigError with the offending key on any problem.
    """
    if not isinstance(overrides, Mapping):
        raise CatalogConfigError(f"models: expected a table of model names, got {type(overrides).__name__}")
    custom: dict[str, ModelInfo] = {}
    price_refs: dict[str, str] = {}
    config_priced: set[str] = set()
    for name, spec in overrides.items():
        where = f"models.{name}"
        if not isinstance(name, str) or not name.strip():
            raise CatalogConfigError(f"models: model names must be non-empty strings, got {name!r}")
        if not isinstance(spec, Mapping):
            raise CatalogConfigError(f"{where}: expected a table of fields, got {spec!r}")
        for key in spec:
            if key not in FIELDS:
                hint = difflib.get_close_matches(str(key), FIELDS, n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise CatalogConfigError(f"{where}: unknown field {key!r}{suffix}; known: {', '.join(FIELDS)}")
        values = {key: _check_value(where, key, value) for key, value in spec.items()}

        base: ModelInfo | None
        alias_of = values.pop("alias_of", None)
        if alias_of is not None:
            resolution = catalog.resolve(alias_of)
            if resolution.info is None:
                hint = f"; did you mean {', '.join(resolution.suggestions)}?" if resolution.suggestions else ""
                raise CatalogConfigError(f"{where}.alias_of: unknown model {alias_of!r}{hint}")
            base = resolution.info
        else:
            base = catalog.get(name) or catalog.resolve(name).info

        if base is None:
            provider = values.get("provider", "custom")
            info = ModelInfo(
                id=name,
                provider=provider,
                context_window=None,
                max_output=None,
                input_per_mtok=None,
                output_per_mtok=None,
                cached_input_per_mtok=None,
                deprecation_date=None,
                successor=None,
                tokenizer=tokenizer_for(name, provider),
                supports_prompt_caching=False,
                prompt_cache_min_tokens=None,
                source="config",
            )
        else:
            info = dataclasses.replace(base, id=name, source="config")
            price_refs[name] = base.id
        if any(field in values for field in PRICE_FIELDS):
            config_priced.add(name)
            if base is not None:
                # Configured prices replace the catalog's; tiers from another price list would not apply.
                info = dataclasses.replace(info, tiers=())
        custom[name] = dataclasses.replace(info, **values)
    return custom, price_refs, frozenset(config_priced)
