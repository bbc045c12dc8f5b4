"""Model-id dialects: how Genkit/Dotprompt, Prompty and LiteLLM spell a model, mapped to catalog keys.

Catalog keys are LiteLLM's: bare for OpenAI, Anthropic and Vertex AI models (``gpt-4o``,
``claude-sonnet-4-5``, ``gemini-2.5-pro``), prefixed for most others (``gemini/gemini-2.5-flash``,
``azure/gpt-4o``, ``ollama/llama3``), and Bedrock's own ids (``anthropic.claude-...-v1:0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one provider prefix maps onto catalog keys.

    ``templates`` are tried in order with ``{m}`` = the model name. A bare ``{m}`` match only counts when the
    entry's provider is in ``providers`` (so ``anthropic/gpt-4o`` does not resolve to OpenAI's gpt-4o).
    """

    templates: tuple[str, ...]
    providers: frozenset[str]
    azure_names: bool = False


def _d(templates: tuple[str, ...], providers: set[str], azure_names: bool = False) -> Dialect:
    return Dialect(templates, frozenset(providers), azure_names)


_OPENAI = _d(("{m}", "openai/{m}"), {"openai"})
_ANTHROPIC = _d(("{m}", "anthropic/{m}"), {"anthropic"})
# Google AI Studio (Genkit's googleai plugin, LiteLLM's gemini/ prefix). Bare keys are the Vertex AI entries
# of the same models, used when AI Studio has no entry of its own.
_GOOGLE_AI = _d(("gemini/{m}", "{m}"), {"gemini", "vertex_ai"})
_VERTEX = _d(("vertex_ai/{m}", "{m}"), {"vertex_ai"})
# Azure OpenAI deployments are usually named after the model. Azure's own entry (its retirement dates and
# prices) wins; otherwise the OpenAI model of that name. Azure spells gpt-3.5 as gpt-35.
_AZURE = _d(("azure/{m}", "{m}"), {"azure", "openai"}, azure_names=True)
_AZURE_AI = _d(("azure_ai/{m}", "azure/{m}", "{m}"), {"azure_ai", "azure", "openai"}, azure_names=True)
_BEDROCK = _d(("bedrock/{m}", "{m}", "bedrock/converse/{m}"), {"bedrock", "bedrock_mantle"})
_OLLAMA = _d(("ollama/{m}", "ollama_chat/{m}"), {"ollama", "ollama_chat"})

DIALECTS: dict[str, Dialect] = {
    # Genkit / Dotprompt plugin names
    "googleai": _GOOGLE_AI,
    "vertexai": _VERTEX,
    "openai": _OPENAI,
    "anthropic": _ANTHROPIC,
    "ollama": _OLLAMA,
    # Prompty providers / connection types
    "azure": _AZURE,
    "azure_openai": _AZURE,
    "azureopenai": _AZURE,
    "azure-openai": _AZURE,
    "foundry": _AZURE_AI,
    "serverless": _AZURE_AI,
    # LiteLLM prefixes and common spellings
    "gemini": _GOOGLE_AI,
    "google": _GOOGLE_AI,
    "google_genai": _GOOGLE_AI,
    "google-genai": _GOOGLE_AI,
    "vertex_ai": _VERTEX,
    "vertex": _VERTEX,
    "azure_ai": _AZURE_AI,
    "bedrock": _BEDROCK,
    "ollama_chat": _OLLAMA,
}

_DATE_SUFFIXES = (
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # gpt-4o-2024-08-06
    re.compile(r"-20\d{6}$"),  # claude-sonnet-4-5-20250929
    re.compile(r"@20\d{6}$"),  # vertex_ai/claude-3-5-sonnet@20240620
    re.compile(r"-\d{4}$"),  # gpt-4-0613, gpt-3.5-turbo-0125
    re.compile(r"-\d{3}$"),  # gemini-1.5-pro-002
)
LATEST_SUFFIX = "-latest"


def generic_dialect(prefix: str) -> Dialect:
    """Any other ``prefix/model``: LiteLLM keys most providers as ``<provider>/<model>``."""
    return Dialect((f"{prefix}/{{m}}",), frozenset({prefix}))


def split_prefix(ref: str) -> tuple[str | None, str]:
    """``"googleai/gemini-2.5-flash"`` -> ``("googleai", "gemini-2.5-flash")``; no slash -> ``(None, ref)``."""
    head, sep, rest = ref.partition("/")
    if not sep or not head or not rest:
        return None, ref
    return head.lower(), rest


def azure_to_openai_name(name: str) -> str:
    """Azure writes ``gpt-35-turbo`` for OpenAI's ``gpt-3.5-turbo``."""
    return re.sub(r"^gpt-35\b", "gpt-3.5", name)


def strip_snapshot(name: str) -> str | None:
    """``gpt-4o-2024-08-06`` -> ``gpt-4o``; None when ``name`` has no snapshot suffix."""
    for pattern in _DATE_SUFFIXES:
        stripped = pattern.sub("", name)
        if stripped != name and stripped:
            return stripped
    return None


def ollama_untagged(name: str) -> str | None:
    """``llama3:latest`` / ``llama3:8b`` -> ``llama3`` (Ollama tags)."""
    base, sep, _tag = name.partition(":")
    return base if sep and base else None


def snapshot_key(name: str) -> str:
    """Sort key that puts the newest snapshot last (dates sort as text once separators are dropped)."""
    return re.sub(r"[-@]", "", name)
