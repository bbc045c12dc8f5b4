"""Tests for promptls.tokens: bundled encodings, hash checks, offline use, estimates, chat overhead."""

from __future__ import annotations

import hashlib
import inspect
import math
import os
import shutil
import socket
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from promptls import tokens
from promptls.tokens import (
    ESTIMATES,
    KNOWN_TOKENIZERS,
    OVERHEADS,
    TokenizerDataError,
    count_chat,
    counter_for_tokenizer,
)
from promptls.tokens.encodings import build_encoding_from_path, encoding_definition

SAMPLES = [
    "",
    "Hello, world!",
    "tiktoken is great!",
    "def add(a: int, b: int) -> int:\n    return a + b  # sum\n",
    "Résumé naïve café — ünïcödé; 日本語のテキスト; 中文文本; emoji 🦊🚀 and ZWJ 👩‍💻",
    "   leading spaces\n\n\n\ttabs\r\nCRLF   trailing   ",
    "Text with <|endoftext|> and <|endofprompt|> and <|fim_prefix|> inside",
    "{{#if user}}Hello {{user.name}}{{/if}}\n---\nmodel: googleai/gemini-2.5-flash\n---\n",
    "1234567890 3.14159 1e-10 0xDEADBEEF",
    "a" * 5000,
]


class NetworkBlocked(AssertionError):
    """Raised by the socket guard: a test tried to reach the network."""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise NetworkBlocked("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _bundled_path(name: str) -> Path:
    return Path(str(resources.files("promptls").joinpath("data", f"{name}.tiktoken")))


@pytest.fixture(scope="module")
def reference_encodings(tmp_path_factory: pytest.TempPathFactory):
    """Encodings built by tiktoken's own loader and constructors, independent of promptls' code path.

    tiktoken looks in TIKTOKEN_CACHE_DIR under sha1(url) before downloading, so a cache primed with the
    bundled files lets its normal code path run offline (and it checks the sha256 itself).
    """
    import tiktoken
    from tiktoken_ext import openai_public

    cache = tmp_path_factory.mktemp("tiktoken-cache")
    built = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        for name in ("o200k_base", "cl100k_base"):
            url = encoding_definition(name).source_url
            shutil.copy(_bundled_path(name), cache / hashlib.sha1(url.encode()).hexdigest())
            built[name] = tiktoken.Encoding(**openai_public.ENCODING_CONSTRUCTORS[name]())
    return built


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_exact_counts_match_tiktoken_reference(name: str, reference_encodings, no_network) -> None:
    counter = counter_for_tokenizer(name)
    reference = reference_encodings[name]
    assert counter.exact is True
    assert counter.name == name
    for text in SAMPLES:
        expected = len(reference.encode(text, disallowed_special=()))
        assert counter.count(text) == expected, text[:40]


def test_openai_cookbook_example() -> None:
    # OpenAI Cookbook, "How to count tokens with tiktoken": "tiktoken is great!" is 6 tokens in cl100k_base,
    # [83, 1609, 5963, 374, 2294, 0].
    assert tokens.get_encoding("cl100k_base").encode_ordinary("tiktoken is great!") == [83, 1609, 5963, 374, 2294, 0]
    assert counter_for_tokenizer("cl100k_base").count("tiktoken is great!") == 6


def test_special_token_text_is_counted_not_rejected(reference_encodings) -> None:
    text = "before <|endoftext|> after"
    counter = counter_for_tokenizer("o200k_base")
    ordinary = len(reference_encodings["o200k_base"].encode(text, disallowed_special=()))
    as_special = len(reference_encodings["o200k_base"].encode(text, allowed_special="all"))
    assert counter.count(text) == ordinary
    assert ordinary > as_special  # proves the marker was split as text, not taken as one special token


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_bundled_file_matches_tiktoken_expected_hash(name: str) -> None:
    from tiktoken_ext import openai_public

    definition = encoding_definition(name)
    assert hashlib.sha256(_bundled_path(name).read_bytes()).hexdigest() == definition.expected_sha256
    # The hash was read from tiktoken's constructor, not typed in promptls.
    assert definition.expected_sha256 in inspect.getsource(openai_public.ENCODING_CONSTRUCTORS[name])


def test_corrupted_copy_raises(tmp_path: Path) -> None:
    data = bytearray(_bundled_path("cl100k_base").read_bytes())
    data[100] ^= 0x01
    corrupted = tmp_path / "cl100k_base.tiktoken"
    corrupted.write_bytes(bytes(data))
    with pytest.raises(TokenizerDataError, match="sha256"):
        build_encoding_from_path("cl100k_base", corrupted)


def test_truncated_copy_raises(tmp_path: Path) -> None:
    truncated = tmp_path / "o200k_base.tiktoken"
    truncated.write_bytes(_bundled_path("o200k_base").read_bytes()[:1000])
    with pytest.raises(TokenizerDataError, match="corrupted"):
        build_encoding_from_path("o200k_base", truncated)


def test_unbundled_encoding_is_rejected() -> None:
    with pytest.raises(KeyError):
        encoding_definition("p50k_base")


def test_cold_build_never_touches_network_or_tiktoken_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network
) -> None:
    empty_cache = tmp_path / "empty-cache"
    empty_cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(empty_cache))
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("127.0.0.1", 9))  # the guard is really in place
    tokens.clear_caches()
    try:
        for name in ("o200k_base", "cl100k_base", "estimate:claude"):
            assert counter_for_tokenizer(name).count("offline token counting works") > 0
    finally:
        tokens.clear_caches()
    assert list(empty_cache.iterdir()) == []


