"""Tests for promptls.catalog: id mapping, did-you-mean, deprecation status, prices, overrides, data file."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from promptls.catalog import (
    CatalogConfigError,
    ModelInfo,
    PriceTier,
    format_models_table,
    load_catalog,
)
from promptls.catalog.catalog import Catalog
from promptls.catalog.data_file import COLUMNS as DATA_COLUMNS
from promptls.catalog.data_file import parse_catalog
from promptls.catalog.pricing import price_model
from promptls.catalog.tokenizer_map import tokenizer_for
from promptls.tokens import KNOWN_TOKENIZERS, extra

REPO = Path(__file__).resolve().parents[3]
COLUMNS = list(DATA_COLUMNS)


def _row(provider: str, max_in: int = 1000, **extra) -> list:
    row = dict.fromkeys(COLUMNS)
    row.update(provider=provider, mode="chat", max_input=max_in, supports_prompt_caching=0, **extra)
    return [row[c] for c in COLUMNS]


@pytest.fixture(scope="module")
def tiny() -> Catalog:
    """A hand-made catalog, so the mapping rules are tested independently of LiteLLM's data."""
    document = {
        "meta": {"source": "test", "source_version": "0", "source_sha256": "0" * 64, "license": "MIT"},
        "columns": COLUMNS,
        "aliases": {"claude-sonnet-latest": "claude-sonnet-9"},
        "models": {
            "gpt-4o": _row("openai", 128000),
            "gpt-4o-2024-08-06": _row("openai", 128001),
            "gpt-4": _row("openai", 8192),
            "gpt-3.5-turbo-0125": _row("openai", 16385),
            "azure/gpt-4o": _row("azure", 128002),
            "azure/gpt-35-turbo": _row("azure", 4096),
            "claude-sonnet-9": _row("anthropic", 200000),
            "claude-haiku-4-5-20251001": _row("anthropic", 200001),
            "claude-haiku-4-5-20250101": _row("anthropic", 200002),
            "gemini/gemini-2.5-flash": _row("gemini", 1048576),
            "gemini-2.5-flash": _row("vertex_ai", 1048577),
            "gemini-2.5-pro": _row("vertex_ai", 1048578),
            "ollama/llama3": _row("ollama", 8192),
            "anthropic.claude-3-haiku-20240307-v1:0": _row("bedrock", 200003),
            "mistral/mistral-large-latest": _row("mistral", 128000),
        },
    }
    return Catalog.from_data(parse_catalog(document))


@pytest.mark.parametrize(
    ("ref", "provider", "canonical"),
    [
        # Genkit / Dotprompt
        ("googleai/gemini-2.5-flash", None, "gemini/gemini-2.5-flash"),
        ("vertexai/gemini-2.5-pro", None, "gemini-2.5-pro"),
        ("vertexai/gemini-2.5-flash", None, "gemini-2.5-flash"),
        ("openai/gpt-4o", None, "gpt-4o"),
        ("anthropic/claude-sonnet-9", None, "claude-sonnet-9"),
        ("ollama/llama3", None, "ollama/llama3"),
        ("ollama/llama3:8b", None, "ollama/llama3"),
        # Prompty model: {provider, id}
        ("gpt-4o", "openai", "gpt-4o"),
        ("gpt-4o", "azure", "azure/gpt-4o"),
        ("gpt-4", "azure", "gpt-4"),  # no Azure entry: the OpenAI model of that name
        ("gpt-35-turbo", "azure", "azure/gpt-35-turbo"),
        ("gpt-35-turbo-0125", "azure_openai", "gpt-3.5-turbo-0125"),
        ("claude-sonnet-9", "anthropic", "claude-sonnet-9"),
        ("gemini-2.5-flash", "googleai", "gemini/gemini-2.5-flash"),
        # LiteLLM prefixes
        ("gemini/gemini-2.5-flash", None, "gemini/gemini-2.5-flash"),
        ("azure/gpt-4o", None, "azure/gpt-4o"),
        ("bedrock/anthropic.claude-3-haiku-20240307-v1:0", None, "anthropic.claude-3-haiku-20240307-v1:0"),
        ("mistral/mistral-large-latest", None, "mistral/mistral-large-latest"),
        # snapshots and -latest
        ("gpt-4o-2024-08-06", None, "gpt-4o-2024-08-06"),
        ("gpt-4o-2031-01-01", None, "gpt-4o"),
        ("claude-sonnet-latest", None, "claude-sonnet-9"),
        ("claude-haiku-4-5-latest", None, "claude-haiku-4-5-20251001"),
        ("anthropic/claude-haiku-4-5-latest", None, "claude-haiku-4-5-20251001"),
        # case
        ("GPT-4o", None, "gpt-4o"),
        ("  openai/gpt-4o ", None, "gpt-4o"),
    ],
)
def test_id_mapping(tiny: Catalog, ref: str, provider: str | None, canonical: str) -> None:
    resolution = tiny.resolve(ref, provider)
    assert resolution.info is not None, resolution
    assert resolution.canonical == canonical
    assert resolution.info.id == canonical
    assert resolution.suggestions == []


