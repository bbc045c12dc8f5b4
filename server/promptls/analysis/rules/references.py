"""RF rules: Prompty `${file:}` references escaping the prompt's folder or missing, `${env:}` without default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from promptls.analysis.context import Context
from promptls.analysis.findings import Finding
from promptls.documents.model import PromptDocument


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    folder = Path(doc.path).resolve().parent
    for ref in doc.references:
        if ref.kind == "env" and ref.default is None:
            yield ctx.finding("RF002", f"`${{env:{ref.value}}}` has no default; the prompt fails to load where "
                              f"`{ref.value}` is unset. Write `${{env:{ref.value}:default}}`.", ref.span)
        elif ref.kind == "file":
            target = (folder / ref.value).resolve()
            if not target.is_relative_to(folder):
                yield ctx.finding("RF001", f"`${{file:{ref.value}}}` points outside the prompt's folder.", ref.span)
            elif Path(doc.path).is_absolute() or Path(doc.path).exists():
                if not target.exists():
                    yield ctx.finding("RF003", f"`${{file:{ref.value}}}` does not exist.", ref.span)
