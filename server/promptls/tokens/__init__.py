"""Offline token counting: exact tiktoken counts from bundled encodings, labelled estimates otherwise.

Nothing here touches the network and ``import promptls.tokens`` does not import tiktoken; encodings are
built on first use and cached per process.
"""

from promptls.tokens.chat import ChatCount, count_chat
from promptls.tokens.counter import (
    KNOWN_TOKENIZERS,
    EstimateCounter,
    ExactCounter,
    TokenCounter,
    clear_counter_cache,
    counter_for_tokenizer,
)
from promptls.tokens.encodings import BUNDLED_ENCODINGS, TokenizerDataError, clear_cache, get_encoding
from promptls.tokens.estimates import ESTIMATES, FamilyEstimate
from promptls.tokens.overhead import OVERHEADS, ChatOverhead, overhead_for_family


def clear_caches() -> None:
    """Forget every built encoding and counter (for tests that need a cold start)."""
    clear_counter_cache()
    clear_cache()


__all__ = [
    "BUNDLED_ENCODINGS",
    "ESTIMATES",
    "KNOWN_TOKENIZERS",
    "OVERHEADS",
    "ChatCount",
    "ChatOverhead",
    "EstimateCounter",
    "ExactCounter",
    "FamilyEstimate",
    "TokenCounter",
    "TokenizerDataError",
    "clear_caches",
    "count_chat",
    "counter_for_tokenizer",
    "get_encoding",
    "overhead_for_family",
]
