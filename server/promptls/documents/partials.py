"""Partials and referenced prompt files on disk: where `{{> name}}` is looked for (Dotprompt's directory
convention) and how a partial is read (the one safe read, with its caps)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from promptls.core import safe_read

# (name, from_path) -> (path, text) of the partial, or None
PartialLookup = Callable[[str, str], "tuple[str, str] | None"]


def partial_candidates(name: str, from_path: str) -> tuple[Path, ...]:
    """Dotprompt's directory convention: `{{> name}}` is `_name.prompt` beside the prompt (then `name.prompt`)."""
    folder = Path(from_path).parent
    return folder / f"_{name}.prompt", folder / f"{name}.prompt", folder / "partials" / f"_{name}.prompt"


def read_partial(path: str | Path) -> tuple[str, str | None]:
    """A partial file's text, or "" and why it was not read (no regular file, above the cap for referenced
    files); missing files raise FileNotFoundError."""
    try:
        return safe_read.read_text(path, errors="replace"), None
    except safe_read.Refused as e:
        if e.missing:
            raise FileNotFoundError(path) from None
        return "", e.reason


def fs_partials(name: str, from_path: str) -> tuple[str, str] | None:
    """The first partial candidate that exists, as (path, text). One that is there but not read (a FIFO, a
    device, a huge file) counts as found and empty: the references rule says why (RF004)."""
    for cand in partial_candidates(name, from_path):
        try:
            return str(cand), read_partial(cand)[0]
        except FileNotFoundError:
            continue
    return None
