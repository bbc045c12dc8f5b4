"""Tests for promptls.catalog.training: the bundled fine-tuning table, model resolution, overrides, validation."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from promptls.catalog.training import (
    base_model_name,
    finetune_table,
    parse_table,
    training_cost,
    training_target,
)

EXPECTED = {  # OpenAI pricing page: training price per 1M tokens, and the per-example training context
    "gpt-4.1-2025-04-14": (25.0, 65536, "o200k_base"),
    "gpt-4.1-mini-2025-04-14": (5.0, 65536, "o200k_base"),
    "gpt-4.1-nano-2025-04-14": (1.5, 65536, "o200k_base"),
    "gpt-4o-2024-08-06": (25.0, 65536, "o200k_base"),
    "gpt-4o-mini-2024-07-18": (3.0, 65536, "o200k_base"),
    "gpt-3.5-turbo-0125": (8.0, 16385, "cl100k_base"),
}


def _document() -> dict:
    return json.loads(resources.files("promptls").joinpath("data", "finetune_models.json").read_text("utf-8"))


def test_bundled_table_has_the_fine_tunable_models_with_source_and_date():
    table = finetune_table()
    assert {m: (e.training_per_mtok, e.training_context, e.tokenizer) for m, e in table.models.items()} == EXPECTED
    assert table.source.startswith("https://platform.openai.com/")
    assert len(table.as_of) in (7, 10) and table.as_of[4] == "-"  # YYYY-MM or YYYY-MM-DD


@pytest.mark.parametrize(("ref", "model"), [
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("GPT-4o-Mini-2024-07-18", "gpt-4o-mini-2024-07-18"),
    ("openai/gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"),
    ("ft:gpt-4o-mini-2024-07-18:acme:support-bot:9xYzAbCd", "gpt-4o-mini-2024-07-18"),
    ("ft:gpt-3.5-turbo-0125:acme::8AbCdEf", "gpt-3.5-turbo-0125"),
    ("gpt-3.5-turbo", "gpt-3.5-turbo-0125"),
])
def test_aliases_prefixes_and_fine_tuned_ids_resolve_to_the_snapshot(ref, model):
    target = training_target(ref)
    assert target.known and target.model == model
    assert target.price_per_mtok == EXPECTED[model][0]


def test_base_model_name_keeps_plain_names():
    assert base_model_name("  gpt-4o ") == "gpt-4o"
    assert base_model_name("ft:gpt-4o-2024-08-06:org::id") == "gpt-4o-2024-08-06"


def test_unknown_models_have_no_price_and_say_why():
    in_catalog = training_target("gpt-4o-2024-05-13")  # an older snapshot OpenAI does not fine-tune
    assert not in_catalog.known and in_catalog.price_per_mtok is None
    assert (in_catalog.max_example_tokens, in_catalog.tokenizer) == (128000, "o200k_base")
    assert "catalog's context window" in in_catalog.limit_source
    assert "no training price" in (in_catalog.price_source or "")
    nowhere = training_target("my-private-model")
    assert nowhere.max_example_tokens is None and "no limit known" in nowhere.limit_source
    assert nowhere.tokenizer == "estimate:unknown"
    assert training_target("claude-sonnet-4-legacy-x").tokenizer == "estimate:claude"


def test_settings_override_limit_and_price():
    target = training_target("gpt-4o-mini", max_example_tokens=4096, price_per_mtok=2.5)
    assert (target.max_example_tokens, target.limit_source) == (4096, "settings")
    assert (target.price_per_mtok, target.price_source) == (2.5, "settings")


def test_training_cost():
    assert training_cost(3_000_000, 3.0) == pytest.approx(9.0)
    assert training_cost(3_000_000, None) is None


@pytest.mark.parametrize(("mutate", "error"), [
    (lambda d: d.pop("as_of"), "`as_of`"),
    (lambda d: d.update(models={}), "`models`"),
    (lambda d: d["models"]["gpt-4o-2024-08-06"].update(training_context="65k"), "training_context"),
    (lambda d: d["models"]["gpt-4o-2024-08-06"].update(training_per_mtok=-1), "training_per_mtok"),
    (lambda d: d["models"]["gpt-4o-2024-08-06"].update(tokenizer="p50k_base"), "tokenizer"),
    (lambda d: d["models"]["gpt-4.1-2025-04-14"].update(aliases=["gpt-4o"]), "listed twice"),
])
def test_parse_table_rejects_a_malformed_file(mutate, error):
    document = copy.deepcopy(_document())
    mutate(document)
    with pytest.raises(ValueError, match=error):
        parse_table(document)
