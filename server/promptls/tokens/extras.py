"""What a request carries besides its messages' text — tool definitions and images — in tokens, offline.

`extras()` adds them up for a provider kind and says, in a short note, what it counted and what it assumed.
Always an estimate: the report labels the count so unless online counts (`[tokens] online`) replace it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from promptls.tokens.counter import TokenCounter
from promptls.tokens.images import ASSUMED_SIZE, data_url_size, image_tokens
from promptls.tokens.tools import tool_tokens

# documents/render.py writes a Dotprompt `{{media url=...}}` part into the rendered text as `[media URL]`.
_MEDIA = re.compile(r"\[media (\S+?)\]")


def kind_for(model: str | None, catalog_provider: str | None, tokenizer: str | None) -> str | None:
    """Whose rules a model's request follows (`anthropic`, `gemini`, `openai`), or None when unknown."""
    fam = (tokenizer or "").removeprefix("estimate:")
    prov = (catalog_provider or "").lower()
    name = (model or "").lower().rsplit("/", 1)[-1]
    if fam == "claude" or prov == "anthropic" or name.startswith("claude"):
        return "anthropic"
    if fam == "gemini" or prov in ("gemini", "googleai", "google", "vertex_ai") or name.startswith("gemini"):
        return "gemini"
    if prov in ("openai", "azure") or name.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return "openai"
    return None


@dataclass(slots=True)
class Extras:
    tokens: int = 0
    notes: list[str] = field(default_factory=list)


def media_urls(text: str) -> list[str]:
    """The URLs of the media parts in a rendered Dotprompt message."""
    return _MEDIA.findall(text)


def strip_media(text: str) -> str:
    """`text` without its `[media URL]` placeholders."""
    return _MEDIA.sub("", text)


def extras(kind: str | None, counter: TokenCounter, model: str = "", *, tools: Sequence[dict[str, Any]] = (),
           images: Sequence[tuple[str | None, str]] = (), tool_choice: str | None = None,
           tool_names: Sequence[str] = ()) -> Extras:
    """Tokens of `tools` and `images` (each `(url or None, detail)`) for `kind`'s documented rules."""
    out = Extras()
    k = kind or "openai"
    if tools:
        n = tool_tokens(k, list(tools), counter, model, tool_choice)
        out.tokens += n
        out.notes.append(f"{len(tools)} tool definition{'s' if len(tools) != 1 else ''} ≈ {n:,} tokens")
    if tool_names:
        out.notes.append(f"tool{'s' if len(tool_names) != 1 else ''} {', '.join(tool_names)} defined elsewhere: "
                         "not counted")
    if images:
        assumed = 0
        total = 0
        for url, detail in images:
            size = data_url_size(url) if url else None
            if size is None:
                assumed += 1
                size = ASSUMED_SIZE
            total += image_tokens(k, size[0], size[1], detail)
        out.tokens += total
        note = f"{len(images)} image{'s' if len(images) != 1 else ''} ≈ {total:,} tokens"
        if assumed:
            note += f" ({assumed} of unknown size counted as {ASSUMED_SIZE[0]}x{ASSUMED_SIZE[1]})"
        out.notes.append(note)
    return out
