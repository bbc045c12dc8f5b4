"""SC001: API keys written literally anywhere in the file (detection shared with the router's redaction)."""

from __future__ import annotations

from collections.abc import Iterator

from promptls.analysis.context import Context
from promptls.core.findings import Finding
from promptls.core.positions import Span
from promptls.documents.prompt.model import PromptDocument


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    from promptls.core.secrets import find_secrets

    for m in find_secrets(doc.text):
        # the message names the kind, never the value
        yield ctx.finding("SC001", f"Literal {m.kind} API key in the file; load it from an environment variable "
                          "(e.g. `${env:...}`) and revoke this key.", Span(m.start, m.end))