@pytest.mark.parametrize(
    ("ref", "provider", "note_part"),
    [
        ("ollama/llama3:8b", None, "Ollama tag"),
        ("gpt-35-turbo-0125", "azure", "Azure name"),
        ("gpt-4o-2031-01-01", None, "not in the catalog"),
        ("claude-sonnet-latest", None, "alias of claude-sonnet-9"),
        ("claude-haiku-4-5-latest", None, "newest"),
    ],
)
def test_non_literal_mappings_say_why(tiny: Catalog, ref: str, provider: str | None, note_part: str) -> None:
    note = tiny.resolve(ref, provider).note
    assert note is not None and note_part in note


def test_provider_prefix_is_respected(tiny: Catalog) -> None:
    # gpt-4o exists, but not as an Anthropic model.
    resolution = tiny.resolve("anthropic/gpt-4o")
    assert resolution.info is None
    assert "gpt-4o" in resolution.suggestions


def test_did_you_mean(tiny: Catalog) -> None:
    resolution = tiny.resolve("gpt-4oo")
    assert resolution.info is None
    assert resolution.canonical == "gpt-4oo"
    assert resolution.suggestions[0] == "gpt-4o"
    google = tiny.resolve("googleai/gemini-2.5-flsh")
    assert google.suggestions[0] == "gemini/gemini-2.5-flash"  # the id the googleai dialect can spell first
    assert tiny.spell(google.suggestions[0], "googleai") == "googleai/gemini-2.5-flash"
    assert tiny.resolve("completely-unrelated-name-xyz").suggestions == []


def test_spell_round_trips(tiny: Catalog) -> None:
    assert tiny.spell("gpt-4o", "openai") == "openai/gpt-4o"
    assert tiny.spell("gemini-2.5-pro", "vertexai") == "vertexai/gemini-2.5-pro"
    assert tiny.spell("gpt-4o", "googleai") is None


def test_get_and_search(tiny: Catalog) -> None:
    assert tiny.get("GPT-4O") is tiny.get("gpt-4o")
    assert tiny.get("openai/gpt-4o") is None  # get() does no dialect mapping
    ids = [info.id for info in tiny.search("gpt-4o")]
    assert ids[0] == "gpt-4o"
    assert set(ids) == {"gpt-4o", "gpt-4o-2024-08-06", "azure/gpt-4o"}
    assert [info.id for info in tiny.search("azure gpt")] == ["azure/gpt-4o", "azure/gpt-35-turbo"]
    assert len(tiny.search("")) == len(tiny.all()) == len(tiny)


def _info(**changes) -> ModelInfo:
    base = ModelInfo(
        id="m",
        provider="acme",
        context_window=1000,
        max_output=100,
        input_per_mtok=1.0,
        output_per_mtok=2.0,
        cached_input_per_mtok=0.5,
        deprecation_date=None,
        successor=None,
        tokenizer="estimate:unknown",
        supports_prompt_caching=False,
        prompt_cache_min_tokens=None,
    )
    return ModelInfo(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes})


def test_status_with_fixed_today() -> None:
    today = date(2026, 6, 1)
    assert _info().status(today) == "active"
    assert _info(successor="m2").status(today) == "deprecated"
    assert _info(deprecation_date=date(2026, 6, 2)).status(today) == "deprecated"
    assert _info(deprecation_date=date(2026, 6, 1)).status(today) == "retired"
    assert _info(deprecation_date=date(2025, 1, 1), successor="m2").status(today) == "retired"


def test_bundled_status_follows_dates() -> None:
    info = load_catalog().get("gpt-4")  # dated by OpenAI's own page (data/model_lifecycle.json)
    assert info is not None and info.deprecation_date is not None and info.date_source == "provider"
    day_before = date.fromordinal(info.deprecation_date.toordinal() - 1)
    assert info.status(day_before) == "deprecated"
    assert info.status(info.deprecation_date) == "retired"
    only_litellm = load_catalog().get("gpt-4o")
    assert only_litellm is not None and only_litellm.deprecation_date and only_litellm.date_source == "litellm"
    assert only_litellm.status(date(2099, 1, 1)) == "deprecated"  # never "retired" on LiteLLM's word alone


