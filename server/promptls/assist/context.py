"""Completion context under a token budget: the prefix and suffix around the cursor (configurable split), then
the most relevant snippets of other open documents and recently edited places. Files matching the privacy
excludes contribute no snippets at all.

Budgets are counted with the real tokenizer of the completion model, line by line from the cursor outwards
(a line's count is a slight over-estimate of its share of the whole, which keeps the budget safe).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from promptls.assist.prompts import Snippet
from promptls.router.privacy import excluded

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_WINDOW_LINES = 16


@dataclass(slots=True)
class CompletionContext:
    prefix: str
    suffix: str
    snippets: list[Snippet]
    prefix_tokens: int
    suffix_tokens: int
    snippet_tokens: int


def take_prefix(text: str, budget: int, count: Callable[[str], int]) -> tuple[str, int]:
    """The longest run of whole lines ending at the cursor that fits `budget` tokens (the cursor line always)."""
    lines = text.split("\n")
    used = count(lines[-1]) if lines else 0
    start = len(lines) - 1
    while start > 0:
        n = count(lines[start - 1]) + 1
        if used + n > budget:
            break
        used += n
        start -= 1
    return "\n".join(lines[start:]), used


def take_suffix(text: str, budget: int, count: Callable[[str], int]) -> tuple[str, int]:
    lines = text.split("\n")
    used = count(lines[0]) if lines else 0
    end = 1
    while end < len(lines):
        n = count(lines[end]) + 1
        if used + n > budget:
            break
        used += n
        end += 1
    return "\n".join(lines[:end]), used


class RecentEdits:
    """Recently edited places (path, line), newest last: fed by every `didChange` range and by the cursor of
    each completion request."""

    def __init__(self, size: int = 16) -> None:
        self._items: deque[tuple[str, int]] = deque(maxlen=size)

    def note(self, path: str, line: int) -> None:
        if self._items and self._items[-1][0] == path and abs(self._items[-1][1] - line) <= 2:
            self._items[-1] = (path, line)
            return
        self._items.append((path, line))

    def items(self) -> list[tuple[str, int]]:
        return list(self._items)


def _words(text: str) -> set[str]:
    return set(_IDENT.findall(text))


def rank_snippets(query: str, docs: Iterable[tuple[str, str]], recent: Sequence[tuple[str, int]],
                  current: str, window_lines: tuple[int, int] | None = None) -> list[tuple[float, Snippet]]:
    """Windows of other documents scored by identifier overlap with `query`; windows around recent edits get a
    bonus. `window_lines` is the part of the current file already in the prefix/suffix (skipped)."""
    want = _words(query)
    scored: list[tuple[float, Snippet]] = []
    recent_by_path: dict[str, list[int]] = {}
    for p, ln in recent:
        recent_by_path.setdefault(p, []).append(ln)
    for path, text in docs:
        lines = text.split("\n")
        seen: set[int] = set()
        starts = list(range(0, max(1, len(lines)), _WINDOW_LINES // 2))
        for ln in recent_by_path.get(path, []):
            starts.append(max(0, ln - _WINDOW_LINES // 2))
        for s in starts:
            if s in seen:
                continue
            seen.add(s)
            e = min(len(lines), s + _WINDOW_LINES)
            if path == current and window_lines is not None and s < window_lines[1] and e > window_lines[0]:
                continue
            chunk = "\n".join(lines[s:e])
            if not chunk.strip():
                continue
            words = _words(chunk)
            score = len(want & words) / (len(want | words) or 1)
            near = any(s <= ln < e for ln in recent_by_path.get(path, []))
            if near:
                score += 0.25
            if score > 0:
                scored.append((score, Snippet(path, chunk, "recent edit" if near else "open document")))
    scored.sort(key=lambda t: -t[0])
    return scored


def build_context(*, path: str, prefix: str, suffix: str, open_docs: dict[str, str], recent: Sequence[tuple[str, int]],
                  budget: int, prefix_share: float, snippet_share: float, count: Callable[[str], int],
                  privacy_excludes: Sequence[str], with_snippets: bool = True) -> CompletionContext:
    snippet_budget = int(budget * snippet_share) if with_snippets else 0
    window = budget - snippet_budget
    p_budget = max(16, int(window * prefix_share))
    s_budget = max(0, window - p_budget)
    p_text, p_used = take_prefix(prefix, p_budget, count)
    s_text, s_used = take_suffix(suffix, s_budget, count) if s_budget else ("", 0)
    snippets: list[Snippet] = []
    used = 0
    if snippet_budget > 0:
        others = [(p, t) for p, t in open_docs.items() if p != path]
        blocked = set(excluded([p for p, _ in others], privacy_excludes)) if privacy_excludes else set()
        docs = [(p, t) for p, t in others if p not in blocked]
        cur_line = prefix.count("\n")
        first = cur_line - p_text.count("\n")
        last = cur_line + s_text.count("\n")
        # The current file's far-away parts count too (recent edits outside the window).
        if path not in blocked and recent:
            docs.append((path, prefix + suffix))
        query = "\n".join(p_text.split("\n")[-12:])
        for _, snip in rank_snippets(query, docs, recent, path, (first, last + 1)):
            n = count(snip.text) + 8
            if used + n > snippet_budget:
                continue
            snippets.append(snip)
            used += n
            if len(snippets) >= 4:
                break
    return CompletionContext(p_text, s_text, snippets, p_used, s_used, used)
