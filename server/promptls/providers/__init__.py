"""LLM providers: each wraps its official SDK (imported lazily, SDK retries off) behind one interface.

`create_provider(name, settings)` builds the provider for `settings.kind`; only that kind's module is imported,
and its SDK only on the first call.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from promptls.providers.base import ChatRequest, Done, Probe, Provider, StreamEvent, TextDelta, ToolCall, Usage
from promptls.providers.errors import (
    BudgetExceeded,
    ErrorKind,
    NoProviderAvailable,
    PrivacyBlocked,
    ProviderError,
    RouterError,
)

if TYPE_CHECKING:
    from promptls.providers.settings import ProviderSettings

#: The provider kind a `prefix/model` reference names (`googleai/gemini-2.5-flash` is a gemini model).
KIND_OF_PREFIX = {
    "openai": "openai",
    "anthropic": "anthropic",
    "googleai": "gemini",
    "google": "gemini",
    "vertexai": "gemini",
    "gemini": "gemini",
    "ollama": "ollama",
    "local": "local",
}

_MODULES = {
    "anthropic": ("anthropic_api", "AnthropicProvider"),
    "openai": ("openai_api", "OpenAIProvider"),
    "gemini": ("gemini_api", "GeminiProvider"),
    "ollama": ("ollama_api", "OllamaProvider"),
    "local": ("local_llama", "LocalLlamaProvider"),
}


def create_provider(name: str, settings: ProviderSettings) -> Provider:
    """Build the provider named `name` from its settings (raises ValueError on an unknown kind)."""
    try:
        module, cls = _MODULES[settings.kind]
    except KeyError:
        raise ValueError(f"unknown provider kind {settings.kind!r}") from None
    return getattr(import_module(f"{__name__}.{module}"), cls)(name, settings)


__all__ = [
    "KIND_OF_PREFIX",
    "BudgetExceeded",
    "ChatRequest",
    "Done",
    "ErrorKind",
    "NoProviderAvailable",
    "PrivacyBlocked",
    "Probe",
    "Provider",
    "ProviderError",
    "RouterError",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "Usage",
    "create_provider",
]
