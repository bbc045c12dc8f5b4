"""MD rules: unknown models (with "did you mean"), deprecated models (with successor) and retired models.

Only a shutdown date from a provider's page (or the user's config) makes a model retired (MD003, an error); a date
that only LiteLLM gives is a warning that says so (MD002). Successors are followed past retired ones."""

from __future__ import annotations

from collections.abc import Iterator

from promptls.analysis.context import Context
from promptls.analysis.fixes.edits import replacement_text
from promptls.catalog.model_info import ModelInfo
from promptls.core.findings import Finding, Fix, TextEdit
from promptls.core.positions import Span
from promptls.documents.prompt.model import PromptDocument

# Providers whose model names are local or user-defined, so "unknown" would only be noise.
LOCAL_PROVIDERS = {"ollama", "local", "llamacpp", "llama.cpp", "lmstudio", "vllm", "tgi", "huggingface"}


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    ref = doc.model
    if ref is None:
        return
    yield from model_findings(ref.ref, ref.span, ref.provider, ctx)


def model_findings(written: str, span: Span | None, provider: str | None, ctx: Context, *,
                   edit_span: Span | None = None, fixable: bool = True) -> Iterator[Finding]:
    """MD001-MD003 for one model reference, wherever it is written (frontmatter, SDK call). `edit_span` is where a
    replacement goes when that differs from where the finding is shown (a constant defined elsewhere); `fixable`
    False when it is written in another file (no fix is offered)."""
    if not fixable:
        for f in model_findings(written, span, provider, ctx, edit_span=edit_span):
            f.fixes = ()
            yield f
        return
    hint_provider = provider or (written.split("/", 1)[0] if "/" in written else None)
    if hint_provider and hint_provider.lower() in LOCAL_PROVIDERS:
        return
    res = ctx.catalog.resolve(written, provider)
    target = edit_span or span
    if res.info is None:
        yield from unknown_model(written, span, target, res.suggestions, ctx)
    else:
        yield from model_lifecycle(written, span, target, res.info, ctx)


def unknown_model(written: str, span: Span | None, target: Span | None, suggestions: list[str], ctx: Context
                  ) -> Iterator[Finding]:
    """MD001, with up to three close catalog ids as fixes (the closest preferred)."""
    if span is None:
        return
    # never "did you mean" the id itself (another case, or the same name behind a gateway prefix)
    suggestions = [s for s in suggestions if replacement_text(written, s).lower() != written.lower()]
    fixes = tuple(Fix(f"Replace with `{replacement_text(written, s)}`",
                      (TextEdit(target, replacement_text(written, s)),), preferred=i == 0)
                  for i, s in enumerate(suggestions[:3])) if target is not None else ()
    hint = f"; did you mean `{replacement_text(written, suggestions[0])}`?" if suggestions else \
        "; declare custom models under `[models]` in promptls.toml."
    yield ctx.finding("MD001", f"Unknown model `{written}`{hint}", span, fixes=fixes, model=written)


def model_lifecycle(written: str, span: Span | None, target: Span | None, info: ModelInfo, ctx: Context
                    ) -> Iterator[Finding]:
    """MD002 (deprecated) or MD003 (retired), with the live successor as a fix when there is one."""
    today = ctx.config.today or ctx.today
    status = info.status(today)
    if status == "active" or span is None:
        return
    fixes: tuple[Fix, ...] = ()
    succ = ""
    successor, passed = ctx.catalog.live_successor(info, today)
    last = ctx.catalog.resolve(successor).info if successor else None
    if successor and last is not None and last.status(today) == "retired":
        # A dead end: the provider named a successor that is itself gone and names none. Say so; offer no fix.
        when = f" on {last.deprecation_date.isoformat()}" if last.deprecation_date else ""
        succ = f"; its successor `{replacement_text(written, successor)}` was retired too{when}, with none named"
    elif successor:
        new = replacement_text(written, successor)
        if target is not None and last is not None:  # no fix that would only trade this finding for MD001
            fixes = (Fix(f"Replace with successor `{new}`", (TextEdit(target, new),), preferred=True),)
        via = f" (via {', '.join(f'`{p}`' for p in passed)}, retired too)" if passed else ""
        succ = f"; use `{new}`{via}" if status == "retired" else f"; successor: `{new}`{via}"
    day = info.deprecation_date.isoformat() if info.deprecation_date else None
    if status == "retired":
        yield ctx.finding("MD003", f"Model `{written}` was retired on {day}{succ}.", span, fixes=fixes, model=written)
    elif day and not info.date_confirmed:
        yield ctx.finding("MD002", f"Model `{written}` is deprecated per LiteLLM, which dates its shutdown {day} "
                          f"(not confirmed by the provider's page){succ}.", span, fixes=fixes, model=written)
    else:
        when = f" and shuts down on {day}" if day else ""
        yield ctx.finding("MD002", f"Model `{written}` is deprecated{when}{succ}.", span, fixes=fixes, model=written)
