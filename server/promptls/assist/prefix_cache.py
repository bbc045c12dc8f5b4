"""Answers for text the user already saw a suggestion for: backspace and re-typing are served from memory.

An entry is (document text before the cursor, text after the cursor, the suggestion). A request at prefix P'
with the same suffix is answered when P' + answer continues P + suggestion: the user typed part of the
suggestion (P' longer than P) or deleted back towards where it was asked (P' shorter than P, still on the same
line). Hand-written: an LRU of a few hundred entries matched by string prefix; no library matches this way.
"""

from __future__ import annotations

from collections import OrderedDict


class PrefixCache:
    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str, str], str] = OrderedDict()  # (key, prefix, suffix) -> text
        self.hits = 0
        self.misses = 0

    def put(self, key: str, prefix: str, suffix: str, completion: str) -> None:
        if self.max_entries <= 0 or not completion:
            return
        k = (key, prefix, suffix)
        self._entries[k] = completion
        self._entries.move_to_end(k)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def get(self, key: str, prefix: str, suffix: str) -> str | None:
        """The rest of a cached suggestion that still fits at `prefix`, newest entry first."""
        for (k, p, s), text in reversed(self._entries.items()):
            # Cheap checks first: documents can be large, and most entries are for far-away cursor positions.
            if k != key or abs(len(prefix) - len(p)) > 256 or len(s) != len(suffix) or s != suffix:
                continue
            if len(prefix) >= len(p):
                if not prefix.startswith(p):
                    continue
                typed = prefix[len(p):]
                if typed and text.startswith(typed) and len(typed) < len(text):
                    self._touch((k, p, s))
                    self.hits += 1
                    return text[len(typed):]
                if not typed:
                    self._touch((k, p, s))
                    self.hits += 1
                    return text
            else:
                deleted = p[len(prefix):]
                if "\n" in deleted or not p.startswith(prefix):
                    continue
                self._touch((k, p, s))
                self.hits += 1
                return deleted + text
        self.misses += 1
        return None

    def _touch(self, k: tuple[str, str, str]) -> None:
        self._entries.move_to_end(k)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
