"""Which tokenizer a model uses: a bundled tiktoken encoding when known, else an ``estimate:<family>``.

A label never lies: only a model whose own tokenizer promptls runs is counted "exact" (OpenAI names tiktoken maps to
a bundled encoding). Everything else is ``estimate:<family>``, from the name, else from the provider, else
``estimate:unknown`` — never another vendor's encoding labelled exact.
"""

from __future__ import annotations

import re

# Bedrock ids look like "us.anthropic.claude-...-v1:0" or "openai.gpt-oss-120b-1:0".
_BEDROCK_PREFIX = re.compile(
    r"^(?:(?:us|eu|apac|au|jp|ca|global|us-gov)\.)?"
    r"(?:anthropic|openai|meta|mistral|amazon|cohere|ai21|deepseek|qwen|writer|moonshotai|zai|xai|google|"
    r"minimax|nvidia)\."
)
_FAMILY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("claude", re.compile(r"claude")),
    ("gemini", re.compile(r"gemini|gemma")),
    ("llama", re.compile(r"llama")),
    ("mistral", re.compile(r"mistral|mixtral|codestral|ministral|magistral|devstral|pixtral|voxtral")),
    ("qwen", re.compile(r"qwen|qwq")),
)
_OPENAI_PROVIDERS = frozenset({"openai", "azure", "chatgpt"})
# Providers (catalog providers, Genkit/Prompty/LiteLLM prefixes) that serve one family only: an id of theirs
# that names no family is still counted with that family's estimate.
_PROVIDER_FAMILY = {
    "anthropic": "claude",
    "claude": "claude",
    "gemini": "gemini",
    "googleai": "gemini",
    "google": "gemini",
    "google_genai": "gemini",
    "google-genai": "gemini",
    "mistral": "mistral",
    "codestral": "mistral",
    "mistralai": "mistral",
    "meta_llama": "llama",
    "meta": "llama",
    "dashscope": "qwen",
    "qwen": "qwen",
}
# Only names that could be in tiktoken's OpenAI table are looked up there (keeps catalog loading fast).
_OPENAI_NAME = re.compile(r"^(?:ft:|gpt|chatgpt|o\d|davinci|babbage|text-)")


def model_tail(model_id: str) -> str:
    """The bare model name: last path segment, Bedrock vendor prefix and Ollama tag removed, lower case."""
    tail = model_id.rsplit("/", 1)[-1].lower()
    tail = _BEDROCK_PREFIX.sub("", tail)
    return tail.split(":", 1)[0] if not tail.startswith("ft:") else tail


def _tiktoken_encoding_for(name: str) -> str | None:
    # tiktoken.model holds OpenAI's own name -> encoding table; it is a plain dict lookup, no download.
    from tiktoken.model import encoding_name_for_model

    try:
        return encoding_name_for_model(name)
    except KeyError:
        return None


_LLAMA3 = re.compile(r"llama-?3(?:[.-]\d)*(?![.\d])")  # llama3, llama-3.1-8b, llama3.3:70b; not llama-30b
_LLAMA4 = re.compile(r"llama-?4(?![.\d])")
_QWEN35 = re.compile(r"^qwen3\.[56]")
_QWEN = re.compile(r"^(?:qwen(?:\d(?:\.\d)?)?(?:-|$)|qwq)")
_DEEPSEEK_V4 = re.compile(r"^deepseek-v4")


def _extra_exact(tail: str) -> str | None:
    """An exact tokenizer from ``promptls[tokenizers]`` for this model name, when the package is installed."""
    from promptls.tokens import extra

    if tail.startswith("llama") or "-llama" in tail:
        name = "llama4" if _LLAMA4.search(tail) else "llama3" if _LLAMA3.search(tail) else None
    elif tail.startswith(("qwen", "qwq")):
        name = "qwen3.5" if _QWEN35.match(tail) else "qwen" if _QWEN.match(tail) else None
    elif _DEEPSEEK_V4.match(tail):
        name = "deepseek-v4"
    elif tail in extra.mistral_models():
        name = extra.MISTRAL_PREFIX + tail
    else:
        return None
    return name if name is not None and extra.available(name) else None


def tokenizer_for(model_id: str, provider: str) -> str:
    """``o200k_base`` / ``cl100k_base`` for OpenAI models tiktoken knows, an exact tokenizer from the
    ``promptls[tokenizers]`` extra when installed (``llama3``, ``mistral-common:<model>``, ...), else
    ``estimate:<family>``."""
    tail = model_tail(model_id)
    if tail.startswith("gpt-oss"):
        # gpt-oss uses o200k_harmony; tiktoken only maps names with a "gpt-oss-" prefix (not Ollama's "gpt-oss:20b").
        return "o200k_base"
    encoding = _tiktoken_encoding_for(tail) if _OPENAI_NAME.match(tail) else None
    if encoding in ("o200k_base", "o200k_harmony"):
        # o200k_harmony (gpt-oss) shares o200k_base's ranks and split pattern; only special tokens differ.
        return "o200k_base"
    if encoding == "cl100k_base":
        return "cl100k_base"
    exact = _extra_exact(tail)
    if exact is not None:
        return exact
    for family, pattern in _FAMILY_PATTERNS:
        if pattern.search(tail):
            return f"estimate:{family}"
    provider = provider.lower()
    if provider in _PROVIDER_FAMILY:
        return f"estimate:{_PROVIDER_FAMILY[provider]}"
    if provider in _OPENAI_PROVIDERS:
        return "estimate:openai"
    return "estimate:unknown"


def tokenizer_for_reference(ref: str | None, provider: str | None = None, default: str = "o200k_base") -> str:
    """The tokenizer for a model reference the catalog does not know (``anthropic/claude-next``, a typo, a
    Prompty ``{provider: mistral, id: ...}``): the provider comes from ``provider`` or the reference's prefix.
    ``default`` only when there is no reference at all (a prompt that names no model)."""
    if not ref or not ref.strip():
        return default
    hint = provider or (ref.split("/", 1)[0] if "/" in ref else "")
    return tokenizer_for(ref.strip(), hint)
