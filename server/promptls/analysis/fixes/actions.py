"""Refactorings offered on an SDK call site: a cheaper model of the same family (with the cost per call before
and after), retry with backoff, streaming, prompt caching of a long static system prompt, and extracting an
inline prompt into a `.prompty` file. Pure: a `CodeDocument` and its call estimates in, titled fixes out."""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass

from promptls.analysis.fixes import edits
from promptls.analysis.measure import CallEstimate, price_with
from promptls.catalog.family import cheaper_in_family
from promptls.catalog.model_info import DEFAULT_PROMPT_CACHE_MIN_TOKENS
from promptls.core.figures import format_cost
from promptls.core.findings import Fix, TextEdit
from promptls.documents.code.model import CodeDocument


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # "refactor.rewrite" | "refactor.extract"
    fix: Fix


def _cost(v: float | None) -> str:
    return format_cost(v) if v is not None else "unpriced"


def call_actions(doc: CodeDocument, est: CallEstimate, catalog, today: _dt.date) -> list[Action]:
    out: list[Action] = []
    out.extend(_cheaper(doc, est, catalog, today))
    for build, title_kind in ((edits.wrap_with_retry, "refactor.rewrite"), (edits.to_streaming, "refactor.rewrite")):
        try:
            fix = build(doc, est.site)
        except Exception:  # a builder that cannot handle this shape offers nothing rather than failing the menu
            fix = None
        if fix is not None:
            out.append(Action(title_kind, fix))
    out.extend(_cache(doc, est))
    out.extend(_extract(doc, est))
    return out


def _cheaper(doc: CodeDocument, est: CallEstimate, catalog, today: _dt.date) -> list[Action]:
    from promptls.analysis.fixes.edits import replacement_text, string_inner

    model = est.request.model
    if est.info is None or model is None or not isinstance(model.value, str):
        return []
    inner = string_inner(doc, model)
    if inner is None:
        return []
    out = []
    basis = f"{est.input_tokens:,} input" + (f" + {est.output_tokens:,} output" if est.output_tokens else "")
    for alt in cheaper_in_family(catalog.all(), est.info, today):
        new = replacement_text(model.value, alt.id)
        before, after = est.cost_usd, price_with(catalog, alt.id, est)
        if est.input_tokens:
            title = f"Use cheaper `{new}`: {_cost(before)} → {_cost(after)} per call ({basis} tokens)"
        else:
            title = (f"Use cheaper `{new}`: ${est.info.input_per_mtok:g} → ${alt.input_per_mtok:g} per million "
                     "input tokens")
        out.append(Action("refactor.rewrite", Fix(title, (TextEdit(inner, new),))))
    return out


def _cache(doc: CodeDocument, est: CallEstimate) -> list[Action]:
    if est.site.sdk != "anthropic":
        return []
    minimum = (est.info.prompt_cache_min_tokens if est.info is not None else None) or DEFAULT_PROMPT_CACHE_MIN_TOKENS
    for part, tokens in est.parts:
        if part.role == "system" and part.static and tokens >= minimum:
            fix = edits.cache_system_prompt(doc, est.site)
            return [Action("refactor.rewrite", fix)] if fix else []
    return []


def _extract(doc: CodeDocument, est: CallEstimate) -> list[Action]:
    out = []
    folder = os.path.dirname(doc.path)
    stem = re.sub(r"\W+", "_", os.path.splitext(os.path.basename(doc.path))[0]).strip("_") or "prompt"
    for part, _tokens in est.parts:
        role = "system" if part.role in ("system", "instructions", "developer") else "user"
        if not part.static or part.value.name is not None or len(part.text) < 40:
            continue
        line = doc.text.count("\n", 0, est.site.span.start) + 1
        rel = f"{stem}_{role}_{line}.prompty"
        fix = edits.extract_prompt(doc, est.site, part.value, role, rel, os.path.join(folder, rel))
        if fix is not None:
            out.append(Action("refactor.extract", fix))
    return out
