"""Which tokenizer a model uses: a bundled tiktoken encoding when known, else an ``estimate:<family>``."""

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


def tokenizer_for(model_id: str, provider: str) -> str:
    """``o200k_base`` / ``cl100k_base`` for OpenAI models tiktoken knows, else ``estimate:<family>``."""
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
    for family, pattern in _FAMILY_PATTERNS:
        if pattern.search(tail):
            return f"estimate:{family}"
    if provider in _OPENAI_PROVIDERS:
        return "estimate:openai"
    return "estimate:unknown"