# -- bundled catalog -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "provider", "canonical", "model_provider"),
    [
        ("googleai/gemini-2.5-flash", None, "gemini/gemini-2.5-flash", "gemini"),
        ("vertexai/gemini-2.5-pro", None, "gemini-2.5-pro", "vertex_ai"),
        ("openai/gpt-4o", None, "gpt-4o", "openai"),
        ("anthropic/claude-sonnet-4-5", None, "claude-sonnet-4-5", "anthropic"),
        ("ollama/llama3", None, "ollama/llama3", "ollama"),
        ("gpt-4o", "azure", "azure/gpt-4o", "azure"),
        ("gpt-4o-2024-08-06", None, "gpt-4o-2024-08-06", "openai"),
        (
            "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
            None,
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "bedrock",
        ),
    ],
)
def test_bundled_catalog_maps_the_documented_examples(ref, provider, canonical, model_provider) -> None:
    resolution = load_catalog().resolve(ref, provider)
    assert resolution.canonical == canonical
    assert resolution.info is not None and resolution.info.provider == model_provider
    assert resolution.info.context_window and resolution.info.context_window > 0


def test_bundled_catalog_did_you_mean() -> None:
    assert load_catalog().resolve("gpt-4o-mnii").suggestions[0] == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("model_id", "tokenizer"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("o3", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("azure/gpt-35-turbo", "cl100k_base"),
        ("claude-sonnet-4-5", "estimate:claude"),
        ("gemini/gemini-2.5-pro", "estimate:gemini"),
        ("ollama/llama3", "llama3" if extra.available("llama3") else "estimate:llama"),
    ],
)
def test_bundled_tokenizers(model_id: str, tokenizer: str) -> None:
    info = load_catalog().get(model_id)
    assert info is not None and info.tokenizer == tokenizer
    assert info.tokenizer_exact == (not tokenizer.startswith("estimate:"))


def test_tokenizer_rules_for_names_outside_the_catalog() -> None:
    assert tokenizer_for("ollama/gpt-oss:20b", "ollama") == "o200k_base"
    assert tokenizer_for("us.anthropic.claude-x-v1:0", "bedrock") == "estimate:claude"
    assert tokenizer_for("openai/gpt-99", "openai") == "estimate:openai"
    assert tokenizer_for("acme/mystery", "acme") == "estimate:unknown"
    used = {info.tokenizer for info in load_catalog().all()}
    assert {t for t in used if extra.spec(t) is None} <= set(KNOWN_TOKENIZERS)
    assert all(extra.available(t) for t in used if extra.spec(t) is not None)


def test_base_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


# -- prices -------------------------------------------------------------------------------------------


def test_price_crossing_gemini_tier_agrees_with_litellm_tier() -> None:
    catalog = load_catalog()
    info = catalog.get("gemini/gemini-2.5-pro")
    assert info is not None and info.tiers, "catalog must carry the >200k tier"
    tier = info.tiers[0]
    below = catalog.price_call("googleai/gemini-2.5-pro", tier.above_tokens, 1000)
    above = catalog.price_call("googleai/gemini-2.5-pro", tier.above_tokens + 50_000, 1000)
    assert below.tier_note is None
    assert above.tier_note is not None and f"{tier.above_tokens:,}" in above.tier_note
    assert above.source.startswith("genai-prices")
    # genai-prices and LiteLLM are independent price lists; both say the tier rate covers the whole request.
    expected_above = ((tier.above_tokens + 50_000) * tier.input_per_mtok + 1000 * tier.output_per_mtok) / 1e6
    expected_below = (tier.above_tokens * info.input_per_mtok + 1000 * info.output_per_mtok) / 1e6
    assert above.cost_usd == pytest.approx(expected_above)
    assert below.cost_usd == pytest.approx(expected_below)


def test_price_with_cached_input() -> None:
    catalog = load_catalog()
    info = catalog.get("gpt-4o")
    assert info is not None and info.cached_input_per_mtok is not None
    full = catalog.price_call("gpt-4o", 1_000_000, 1000)
    cached = catalog.price_call("gpt-4o", 1_000_000, 1000, cached_input_tokens=400_000)
    saving = 400_000 * (info.input_per_mtok - info.cached_input_per_mtok) / 1e6
    assert full.cost_usd is not None and cached.cost_usd is not None
    assert full.cost_usd - cached.cost_usd == pytest.approx(saving)


