"""Labels that never lie: only a model whose own tokenizer promptls runs is counted "exact"; everything else is
``estimate:<family>``, and an id the catalog does not know takes its provider's estimate."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from promptls.catalog import load_catalog
from promptls.catalog.tokenizer_map import model_tail, tokenizer_for_reference
from promptls.tokens import extra

TODAY = date(2026, 12, 7)


def _analyze(tmp_path: Path, name: str, text: str):
    from promptls.analysis.engine import analyze_path
    from promptls.config import Config

    path = tmp_path / name
    path.write_text(text, "utf-8")
    return analyze_path(str(path), Config(), today=TODAY)[0]


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("claude-3-opus-20240229", "estimate:claude"),  # the example: was "exact, o200k_base"
        ("anthropic/claude-next-9", "estimate:claude"),  # unknown id, family in the name
        ("anthropic/zephyr-9", "estimate:claude"),  # unknown id, family only from the provider
        ("googleai/some-future-model", "estimate:gemini"),
        ("mistral/brand-new", "estimate:mistral"),
        ("acme/mystery-1", "estimate:unknown"),
        ("gpt-4o", "o200k_base"),  # OpenAI's own encoding stays exact
    ],
)
def test_prompt_token_label(tmp_path: Path, model: str, label: str) -> None:
    report = _analyze(tmp_path, "a.prompt", f"---\nmodel: {model}\n---\nHello there.\n")
    assert report.tokens is not None and report.tokens.tokenizer == label
    assert report.tokens.exact is (not label.startswith("estimate:"))


def test_prompty_provider_picks_the_estimate(tmp_path: Path) -> None:
    text = ("---\nname: t\nmodel:\n  api: chat\n  configuration:\n    type: mistral\n  id: totally-new\n---\n"
            "system:\nHello.\n")
    report = _analyze(tmp_path, "a.prompty", text)
    assert report.tokens is not None and not report.tokens.exact


def test_sdk_call_with_an_unknown_anthropic_model_is_an_estimate(tmp_path: Path) -> None:
    code = ("import anthropic\nclient = anthropic.Anthropic(timeout=10)\n"
            "client.messages.create(model='claude-next-9', max_tokens=100,\n"
            "    messages=[{'role': 'user', 'content': 'Hello there, how are you today?'}])\n")
    report = _analyze(tmp_path, "a.py", code)
    (call,) = report.calls
    assert call.tokenizer == "estimate:claude" and call.exact is False


def test_no_catalog_model_is_counted_exact_with_another_vendors_tokenizer() -> None:
    families = {"claude": "claude", "gemini": "gemini", "gemma": "gemini", "llama": "llama", "mistral": "mistral",
                "mixtral": "mistral", "codestral": "mistral", "pixtral": "mistral", "qwen": "qwen", "qwq": "qwen",
                "deepseek": "deepseek", "command": "cohere"}
    liars = []
    for info in load_catalog().all():
        if not info.tokenizer_exact:
            continue
        named = {fam for word, fam in families.items() if word in model_tail(info.id)}
        own = extra.spec(info.tokenizer)
        if (own is None and named and "gpt-oss" not in info.id) or (own is not None and own.family not in named):
            liars.append((info.id, info.tokenizer))
    assert liars == []


def test_reference_fallback() -> None:
    assert tokenizer_for_reference(None) == "o200k_base"  # no model named: the documented default
    assert tokenizer_for_reference("anthropic/x") == "estimate:claude"
    assert tokenizer_for_reference("x", "anthropic") == "estimate:claude"
    assert tokenizer_for_reference("openai/next-gen") == "estimate:openai"
