"""The model catalog: resolve a model reference in any supported dialect, search, and look up by id."""

from __future__ import annotations

import difflib
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from promptls.catalog.data_file import CatalogData, CatalogSource
from promptls.catalog.ids import (
    DIALECTS,
    LATEST_SUFFIX,
    Dialect,
    azure_to_openai_name,
    generic_dialect,
    ollama_untagged,
    snapshot_key,
    split_prefix,
    strip_snapshot,
)
from promptls.catalog.model_info import ModelInfo
from promptls.catalog.pricing import Price, price_model
from promptls.catalog.tokenizer_map import model_tail

MAX_SUGGESTIONS = 5
# Providers that serve their own models (as opposed to gateways and hosts reselling them): preferred in "did you
# mean" and when an open-model id is matched to an entry.
FIRST_PARTY = frozenset({"openai", "anthropic", "gemini", "vertex_ai", "mistral", "cohere", "cohere_chat",
                         "deepseek", "xai"})
RESOLVE_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving a model reference.

    ``canonical`` is the catalog id when found (else the reference as given); ``note`` explains any
    non-literal mapping (alias, Azure name, snapshot fallback); ``suggestions`` are "did you mean" ids
    when nothing matched.
    """

    info: ModelInfo | None
    canonical: str
    suggestions: list[str] = field(default_factory=list)
    note: str | None = None


class _Index:
    """Lookup tables over the bundled models, built once and shared by catalogs with overrides."""

    def __init__(self, data: CatalogData) -> None:
        self.models = data.models
        self.aliases = data.aliases
        self.lower: dict[str, str] = {key.lower(): key for key in (*data.models, *data.aliases)}
        self._snapshots: dict[str, list[str]] | None = None
        self._tails: dict[str, list[str]] | None = None
        self._segments: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def snapshots(self) -> dict[str, list[str]]:
        """Undated key (lower case) -> its dated snapshot keys, for resolving ``-latest``."""
        if self._snapshots is None:
            with self._lock:
                if self._snapshots is None:
                    table: dict[str, list[str]] = defaultdict(list)
                    for key in self.models:
                        base = strip_snapshot(key)
                        if base is not None:
                            table[base.lower()].append(key)
                    self._snapshots = dict(table)
        return self._snapshots

    def tails(self) -> dict[str, list[str]]:
        """Bare model name (lower case) -> the keys that serve it, for suggestions."""
        if self._tails is None:
            with self._lock:
                if self._tails is None:
                    table: dict[str, list[str]] = defaultdict(list)
                    for key in self.models:
                        table[model_tail(key)].append(key)
                    self._tails = dict(table)
        return self._tails


    def segments(self) -> dict[str, list[str]]:
        """Last path segment of a key (lower case) -> the keys ending in it: `qwen2.5-7b-instruct` ->
        `deepinfra/Qwen/Qwen2.5-7B-Instruct`, ..."""
        if self._segments is None:
            with self._lock:
                if self._segments is None:
                    table: dict[str, list[str]] = defaultdict(list)
                    for key in self.models:
                        table[_segment(key)].append(key)
                    self._segments = dict(table)
        return self._segments


def _segment(ref: str) -> str:
    return ref.rsplit("/", 1)[-1].lower()


class Catalog:
    """Models known to promptls: the bundled LiteLLM-derived table plus the user's ``models`` config."""

    def __init__(
        self,
        index: _Index,
        source: CatalogSource,
        custom: Mapping[str, ModelInfo] | None = None,
        price_refs: Mapping[str, str] | None = None,
        config_priced: Iterable[str] = (),
    ) -> None:
        self._index = index
        self.source = source
        self._custom = dict(custom or {})
        self._custom_lower = {name.lower(): name for name in self._custom}
        self._price_refs = dict(price_refs or {})
        self._config_priced = frozenset(config_priced)
        self._resolve_cache: dict[tuple[str, str | None], Resolution] = {}
        # genai-prices walks its tiers and constraints on every call (~0.7 ms); a file with many calls of one
        # model prices the same token counts again and again. Bounded by clearing when full.
        self._price_cache: dict[tuple[str, str | None, int, int, int], Price] = {}

    @classmethod
    def from_data(cls, data: CatalogData) -> Catalog:
        return cls(_Index(data), data.source)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Catalog:
        """A new catalog with the user's ``models`` table applied (see ``overrides.apply_overrides``)."""
        from promptls.catalog.overrides import apply_overrides

        custom, price_refs, config_priced = apply_overrides(self, overrides)
        return Catalog(
            self._index,
            self.source,
            {**self._custom, **custom},
            {**self._price_refs, **price_refs},
            self._config_priced | config_priced,
        )

    # -- lookups -------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._index.models) + sum(1 for name in self._custom if name not in self._index.models)

    def all(self) -> list[ModelInfo]:
        """Every model (config entries replace bundled ones of the same id), sorted by id."""
        merged = {**self._index.models, **self._custom}
        return [merged[key] for key in sorted(merged)]

    def get(self, model_id: str) -> ModelInfo | None:
        """The model with exactly this canonical id (case-insensitive), no dialect mapping or guessing."""
        custom = self._custom_lower.get(model_id.lower())
        if custom is not None:
            return self._custom[custom]
        key = self._index.lower.get(model_id.lower())
        return self._index.models.get(key) if key is not None else None

    def search(self, query: str = "") -> list[ModelInfo]:
        """Models whose id or provider contains every whitespace-separated term of ``query``.

        Exact id matches come first, then ids starting with the first term, then the rest; shorter ids
        (usually the provider's own) before longer ones.
        """
        terms = query.lower().split()
        hits = [
            info
            for info in self.all()
            if all(term in info.id.lower() or term == info.provider.lower() for term in terms)
        ]
        if not terms:
            return hits
        first = terms[0]

        def rank(info: ModelInfo) -> tuple[int, int, str]:
            lowered = info.id.lower()
            tail = model_tail(lowered)
            if first in (lowered, tail):
                return 0, len(lowered), lowered
            if lowered.startswith(first) or tail.startswith(first):
                return 1, len(lowered), lowered
            return 2, len(lowered), lowered

        return sorted(hits, key=rank)

    # -- resolution ----------------------------------------------------------------------------------

    def resolve(self, ref: str, provider: str | None = None) -> Resolution:
        """Map a model reference to a catalog entry.

        ``ref`` may be a catalog id (``gpt-4o``, ``gemini/gemini-2.5-pro``), a Genkit/Dotprompt reference
        (``googleai/gemini-2.5-flash``, ``vertexai/gemini-2.5-pro``, ``ollama/llama3``), a LiteLLM
        reference (``bedrock/anthropic.claude-...``), a dated snapshot or a ``-latest`` alias. ``provider``
        is a separately given provider, as in Prompty's ``model: {provider: azure, id: gpt-4o}``.
        """
        key = (ref, provider)
        cached = self._resolve_cache.get(key)
        if cached is None:
            if len(self._resolve_cache) >= RESOLVE_CACHE_SIZE:
                # Editors resolve every partial id typed; a full reset keeps memory bounded without LRU
                # bookkeeping on the hot path.
                self._resolve_cache.clear()
            cached = self._resolve_cache[key] = self._resolve(ref.strip(), provider)
        return cached

    def _resolve(self, ref: str, provider: str | None) -> Resolution:
        if not ref:
            return Resolution(None, "", [], "empty model reference")
        custom = self._custom_lower.get(ref.lower())
        if custom is not None:
            return Resolution(self._custom[custom], custom)

        prefix, rest = split_prefix(ref)
        if provider:
            dialect_name: str | None = provider.strip().lower()
            name = rest if prefix == dialect_name else ref
        else:
            exact = self._exact(ref)
            if exact is not None:
                return exact
            dialect_name, name = prefix, rest
        dialect = None
        if dialect_name:
            dialect = DIALECTS.get(dialect_name) or generic_dialect(dialect_name)

        for variant, note in self._variants(name, dialect):
            found = self._find(variant, dialect)
            if found is not None:
                info, canonical, alias_note = found
                return Resolution(info, canonical, [], _join_notes(note, alias_note))
        # A bare id is never "corrected" to itself behind a gateway prefix; a prefixed one may be told the right
        # provider (`anthropic/gpt-4o` -> `gpt-4o`).
        return Resolution(None, ref, self._suggest(name, dialect, exclude_self="/" not in ref))

    def resolve_open(self, ref: str) -> Resolution:
        """An id served by a self-hosted server (vLLM, TGI, Ollama, LM Studio, llama.cpp), matched to the catalog
        entry of the same open model for its limits and tokenizer: case-insensitively, by its last path segment
        (`Qwen/Qwen2.5-7B-Instruct`), an Ollama tag read as a size (`qwen2.5:7b-instruct`); first-party entries
        first, then the shortest key. Never suggestions: the server's ids are its own."""
        ref = ref.strip()
        exact = self._exact(ref) if ref else None
        if exact is not None:
            return exact
        segments = self._index.segments()
        for seg in dict.fromkeys((_segment(ref), _segment(ref).replace(":", "-"))):
            keys = segments.get(seg)
            if keys:
                key = min(keys, key=lambda k: (self._gateway_rank(k), len(k), k))
                info, canonical, _ = self._follow_alias(key)
                return Resolution(info, canonical, [], f"{ref} served by a self-hosted server; limits of {key}")
        return Resolution(None, ref, [], "served by a self-hosted server")

    def _gateway_rank(self, key: str) -> int:
        info = self._index.models.get(key) or self._custom.get(key)
        return 0 if "/" not in key or (info is not None and info.provider in FIRST_PARTY) else 1

    def _exact(self, key: str) -> Resolution | None:
        canonical = self._index.lower.get(key.lower())
        if canonical is None:
            return None
        info, canonical, note = self._follow_alias(canonical)
        return Resolution(info, canonical, [], note)

    def _follow_alias(self, key: str) -> tuple[ModelInfo, str, str | None]:
        target = self._index.aliases.get(key)
        if target is None:
            return self._index.models[key], key, None
        return self._index.models[target], target, f"{key} is an alias of {target}"

    def _variants(self, name: str, dialect: Dialect | None) -> Iterable[tuple[str, str | None]]:
        yield name, None
        if dialect is not None and dialect.azure_names:
            renamed = azure_to_openai_name(name)
            if renamed != name:
                yield renamed, f"Azure name {name} read as {renamed}"
        if dialect is not None and dialect.templates[0].startswith("ollama"):
            untagged = ollama_untagged(name)
            if untagged:
                yield untagged, f"Ollama tag dropped: {name} read as {untagged}"
        if name.lower().endswith(LATEST_SUFFIX):
            base = name[: -len(LATEST_SUFFIX)]
            newest = self._newest_snapshot(base, dialect)
            if newest is not None:
                yield newest, f"{name} taken as the newest catalogued snapshot, {newest}"
            yield base, f"{name} taken as {base}"
        undated = strip_snapshot(name)
        if undated is not None:
            yield undated, f"snapshot {name} is not in the catalog; using {undated}"

    def _candidate_keys(self, name: str, dialect: Dialect | None) -> Iterable[tuple[str, bool]]:
        """(key, is_bare) pairs to try for ``name`` under ``dialect``."""
        if dialect is None:
            yield name, False
            return
        for template in dialect.templates:
            yield template.format(m=name), template == "{m}"

    def _find(self, name: str, dialect: Dialect | None) -> tuple[ModelInfo, str, str | None] | None:
        for key, bare in self._candidate_keys(name, dialect):
            canonical = self._index.lower.get(key.lower())
            if canonical is None:
                continue
            info, canonical, note = self._follow_alias(canonical)
            if bare and dialect is not None and info.provider not in dialect.providers:
                continue
            return info, canonical, note
        return None

    def _newest_snapshot(self, base: str, dialect: Dialect | None) -> str | None:
        snapshots = self._index.snapshots()
        for key, _bare in self._candidate_keys(base, dialect):
            dated = snapshots.get(key.lower())
            if dated:
                newest = max(dated, key=snapshot_key)
                # Templates all end in "{m}": drop the template's prefix so the caller can re-apply it.
                return newest[len(key) - len(base) :]
        return None

    def _suggest(self, name: str, dialect: Dialect | None, exclude_self: bool = True) -> list[str]:
        tails = self._index.tails()
        wanted = model_tail(name)
        close = difflib.get_close_matches(wanted, list(tails), n=MAX_SUGGESTIONS * 2, cutoff=0.6)
        keys = [key for tail in close for key in sorted(tails[tail], key=len)]
        keys += difflib.get_close_matches(name.lower(), list(self._custom_lower), n=MAX_SUGGESTIONS, cutoff=0.6)
        # Never the id itself: the same name in another case, or behind a gateway prefix (`openrouter/x` for x).
        if exclude_self:
            own = _segment(name)
            keys = [key for key in keys if _segment(key) != own]
        # Ids this dialect can spell first, in template order (others still help: "the Vertex id?"); then the
        # provider's own entries before gateways reselling them.
        keys.sort(key=lambda key: (self._template_rank(key, dialect) if dialect is not None else 0,
                                   self._gateway_rank(key)))
        seen: list[str] = []
        for key in keys:
            canonical = self._custom_lower.get(key, key)
            if canonical not in seen:
                seen.append(canonical)
        return seen[:MAX_SUGGESTIONS]

    def _template_rank(self, key: str, dialect: Dialect) -> int:
        """Index of the first template of ``dialect`` that produces ``key``; len(templates) if none does."""
        info = self._index.models.get(key) or self._custom.get(key)
        lowered = key.lower()
        for rank, template in enumerate(dialect.templates):
            prefix = template.removesuffix("{m}").lower()
            if prefix and lowered.startswith(prefix):
                return rank
            if not prefix and info is not None and info.provider in dialect.providers:
                return rank
        return len(dialect.templates)

    def spell(self, model_id: str, dialect: str) -> str | None:
        """How to write catalog id ``model_id`` as ``<dialect>/<name>`` (e.g. for a quick fix), or None.

        ``spell("gemini/gemini-2.5-flash", "googleai")`` -> ``"googleai/gemini-2.5-flash"``. The result
        is checked to resolve back to ``model_id``.
        """
        dialect_name = dialect.lower()
        rules = DIALECTS.get(dialect_name) or generic_dialect(dialect_name)
        info = self.get(model_id)
        if info is None:
            return None
        for template in rules.templates:
            prefix = template.removesuffix("{m}")
            if prefix and info.id.lower().startswith(prefix.lower()):
                name = info.id[len(prefix) :]
            elif not prefix and info.provider in rules.providers:
                name = info.id
            else:
                continue
            spelled = f"{dialect}/{name}"
            if self.resolve(spelled).canonical == info.id:
                return spelled
        return None

    # -- lifecycle -----------------------------------------------------------------------------------

    def live_successor(self, info: ModelInfo, today: date, max_hops: int = 8) -> tuple[str | None, list[str]]:
        """Where to go from ``info``: follow its successors past those that are retired themselves.

        Returns (the first successor that still serves requests, or the last one named when every link is
        retired or unknown to the catalog; the retired successors passed on the way).
        """
        passed: list[str] = []
        seen = {info.id}
        current = info.successor
        while current and len(passed) < max_hops:
            nxt = self.resolve(current).info
            if nxt is None or nxt.id in seen or nxt.status(today) != "retired" or not nxt.successor:
                return current, passed
            passed.append(current)
            seen.add(nxt.id)
            current = nxt.successor
        return current, passed

    def retired(self, today: date) -> list[ModelInfo]:
        """Models whose provider-given (or configured) shutdown date has passed, newest shutdown first."""
        gone = [info for info in self.all() if info.status(today) == "retired"]
        gone.sort(key=lambda i: (-(i.deprecation_date or date.min).toordinal(), i.id))
        return gone

    # -- prices --------------------------------------------------------------------------------------

    def price_call(
        self,
        model_id: str,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        provider: str | None = None,
    ) -> Price:
        """Price one call. ``input_tokens`` counts all prompt tokens, ``cached_input_tokens`` of them read
        from the prompt cache (the OpenAI usage convention). Prices: the user's config if it sets any, else
        genai-prices, else the catalog's LiteLLM per-token prices."""
        if min(input_tokens, output_tokens, cached_input_tokens) < 0:
            raise ValueError("token counts must not be negative")
        if cached_input_tokens > input_tokens:
            raise ValueError("cached_input_tokens is part of input_tokens and cannot exceed it")
        key = (model_id, provider, input_tokens, output_tokens, cached_input_tokens)
        hit = self._price_cache.get(key)
        if hit is not None:
            return hit
        resolution = self.resolve(model_id, provider)
        info = resolution.info
        if info is None:
            return Price(None, "unknown model", None)
        price = price_model(
            info,
            price_ref=self._price_refs.get(info.id, info.id),
            use_config_prices=info.id in self._config_priced,
            fallback_source=self.source.label(),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_input_tokens,
        )
        if len(self._price_cache) >= 4096:
            self._price_cache.clear()
        self._price_cache[key] = price
        return price

    def cost_usd(
        self,
        model_id: str,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        provider: str | None = None,
    ) -> float | None:
        """``price_call``'s cost in USD, or None when the model has no known price or the counts are invalid."""
        try:
            return self.price_call(model_id, input_tokens, output_tokens, cached_input_tokens, provider).cost_usd
        except ValueError:
            return None


def _join_notes(*notes: str | None) -> str | None:
    present = [note for note in notes if note]
    return "; ".join(present) or None