def test_price_falls_back_to_catalog_prices() -> None:
    catalog = load_catalog()
    info = catalog.get("dashscope/qwen-max")  # provider genai-prices is never asked about
    assert info is not None and info.input_per_mtok is not None
    price = catalog.price_call("dashscope/qwen-max", 10_000, 2_000)
    assert price.source == catalog.source.label()
    assert price.cost_usd == pytest.approx((10_000 * info.input_per_mtok + 2_000 * info.output_per_mtok) / 1e6)


def test_fallback_prices_apply_tiers_and_cached_rate() -> None:
    info = _info(tiers=(PriceTier(200_000, 2.0, 4.0, 1.0),))
    kwargs = dict(price_ref="m", use_config_prices=False, fallback_source="LiteLLM test")
    low = price_model(info, **kwargs, input_tokens=100_000, output_tokens=10, cached_input_tokens=50_000)
    assert low.tier_note is None
    assert low.cost_usd == pytest.approx((50_000 * 1.0 + 50_000 * 0.5 + 10 * 2.0) / 1e6)
    high = price_model(info, **kwargs, input_tokens=300_000, output_tokens=10, cached_input_tokens=100_000)
    assert high.tier_note is not None and "200,000" in high.tier_note
    assert high.cost_usd == pytest.approx((200_000 * 2.0 + 100_000 * 1.0 + 10 * 4.0) / 1e6)


def test_pricing_works_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    catalog = load_catalog({"offline-check": {"alias_of": "claude-sonnet-4-5"}})
    price = catalog.price_call("offline-check", 5000, 500)
    assert price.cost_usd is not None and price.cost_usd > 0
    assert price.priced_as is not None and "claude-sonnet-4-5" in price.priced_as


def test_price_unknown_model_and_bad_arguments() -> None:
    catalog = load_catalog()
    assert catalog.price_call("no-such-model-anywhere", 10, 10).cost_usd is None
    with pytest.raises(ValueError):
        catalog.price_call("gpt-4o", 10, 10, cached_input_tokens=11)
    with pytest.raises(ValueError):
        catalog.price_call("gpt-4o", -1, 10)


# -- overrides ------------------------------------------------------------------------------------------

MY_MODEL = {
    "context_window": 8192,
    "max_output": 1024,
    "input_per_mtok": 0.1,
    "output_per_mtok": 0.2,
    "tokenizer": "cl100k_base",
    "alias_of": "gpt-4o",
}


def test_custom_model_alias_with_config_prices() -> None:
    catalog = load_catalog({"my-model": MY_MODEL})
    resolution = catalog.resolve("my-model")
    info = resolution.info
    assert info is not None and resolution.canonical == "my-model"
    assert (info.context_window, info.max_output, info.tokenizer) == (8192, 1024, "cl100k_base")
    assert info.provider == load_catalog().get("gpt-4o").provider  # inherited from alias_of
    price = catalog.price_call("my-model", 2_000_000, 500_000)
    assert price.source == "config (models.my-model)"
    assert price.cost_usd == pytest.approx(2 * MY_MODEL["input_per_mtok"] + 0.5 * MY_MODEL["output_per_mtok"])


def test_override_of_known_model_keeps_market_prices() -> None:
    base = load_catalog()
    catalog = load_catalog({"gpt-4o": {"context_window": 64000}})
    assert catalog.get("gpt-4o").context_window == 64000
    assert base.get("gpt-4o").context_window != 64000  # the cached base catalog is untouched
    assert catalog.price_call("gpt-4o", 1000, 1000) == base.price_call("gpt-4o", 1000, 1000)


def test_custom_model_without_alias() -> None:
    catalog = load_catalog({"house-llama": {"provider": "ollama", "context_window": 4096}})
    info = catalog.get("house-llama")
    assert info is not None
    assert (info.provider, info.context_window, info.tokenizer) == ("ollama", 4096, "estimate:llama")
    assert catalog.price_call("house-llama", 10, 10).cost_usd is None
    assert "house-llama" in [i.id for i in catalog.search("house")]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"x": {"contxt_window": 1}}, "did you mean 'context_window'"),
        ({"x": {"context_window": "big"}}, "models.x.context_window"),
        ({"x": {"context_window": True}}, "models.x.context_window"),
        ({"x": {"input_per_mtok": -1}}, "models.x.input_per_mtok"),
        ({"x": {"alias_of": "gpt-4o-mnii"}}, "did you mean gpt-4o-mini"),
        ({"x": {"tokenizer": "cl100k"}}, "unknown tokenizer"),
        ({"x": {"deprecation_date": "soon"}}, "YYYY-MM-DD"),
        ({"x": 3}, "models.x"),
    ],
)
def test_override_errors_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(CatalogConfigError, match=message.replace("(", r"\(")):
        load_catalog(table)


