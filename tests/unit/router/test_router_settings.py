"""Router settings: typed parse, clear messages for bad values (never an exception), JSON Schema."""

from __future__ import annotations

import jsonschema
import pytest

from promptls.router.settings import (
    DEFAULT_DEADLINES,
    DEFAULT_EXCLUDES,
    ROUTER_SETTINGS_SCHEMA,
    parse_router_settings,
)

EXAMPLE = {
    "providers": {
        "fast": {"kind": "openai", "model": "gpt-4o-mini", "base_url": "http://127.0.0.1:8000/v1",
                 "api_key_env": "OPENAI_API_KEY", "timeout_s": 30},
        "claude": {"kind": "anthropic", "model": "claude-haiku-4-5", "max_tokens": 512,
                   "params": {"top_k": 5}},
        "local": {"kind": "local", "n_ctx": 4096},
    },
    "router": {
        "completion": ["fast", "local"],
        "action": ["claude", "fast", "local"],
        "run": ["claude"],
        "max_attempts": 4,
        "when_all_cooling": "fail",
        "deadlines": {"completion": {"first_token_s": 1.5, "idle_s": 2, "total_s": 8}},
    },
    "cache": {"cache_sampled": True, "memory_entries": 64},
    "budget": {"daily_usd": 2.5, "monthly_usd": 40, "on_exceed": "downgrade", "downgrade": ["local"]},
    "privacy": {"exclude": [*DEFAULT_EXCLUDES, "*.internal.md"]},
}


def test_example_parses_without_errors():
    s, errors = parse_router_settings(EXAMPLE)
    assert errors == []
    assert s.providers["fast"].base_url == "http://127.0.0.1:8000/v1"
    assert s.providers["fast"].timeout_s == 30.0
    assert s.providers["claude"].params == {"top_k": 5}
    assert s.providers["local"].model == "smollm2"  # the kind's default model
    assert s.chain("action") == ["claude", "fast", "local"]
    assert s.router.max_attempts == 4 and s.router.when_all_cooling == "fail"
    assert s.router.deadlines["completion"].first_token_s == 1.5
    assert s.router.deadlines["run"].total_s == DEFAULT_DEADLINES["run"].total_s  # untouched default
    assert s.cache.cache_sampled and s.cache.memory_entries == 64
    assert s.budget.daily_usd == 2.5 and s.budget.on_exceed == "downgrade"
    assert s.privacy.exclude[-1] == "*.internal.md"


def test_empty_config_gives_every_backend_and_default_chains():
    s, errors = parse_router_settings({})
    assert errors == []
    assert set(s.providers) == {"anthropic", "openai", "gemini", "ollama", "local"}
    assert s.chain("completion") == list(s.providers)


@pytest.mark.parametrize(
    ("cfg", "fragment"),
    [
        ({"providers": {"x": {"kind": "mistral"}}}, "'kind' must be one of"),
        ({"providers": {"x": {"kind": "openai", "temprature": 1}}}, "unknown key 'temprature'"),
        ({"providers": {"x": {"kind": "openai", "timeout_s": "fast"}}}, "'providers.x.timeout_s' must be a number"),
        ({"providers": {"x": {"kind": "openai", "timeout_s": -1}}}, "must not be negative"),
        ({"providers": {"x": {"kind": "openai", "api_key": "k"}}}, "keys never go in a file"),
        ({"providers": {"x": {"kind": "openai"}}, "router": {"run": ["y"]}}, "unknown provider(s) y"),
        ({"router": {"completion": "openai", "max_attempts": 0}}, "'router.max_attempts' must be at least 1"),
        ({"router": {"when_all_cooling": "maybe"}}, "when_all_cooling"),
        ({"budget": {"on_exceed": "panic"}}, "'budget.on_exceed'"),
        ({"cache": {"enabled": "yes"}}, "'cache.enabled' must be true or false"),
        ({"privacy": {"exclude": ".env"}}, "'privacy.exclude' must be a list of strings"),
        ({"router": {"deadlines": {"chat": {}}}}, "unknown purpose 'chat'"),
        ({"providers": 5}, "[providers] must be a table"),
    ],
)
def test_bad_values_are_reported_not_raised(cfg, fragment):
    s, errors = parse_router_settings(cfg)
    assert any(fragment in e for e in errors), errors
    assert s is not None


def test_garbage_never_raises():
    for cfg in (None, [], {"router": [1, 2]}, {"providers": {"a": None}}, {"budget": {"daily_usd": True}}):
        s, errors = parse_router_settings(cfg)  # type: ignore[arg-type]
        assert s is not None and isinstance(errors, list)


def test_schema_is_valid_and_accepts_the_example():
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": ROUTER_SETTINGS_SCHEMA}
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(EXAMPLE, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"providers": {"x": {"kind": "nope"}}}, schema)
