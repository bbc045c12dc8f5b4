"""Endpoint-aware model ids in the catalog: "did you mean" never suggests the id itself and prefers first-party
entries; an id served by a self-hosted server resolves to the same open model's entry."""

from __future__ import annotations

import pytest

from promptls.analysis.context import Context
from promptls.analysis.rules.models import model_findings
from promptls.catalog import load_catalog
from promptls.config import Config, from_dict
from promptls.core.positions import Span


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize("ref", ["Qwen/Qwen2.5-7B-Instruct", "qwen/qwen2.5-7b-instruct", "QWEN2.5-7B-INSTRUCT"])
def test_never_the_id_itself(catalog, ref):
    assert catalog.resolve(ref, "openai").info is None
    found = list(model_findings(ref, Span(0, len(ref)), "openai", Context(Config())))
    assert [f.code for f in found] == ["MD001"]
    assert "did you mean" not in found[0].message or ref.lower() not in found[0].message.lower().split("mean")[1]


def test_a_bare_id_is_not_corrected_to_itself_behind_a_gateway(catalog):
    res = catalog.resolve("qwen2.5-7b-instruct", "openai")
    assert all(s.rsplit("/", 1)[-1].lower() != "qwen2.5-7b-instruct" for s in res.suggestions)


def test_first_party_first(catalog):
    res = catalog.resolve("claude-sonet-4-5")
    assert res.suggestions[0] == "claude-sonnet-4-5"
    res = catalog.resolve("gpt-4oo")
    assert "/" not in res.suggestions[0]


@pytest.mark.parametrize("ref", ["Qwen/Qwen2.5-7B-Instruct", "qwen2.5:7b-instruct", "qwen2.5-7b-instruct"])
def test_self_hosted_ids_resolve_to_the_open_model(catalog, ref):
    res = catalog.resolve_open(ref)
    assert res.info is not None and res.info.id.lower().endswith("qwen2.5-7b-instruct")
    assert res.suggestions == []


def test_self_hosted_unknown_id_has_no_suggestions(catalog):
    res = catalog.resolve_open("my-finetune-v3")
    assert res.info is None and res.suggestions == []


def test_deployments_config():
    cfg, errors = from_dict({"deployments": {"support-gpt4o-prod": "gpt-4o", "bad": 3}})
    assert cfg.deployments == {"support-gpt4o-prod": "gpt-4o"}
    assert errors == ["deployments.bad: expected a model id string, got 3"]
    cfg, errors = from_dict({"deployments": "gpt-4o"})
    assert cfg.deployments == {} and errors


def test_self_hosted_detection():
    from promptls.documents.code.endpoints import is_self_hosted

    for url in ("http://vllm:8000/v1", "http://localhost:11434/v1", "http://127.0.0.1:1234/v1", "http://10.0.0.7/v1",
                "http://tgi.internal/v1", "http://gpu-box.local:8080"):
        assert is_self_hosted(url), url
    for url in ("https://api.openai.com/v1", "https://openrouter.ai/api/v1", "https://api.together.xyz/v1"):
        assert not is_self_hosted(url), url