# -- table ---------------------------------------------------------------------------------------------


def test_models_table() -> None:
    infos = [
        _info(id="alpha", context_window=128000),
        _info(id="beta-long-name", context_window=None, deprecation_date=date(2030, 1, 1), successor="gamma"),
    ]
    text = format_models_table(infos, today=date(2026, 1, 1))
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("MODEL")
    assert "128,000" in lines[1] and lines[1].split()[0] == "alpha"
    assert "deprecated 2030-01-01 -> gamma" in lines[2]
    provider_col = lines[0].index("PROVIDER")
    assert all(line[provider_col:].startswith("acme") for line in lines[1:])
    context_end = lines[0].index("CONTEXT") + len("CONTEXT")
    assert lines[1][:context_end].endswith("128,000") and lines[2][:context_end].endswith("-")


# -- data file and build script ----------------------------------------------------------------------------


def test_bundled_data_is_attributed_and_small() -> None:
    data_dir = resources.files("promptls").joinpath("data")
    raw = data_dir.joinpath("model_catalog.json").read_bytes()
    assert len(raw) < 1_000_000
    meta = json.loads(raw)["meta"]
    assert len(meta["source_sha256"]) == 64 and meta["source_version"]
    assert "MIT" in data_dir.joinpath("model_catalog.LICENSE").read_text()
    assert load_catalog().source.version == meta["source_version"]


def _build_script():
    spec = importlib.util.spec_from_file_location("build_catalog", REPO / "scripts" / "build_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_filters_and_records_source(tmp_path: Path) -> None:
    source = {
        "sample_spec": {"mode": "one of: chat, ...", "deprecation_date": "date when ..."},
        "gemini/x-pro": {
            "litellm_provider": "gemini",
            "mode": "chat",
            "max_input_tokens": 1048576,
            "max_output_tokens": 8192,
            "input_cost_per_token": 1.25e-06,
            "output_cost_per_token": 1e-05,
            "cache_read_input_token_cost": 1.25e-07,
            "input_cost_per_token_above_200k_tokens": 2.5e-06,
            "output_cost_per_token_above_200k_tokens": 1.5e-05,
            "input_cost_per_token_above_200k_tokens_priority": 9e-06,
            "deprecation_date": "2030-01-31",
            "successor_model": "gemini/x-pro-2",
            "supports_prompt_caching": True,
            "prompt_cache_min_tokens": 2048,
        },
        "x-vertex": {"litellm_provider": "vertex_ai-language-models", "mode": "completion"},
        "x-embed": {"litellm_provider": "openai", "mode": "embedding", "max_input_tokens": 8191},
        "x-latest": {"alias_of": "gemini/x-pro"},
        "embed-latest": {"alias_of": "x-embed"},
    }
    src = tmp_path / "prices.json"
    src.write_text(json.dumps(source))
    out = tmp_path / "catalog.json"
    lifecycle = tmp_path / "lifecycle.json"
    lifecycle.write_text(json.dumps({"meta": {"version": 1}, "models": []}))
    argv = [str(src), "--source-version", "9.9.9", "--out", str(out), "--lifecycle", str(lifecycle)]
    assert _build_script().main(argv) == 0
    document = json.loads(out.read_text())
    assert document["meta"]["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert document["meta"]["source_version"] == "9.9.9"
    assert set(document["models"]) == {"gemini/x-pro", "x-vertex"}
    assert document["aliases"] == {"x-latest": "gemini/x-pro"}
    data = parse_catalog(document)
    pro = data.models["gemini/x-pro"]
    assert (pro.context_window, pro.max_output, pro.input_per_mtok, pro.cached_input_per_mtok) == (
        1048576,
        8192,
        1.25,
        0.125,
    )
    assert pro.tiers == (PriceTier(200_000, 2.5, 15.0, None),)
    assert pro.deprecation_date == date(2030, 1, 31) and pro.successor == "gemini/x-pro-2"
    assert pro.supports_prompt_caching and pro.prompt_cache_min_tokens == 2048
    assert data.models["x-vertex"].provider == "vertex_ai"


def test_importing_catalog_loads_nothing_heavy() -> None:
    code = (
        "import sys, promptls.catalog as c; "
        "print(sorted(m for m in ('tiktoken', 'genai_prices') if m in sys.modules), c._base is None)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] True"
