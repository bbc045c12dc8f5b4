"""What a routed call costs, asked of the configuration's catalog (`promptls.catalog`, the one pricing path): the
prices of `[models]` apply here as in the editor, so `promptls usage` and the budgets agree with it."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from promptls.providers.base import Usage

if TYPE_CHECKING:
    from promptls.catalog import Catalog
    from promptls.config import Config

log = logging.getLogger("promptls.router")

FREE_KINDS = {"local", "ollama"}


def price_usd(kind: str, model: str, usage: Usage, catalog: Catalog | None = None) -> float | None:
    """Cost in USD of `usage` on `model`, 0 for local backends, None when the catalog does not know the model.
    `catalog`: the configuration's (`catalog_for`); the bundled one when None."""
    if kind in FREE_KINDS:
        return 0.0
    try:
        if catalog is None:
            from promptls.catalog import load_catalog  # deferred: the router is imported at start-up, prices later

            catalog = load_catalog()
        return catalog.price_call(
            model,
            usage.input_tokens,
            usage.output_tokens,
            cached_input_tokens=usage.cached_input_tokens,
        ).cost_usd
    except Exception as exc:  # a catalog bug must not fail a call that already succeeded
        log.debug("pricing %s failed: %s", model, exc)
        return None


def models_catalog(config: Config) -> Catalog | None:
    """The catalog a router prices with: the configuration's (`catalog_for`: its `[models]` table applied, built
    once per configuration); None, the bundled one, without a table, or when the table is invalid (the config
    loader reports why)."""
    if not config.models:
        return None
    from promptls.catalog import CatalogConfigError, catalog_for  # deferred: see `price_usd`

    try:
        return catalog_for(config)
    except CatalogConfigError as exc:
        log.warning("[models] not applied to prices: %s", exc)
        return None


def estimate_prompt_tokens(text_chars: int, n_messages: int) -> int:
    """A deliberately high prompt-size estimate for budget reservations: 3 characters a token (real text runs
    nearer 4) plus the per-message framing chat APIs add. Settling replaces it with the real count."""
    return text_chars // 3 + 4 * n_messages + 8


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))
    return "" if content is None else json.dumps(content, default=str)


def count_usage(kind: str, model: str, messages: list[dict[str, Any]], output: str) -> Usage:
    """The usage of a call whose backend reported none: the prompt counted as a chat (framing included) and
    the output text, both with the model's tokenizer from the catalog (exact for OpenAI models, the family's
    documented estimate otherwise)."""
    from promptls.catalog.tokenizer_map import tokenizer_for
    from promptls.tokens import count_chat, counter_for_tokenizer

    try:
        counter = counter_for_tokenizer(tokenizer_for(model, kind))
    except ValueError:
        counter = counter_for_tokenizer("o200k_base")
    pairs = [(str(m.get("role") or "user"), _text(m.get("content"))) for m in messages]
    prompt = count_chat(pairs, counter).total if pairs else 0
    return Usage(input_tokens=prompt, output_tokens=counter.count(output) if output else 0)


_warm = False


def warm(catalog: Catalog | None = None) -> None:
    """Load the price tables (a fraction of a second, once); the router runs this in a worker thread."""
    global _warm
    if not _warm:
        price_usd("openai", "gpt-4o-mini", Usage(input_tokens=1, output_tokens=1), catalog)
        _warm = True


def is_warm() -> bool:
    return _warm
