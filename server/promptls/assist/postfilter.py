"""Post-filtering of a raw model completion into the text to insert at the cursor.

Hand-written: the rules are specific to how completion models misbehave (echoing the line, repeating the
suffix, looping on a line, closing brackets the suffix already closes, wrapping in fences); no library does this.
"""

from __future__ import annotations

import re

from promptls.assist.prompts import CURSOR

_FENCE = re.compile(r"^\s*```[\w+.-]*[ \t]*\n?")
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}


def strip_fences(text: str) -> str:
    m = _FENCE.match(text)
    if m:
        text = text[m.end():]
        end = text.find("```")
        if end >= 0:
            text = text[:end]
            text = text[:-1] if text.endswith("\n") else text
    elif "\n```" in text:  # an answer that starts raw but is closed by a fence
        text = text[: text.index("\n```")]
    return text


def postfilter(raw: str, *, line_prefix: str, line_suffix: str, prev_line: str, suffix: str, multiline: bool,
               max_lines: int) -> str | None:
    """The text to insert, or None when nothing worth showing is left."""
    text = strip_fences(raw.replace("\r\n", "\n")).replace(CURSOR, "")
    # Chat models often start by echoing the current line; keep only what comes after the cursor.
    lp = line_prefix.strip()
    if len(lp) >= 3 and text.lstrip().startswith(lp):
        text = text.lstrip()[len(lp):]
        if line_prefix[-1:].isspace():
            text = text.lstrip(" \t")
    if not multiline:
        text = text.split("\n", 1)[0] if text.strip("\n") else ""
        if text == "" and raw.strip():
            first = raw.strip("\n").split("\n", 1)[0]
            text = first if not line_prefix.strip() else ""
    lines = text.split("\n")
    kept: list[str] = []
    suffix_lines = [ln.strip() for ln in suffix.split("\n") if ln.strip()][:3]
    for i, ln in enumerate(lines):
        s = ln.strip()
        if s and kept and s == kept[-1].strip():
            break  # the model loops on a line
        if i > 0 and s and suffix_lines and s == suffix_lines[0]:
            break  # the rest repeats the text after the cursor
        if i == 0 and s and prev_line.strip() and s == prev_line.strip() and not line_prefix.strip():
            return None  # repeats the line above
        kept.append(ln)
        if len(kept) >= max(1, max_lines):
            break
    text = "\n".join(kept).rstrip()
    text = _balance(text, line_prefix, line_suffix)
    # Drop an ending that the rest of the line already holds (e.g. the closing `")` after the cursor).
    rest = line_suffix.strip()
    if rest and text.rstrip().endswith(rest) and text.strip() != rest:
        text = text.rstrip()[: -len(rest)]
    if not text.strip():
        return None
    if text.strip() == rest or (suffix.strip() and suffix.lstrip().startswith(text.strip()) and not multiline):
        return None  # only repeats what follows
    return text


def _balance(text: str, line_prefix: str, line_suffix: str) -> str:
    """Cut the completion where it closes a bracket it did not open while the rest of the line already closes
    it (the editor would show a duplicate), and at an unmatched closer that matches nothing on the line."""
    stack: list[str] = []
    open_before = _unclosed(line_prefix)
    rest = line_suffix.lstrip()
    in_str: str | None = None
    for i, ch in enumerate(text):
        if in_str:
            if ch == in_str and (i == 0 or text[i - 1] != "\\"):
                in_str = None
            continue
        if ch in "\"'`":
            in_str = ch
        elif ch in _OPEN:
            stack.append(ch)
        elif ch in _CLOSE:
            if stack and stack[-1] == _CLOSE[ch]:
                stack.pop()
            elif open_before and open_before[-1] == _CLOSE[ch]:
                if rest.startswith(ch):
                    return text[:i].rstrip() if "\n" in text[:i] else text[:i]
                open_before.pop()
            else:
                return text[:i].rstrip()
    return text


def _unclosed(s: str) -> list[str]:
    stack: list[str] = []
    for ch in s:
        if ch in _OPEN:
            stack.append(ch)
        elif ch in _CLOSE and stack and stack[-1] == _CLOSE[ch]:
            stack.pop()
    return stack


def wants_multiline(line_prefix: str, line_suffix: str, prev_line: str) -> bool:
    """Multi-line when the cursor ends a block opener or sits on an empty line inside a block; single-line
    when there is text after the cursor or the line already has content."""
    if line_suffix.strip():
        return False
    if line_prefix.strip():
        return line_prefix.rstrip().endswith((":", "{", "(", "[", "=>", "->", '"""', "'''"))
    del prev_line  # an empty line starts new statements whatever precedes it
    return True
