"""Token counters: exact ones over the bundled tiktoken encodings and the optional ``promptls[tokenizers]``
packages, labelled estimates for other families."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Final

from promptls.tokens import extra
from promptls.tokens.encodings import BUNDLED_ENCODINGS, get_encoding
from promptls.tokens.estimates import ESTIMATES, FamilyEstimate, measured_bound

ESTIMATE_PREFIX: Final = "estimate:"
# What a model the catalog does not know is counted with (the encoding of current OpenAI models).
DEFAULT_TOKENIZER = "o200k_base"

KNOWN_TOKENIZERS: tuple[str, ...] = (
    *BUNDLED_ENCODINGS,
    *(f"{ESTIMATE_PREFIX}{family}" for family in ESTIMATES),
)


class TokenCounter:
    """Counts tokens in a text. ``exact`` is False for estimates, whose ``name`` starts with ``estimate:``."""

    name: str
    exact: bool
    family: str
    description: str
    # For estimates: the measured error bound in percent (see estimates.measured_bound); None when exact or
    # when the estimate could not be measured.
    error_pct: int | None = None

    def count(self, text: str) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class _EncodingCounter(TokenCounter):
    """An exact counter over an encoder function, with a memo of recent long texts (the same system prompt is
    counted again on every keystroke)."""

    _encode: Callable[[str], list[int]]
    _memo: _Memo

    def count_uncached(self, text: str) -> int:
        """The count without the memo (benchmarks of the tokenizer itself)."""
        return len(self._encode(text))

    def count(self, text: str) -> int:
        hit = self._memo.get(text)
        if hit is not None:
            return hit
        n = len(self._encode(text))
        self._memo.put(text, n)
        return n


class ExactCounter(_EncodingCounter):
    """Exact count with a bundled tiktoken encoding; special-token text counts as ordinary text."""

    def __init__(self, encoding_name: str) -> None:
        encoding = get_encoding(encoding_name)
        self.name = encoding_name
        self.exact = True
        self.family = "openai"
        self.description = f"exact count with tiktoken {encoding_name}"
        # encode_ordinary never raises on '<|endoftext|>' in user text, and is what the APIs do with it.
        self._encode: Callable[[str], list[int]] = encoding.encode_ordinary
        self._memo = _Memo()



class _Memo:
    """Counts of recently seen texts. An edit changes one message of a prompt; the others are re-rendered to
    identical strings, so re-counting them is wasted BPE work. Bounded by total characters held; thread-safe
    enough for the server's worker threads (a lost update only costs a recount)."""

    MAX_CHARS = 8_000_000
    MIN_CHARS = 256  # below this, hashing the key costs about as much as counting

    def __init__(self) -> None:
        self._data: dict[str, int] = {}
        self._chars = 0

    def get(self, text: str) -> int | None:
        if len(text) < self.MIN_CHARS:
            return None
        return self._data.get(text)

    def put(self, text: str, n: int) -> None:
        if len(text) < self.MIN_CHARS or len(text) > self.MAX_CHARS // 4:
            return
        if self._chars + len(text) > self.MAX_CHARS:
            self._data.clear()
            self._chars = 0
        if text not in self._data:
            self._data[text] = n
            self._chars += len(text)


class ExtraExactCounter(_EncodingCounter):
    """Exact count with an optional package's own tokenizer (see ``tokens.extra``), loaded on first use."""

    def __init__(self, tokenizer_id: str, family: str) -> None:
        self.name = tokenizer_id
        self.exact = True
        self.family = family
        self.description = f"exact count with {tokenizer_id} ({extra.spec(tokenizer_id).distribution})"  # type: ignore[union-attr]
        self._encode = extra.encoder(tokenizer_id)
        self._memo = _Memo()



class EstimateCounter(TokenCounter):
    """Scaled count from a bundled encoding for a family whose tokenizer is not available offline."""

    def __init__(self, estimate: FamilyEstimate) -> None:
        self.name = f"{ESTIMATE_PREFIX}{estimate.family}"
        self.exact = False
        self.family = estimate.family
        self.estimate = estimate
        self.description = estimate.describe()
        self.error_pct = measured_bound(estimate.family)
        self._base = _exact_counter(estimate.base_encoding)
        self._factor = estimate.factor

    def count_uncached(self, text: str) -> int:
        base = self._base.count_uncached(text)  # type: ignore[attr-defined]
        return base if self._factor == 1.0 else math.ceil(base * self._factor)

    def count(self, text: str) -> int:
        base = self._base.count(text)
        if self._factor == 1.0:
            return base
        return math.ceil(base * self._factor)


_lock = threading.RLock()
_counters: dict[str, TokenCounter] = {}


def _exact_counter(encoding_name: str) -> TokenCounter:
    return counter_for_tokenizer(encoding_name)


def counter_for_tokenizer(tokenizer_id: str) -> TokenCounter:
    """The (per-process cached) counter for ``o200k_base``, ``cl100k_base``, an extra tokenizer (``llama3``,
    ``mistral-common:<model>``, ...; see ``tokens.extra``) or ``estimate:<family>``.

    The first call for an encoding builds it from the bundled file (about 0.5-1 s); later calls are free.
    Raises ValueError for an id not in KNOWN_TOKENIZERS.
    """
    counter = _counters.get(tokenizer_id)
    if counter is not None:
        return counter
    with _lock:
        counter = _counters.get(tokenizer_id)
        if counter is not None:
            return counter
        found = extra.spec(tokenizer_id)
        if tokenizer_id in BUNDLED_ENCODINGS:
            counter = ExactCounter(tokenizer_id)
        elif found is not None:
            # Without the extra installed the family's estimate stands in, under its own (estimate:) name.
            counter = (ExtraExactCounter(tokenizer_id, found.family) if extra.available(tokenizer_id)
                       else counter_for_tokenizer(f"{ESTIMATE_PREFIX}{found.family}"
                                                  if found.family in ESTIMATES else f"{ESTIMATE_PREFIX}unknown"))
        elif tokenizer_id.startswith(ESTIMATE_PREFIX) and tokenizer_id[len(ESTIMATE_PREFIX) :] in ESTIMATES:
            counter = EstimateCounter(ESTIMATES[tokenizer_id[len(ESTIMATE_PREFIX) :]])
        else:
            raise ValueError(f"unknown tokenizer {tokenizer_id!r}; expected one of: {', '.join(KNOWN_TOKENIZERS)}")
        _counters[tokenizer_id] = counter
        return counter


def clear_counter_cache() -> None:
    """Forget cached counters (they hold references to built encodings)."""
    with _lock:
        _counters.clear()
