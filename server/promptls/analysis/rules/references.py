"""RF rules: references to other files. Prompty `${file:}` references escaping the prompt's folder, missing or
not readable, `${env:}` without default; Dotprompt partials that are there but not readable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from promptls.analysis.context import Context
from promptls.core import safe_read
from promptls.core.findings import Finding
from promptls.documents.partials import read_partial
from promptls.documents.prompt.model import PromptDocument


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    folder = Path(doc.path).resolve().parent
    on_disk = Path(doc.path).is_absolute() or Path(doc.path).exists()
    for ref in doc.references:
        if ref.kind == "env" and ref.default is None:
            yield ctx.finding("RF002", f"`${{env:{ref.value}}}` has no default; the prompt fails to load where "
                              f"`{ref.value}` is unset. Write `${{env:{ref.value}:default}}`.", ref.span)
        elif ref.kind == "file":
            target = (folder / ref.value).resolve()
            if not target.is_relative_to(folder):
                yield ctx.finding("RF001", f"`${{file:{ref.value}}}` points outside the prompt's folder.", ref.span)
            elif on_disk and not target.exists():
                yield ctx.finding("RF003", f"`${{file:{ref.value}}}` does not exist.", ref.span)
            if on_disk and ref.value.strip() and (reason := _unreadable(target)):  # `${file:}` names no file
                yield ctx.finding("RF004", f"`${{file:{ref.value}}}` is not read: {reason}.", ref.span)
    yield from _partials(doc, ctx)


def _unreadable(path: Path) -> str | None:
    """Why a file that is there is not read (None: it is read, or it is missing, which RF003 reports)."""
    try:
        safe_read.check_regular(path, safe_read.REFERENCED_FILE_MAX_BYTES)
    except safe_read.Refused as e:
        return None if e.missing else e.reason
    return None


def _partials(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    """A partial that is there but not read is looked up as empty (so PT001 stays quiet): say why here."""
    for ref in doc.template.partials:
        found = ctx.partials(ref.name, doc.path)
        if found is None or found[1]:
            continue
        try:
            reason = read_partial(found[0])[1]
        except FileNotFoundError:
            continue
        if reason:
            yield ctx.finding("RF004", f"Partial `{ref.name}` (`{Path(found[0]).name}`) is not read: {reason}.",
                              ref.span)
