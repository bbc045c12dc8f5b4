"""Split rendered Dotprompt text into messages and parts at the helper markers.

A port of `toMessages`/`toParts` in google/dotprompt `js/src/parse.ts`: `<<<dotprompt:role:x>>>` starts
a message, `<<<dotprompt:history>>>` inserts the history, `<<<dotprompt:media:url U [type]>>>` and
`<<<dotprompt:section name>>>` become parts. Whitespace-only pieces are dropped, as there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ROLE_MARKER_PREFIX = "<<<dotprompt:role:"
HISTORY_MARKER_PREFIX = "<<<dotprompt:history"
MEDIA_MARKER_PREFIX = "<<<dotprompt:media:"
SECTION_MARKER_PREFIX = "<<<dotprompt:section"

_ROLE_AND_HISTORY = re.compile(r"(<<<dotprompt:(?:role:[a-z]+|history))>>>")
_MEDIA_AND_SECTION = re.compile(r"(<<<dotprompt:(?:media:url|section).*?)>>>")


@dataclass(slots=True)
class Part:
    """One content part: `text`, or `media` ({url, contentType?}), or a pending section (`section`)."""

    text: str | None = None
    media: dict[str, str] | None = None
    section: str | None = None


@dataclass(slots=True)
class Message:
    role: str
    parts: list[Part] = field(default_factory=list)
    # Messages taken from the history: their original content, untouched.
    history: Any = None

    @property
    def text(self) -> str:
        return "".join(p.text or "" for p in self.parts)


def _split(source: str, regex: re.Pattern[str]) -> list[str]:
    return [piece for piece in regex.split(source) if piece.strip() != ""]


def to_parts(source: str) -> list[Part]:
    parts: list[Part] = []
    for piece in _split(source, _MEDIA_AND_SECTION):
        if piece.startswith(MEDIA_MARKER_PREFIX):
            fields = piece.split(" ")
            media = {"url": fields[1] if len(fields) > 1 else ""}
            if len(fields) > 2 and fields[2]:
                media["contentType"] = fields[2]
            parts.append(Part(media=media))
        elif piece.startswith(SECTION_MARKER_PREFIX):
            fields = piece.split(" ")
            parts.append(Part(section=fields[1] if len(fields) > 1 else ""))
        else:
            parts.append(Part(text=piece))
    return parts


@dataclass(slots=True)
class _Source:
    role: str
    source: str = ""
    history: Any = None


def to_messages(rendered: str, history: list[dict[str, Any]] | None = None) -> list[Message]:
    """Messages of a rendered Dotprompt template; `history` is the `messages` input, if any.

    History messages are inserted at `{{history}}`, or, when the template has no marker, before the
    last user message (after everything else otherwise), as Dotprompt does.
    """
    current = _Source("user")
    sources = [current]
    saw_history = False
    for piece in _split(rendered, _ROLE_AND_HISTORY):
        if piece.startswith(ROLE_MARKER_PREFIX):
            role = piece[len(ROLE_MARKER_PREFIX) :]
            if current.source.strip():
                current = _Source(role)
                sources.append(current)
            else:
                current.role = role
        elif piece.startswith(HISTORY_MARKER_PREFIX):
            saw_history = True
            sources.extend(_Source(str(m.get("role", "user")), history=m) for m in history or [])
            current = _Source("model")
            sources.append(current)
        else:
            current.source += piece
    messages = [
        Message(s.role, [], s.history) if s.history is not None else Message(s.role, to_parts(s.source))
        for s in sources
        if s.history is not None or s.source
    ]
    if saw_history or not history:
        return messages
    inserted = [Message(str(m.get("role", "user")), [], m) for m in history]
    if not messages:
        return inserted
    if messages[-1].role == "user":
        return messages[:-1] + inserted + messages[-1:]
    return messages + inserted
