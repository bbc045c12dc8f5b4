"""Cost of one incremental edit on a 2,000-line document: pygls' TextDocument (re-splits the text per edit)
against promptls' (one string and a line-start index updated around the edit).

How: a 2,000-line prompt-like text (~45 characters a line), once ASCII-only and once with an emoji a line (UTF-16
columns then differ from code points, and CPython stores the string with 4 bytes a character); 2,000 edits in a
row, each typing one character at a moving line in the middle of the document, then 200 edits that insert a
line break; the figure is the median over 5 runs of (total time / edits). The floor: copying the string once,
which any model that keeps the text as one `str` pays per edit.
Run: .venv/bin/python bench/bench_text_edit.py
"""

from __future__ import annotations

import statistics
import time

from lsprotocol import types as lsp
from pygls.workspace.text_document import TextDocument as PyglsDocument

from promptls.lsp.text import TextDocument

LINES = 2_000
TEXTS = {
    "ascii": "".join(f"line {i:04d}: You are a helpful :) assistant, {i}.\n" for i in range(LINES)),
    "emoji": "".join(f"line {i:04d}: You are a helpful 😀 assistant, {i}.\n" for i in range(LINES)),
}


def _change(line: int, character: int, text: str) -> lsp.TextDocumentContentChangePartial:
    p = lsp.Position(line, character)
    return lsp.TextDocumentContentChangePartial(range=lsp.Range(p, p), text=text)


def _per_edit(cls: type, text: str, edits: list[lsp.TextDocumentContentChangePartial]) -> float:
    runs = []
    for _ in range(5):
        doc = cls("file:///bench.prompt", source=text, version=1)
        t0 = time.perf_counter()
        for change in edits:
            doc.apply_change(change)
        runs.append((time.perf_counter() - t0) / len(edits))
    return statistics.median(runs)


def _copy_floor(text: str) -> float:
    t0 = time.perf_counter()
    for i in range(2_000):
        _ = text[:len(text) // 2 + i] + "x" + text[len(text) // 2 + i:]
    return (time.perf_counter() - t0) / 2_000


def main() -> None:
    typing = [_change(LINES // 2 + i % 50, 20 + i % 10, "x") for i in range(2_000)]
    breaks = [_change(LINES // 2 + i, 10, "\n") for i in range(200)]
    for label, text in TEXTS.items():
        for name, edits in (("type one character", typing), ("insert a line break", breaks)):
            before = _per_edit(PyglsDocument, text, edits)
            after = _per_edit(TextDocument, text, edits)
            print(f"{label} {name:20s} pygls {before * 1e6:7.1f} us/edit   promptls {after * 1e6:6.1f} us/edit")
        print(f"{label} floor: copying the string once {_copy_floor(text) * 1e6:.1f} us")
        doc = TextDocument("file:///bench.prompt", source=text, version=1)
        ref = PyglsDocument("file:///bench.prompt", source=text, version=1)
        for change in typing + breaks:
            doc.apply_change(change)
            ref.apply_change(change)
        assert doc.source == ref.source  # no special characters here: both must agree


if __name__ == "__main__":
    main()
