"""Privacy rules for remote providers: excluded files never leave the machine, literal secrets are redacted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from pathlib import PurePath
from typing import Any

from promptls.core.secrets import redact_text


def excluded(paths: Iterable[str], patterns: Sequence[str]) -> list[str]:
    """The paths matching an exclude glob, tried against the file name and every trailing part of the path
    (so `secrets.*` matches `conf/secrets.toml` and `conf/*.pem` matches `/repo/conf/x.pem`)."""
    hits = []
    for p in paths:
        parts = PurePath(p).parts
        tails = ["/".join(parts[i:]) for i in range(len(parts))]
        if any(fnmatchcase(t, pat) for pat in patterns for t in tails):
            hits.append(p)
    return hits


def redact_messages(messages: list[dict[str, Any]], extra: Sequence[str] = ()) -> tuple[list[dict[str, Any]], int]:
    """Copy of `messages` with key-shaped strings (and the exact strings in `extra`) redacted; and how many
    messages changed. Text inside content block lists (`{"type": "text", "text": ...}`) is redacted too."""
    changed = 0
    out = []
    for m in messages:
        content = m.get("content")
        new = _redact_content(content, extra)
        if new is not content:
            changed += 1
            m = {**m, "content": new}
        out.append(m)
    return out, changed


def _redact_text(text: str, extra: Sequence[str]) -> str:
    return redact_text(text, extra)


def _redact_content(content: Any, extra: Sequence[str]) -> Any:
    if isinstance(content, str):
        new = _redact_text(content, extra)
        return content if new == content else new
    if isinstance(content, list):
        blocks = []
        changed = False
        for b in content:
            if isinstance(b, dict) and isinstance(b.get("text"), str):
                t = _redact_text(b["text"], extra)
                if t != b["text"]:
                    b = {**b, "text": t}
                    changed = True
            blocks.append(b)
        return blocks if changed else content
    return content
