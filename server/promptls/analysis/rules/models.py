"""MD rules: unknown models (with "did you mean"), deprecated models (with successor) and retired models."""

from __future__ import annotations

from collections.abc import Iterator

from promptls.analysis.context import Context
from promptls.analysis.findings import Finding, Fix, TextEdit
from promptls.documents.model import PromptDocument

# Providers whose model names are local or user-defined, so "unknown" would only be noise.
LOCAL_PROVIDERS = {"ollama", "local", "llamacpp", "llama.cpp", "lmstudio", "vllm", "tgi", "huggingface"}


def replacement_text(written: str, new_id: str) -> str:
    """Keep the dialect's provider prefix: `googleai/gemini-x` → `googleai/<successor>`."""
    prefix, sep, _ = written.rpartition("/")
    bare = new_id.rpartition("/")[2]
    return f"{prefix}/{bare}" if sep else bare


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    ref = doc.model
    if ref is None:
        return
    provider = ref.provider or (ref.ref.split("/", 1)[0] if "/" in ref.ref else None)
    if provider and provider.lower() in LOCAL_PROVIDERS:
        return
    res = ctx.catalog.resolve(ref.ref, ref.provider)
    span = ref.span
    if res.info is None:
        if span is None:
            return
        fixes = tuple(Fix(f"Replace with `{replacement_text(ref.ref, s)}`",
                          (TextEdit(span, replacement_text(ref.ref, s)),), preferred=i == 0)
                      for i, s in enumerate(res.suggestions[:3]))
        hint = f"; did you mean `{replacement_text(ref.ref, res.suggestions[0])}`?" if res.suggestions else \
            "; declare custom models under `[models]` in promptls.toml."
        yield ctx.finding("MD001", f"Unknown model `{ref.ref}`{hint}", span, fixes=fixes, model=ref.ref)
        return
    info = res.info
    status = info.status(ctx.config.today or ctx.today)
    if status == "active" or span is None:
        return
    fixes = ()
    succ = ""
    if info.successor:
        new = replacement_text(ref.ref, info.successor)
        fixes = (Fix(f"Replace with successor `{new}`", (TextEdit(span, new),), preferred=True),)
        succ = f"; successor: `{new}`"
    when = f" on {info.deprecation_date.isoformat()}" if info.deprecation_date else ""
    if status == "retired":
        yield ctx.finding("MD003", f"Model `{ref.ref}` was retired{when}{succ}.", span, fixes=fixes,
                          model=ref.ref)
    else:
        yield ctx.finding("MD002", f"Model `{ref.ref}` is deprecated and shuts down{when}{succ}.", span,
                          fixes=fixes, model=ref.ref)