@pytest.mark.parametrize("family", sorted(ESTIMATES))
def test_estimates_are_labelled_and_scaled(family: str, reference_encodings) -> None:
    estimate = ESTIMATES[family]
    counter = counter_for_tokenizer(f"estimate:{family}")
    assert counter.exact is False
    assert counter.name == f"estimate:{family}"
    assert "estimate" in counter.description
    assert estimate.source and estimate.error
    reference = reference_encodings[estimate.base_encoding]
    for text in SAMPLES:
        expected = math.ceil(len(reference.encode(text, disallowed_special=())) * estimate.factor)
        assert counter.count(text) == expected


def test_known_tokenizers_all_build_and_unknown_raises() -> None:
    for tokenizer_id in KNOWN_TOKENIZERS:
        assert counter_for_tokenizer(tokenizer_id).name == tokenizer_id
    with pytest.raises(ValueError, match="unknown tokenizer"):
        counter_for_tokenizer("cl100k")
    with pytest.raises(ValueError, match="unknown tokenizer"):
        counter_for_tokenizer("estimate:klingon")


def test_counters_are_cached_per_process() -> None:
    assert counter_for_tokenizer("o200k_base") is counter_for_tokenizer("o200k_base")
    assert tokens.get_encoding("o200k_base") is tokens.get_encoding("o200k_base")


MESSAGES = [
    ("system", "You are a helpful, pattern-following assistant."),
    ("user", "Translate 'good morning' into French."),
    ("assistant", "Bonjour."),
    ("user", "And into Japanese? おはよう?"),
]


def test_chat_count_uses_openai_documented_overhead(reference_encodings) -> None:
    reference = reference_encodings["o200k_base"]
    result = count_chat(MESSAGES, counter_for_tokenizer("o200k_base"))
    expected_each = [3 + len(reference.encode_ordinary(r)) + len(reference.encode_ordinary(c)) for r, c in MESSAGES]
    assert result.per_message == expected_each
    assert result.total == sum(expected_each) + 3
    assert result.exact is True
    assert "Cookbook" in result.overhead.source


def test_chat_count_other_families_are_approximate() -> None:
    claude = count_chat(MESSAGES, counter_for_tokenizer("estimate:claude"))
    assert claude.exact is False
    llama_counter = counter_for_tokenizer("estimate:llama")
    llama = count_chat(MESSAGES, llama_counter)
    overhead = OVERHEADS["llama"]
    assert llama.per_message == [
        overhead.per_message + llama_counter.count(r) + llama_counter.count(c) for r, c in MESSAGES
    ]
    assert llama.total == sum(llama.per_message) + overhead.reply_priming
    assert llama.exact is False


def test_empty_chat_is_just_reply_priming() -> None:
    result = count_chat([], counter_for_tokenizer("cl100k_base"))
    assert result.per_message == []
    assert result.total == OVERHEADS["openai"].reply_priming


def test_importing_tokens_does_not_import_tiktoken() -> None:
    code = "import sys, promptls.tokens; print('tiktoken' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
