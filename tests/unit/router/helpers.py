"""Helpers shared by the router tests (importable as `tests.unit.router.helpers`; fixtures live in conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from promptls.router import parse_router_settings
from promptls.router.settings import RouterSettings

REPO = Path(__file__).resolve().parents[3]
KINDS = ("openai", "anthropic", "gemini", "ollama")
KEY_ENVS = {"openai": "PLS_TEST_OPENAI_KEY", "anthropic": "PLS_TEST_ANTHROPIC_KEY", "gemini": "PLS_TEST_GEMINI_KEY"}
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
          "ollama": "qwen2.5-coder:1.5b"}


def provider_table(fakes: Any, kind: str, **extra: Any) -> dict[str, Any]:
    """A `[providers.<kind>]` table pointing at the session's fake for `kind`."""
    t: dict[str, Any] = {"kind": kind, "model": MODELS[kind], "base_url": fakes.url(kind), "timeout_s": 10}
    if kind in KEY_ENVS:
        t["api_key_env"] = KEY_ENVS[kind]
    t.update(extra)
    return t


def settings_for(cfg: dict[str, Any]) -> RouterSettings:
    s, errs = parse_router_settings(cfg)
    assert errs == [], errs
    return s
