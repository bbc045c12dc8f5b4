"""VR rules: undefined variables, unused inputs, inputs without any value, and sample/default type mismatches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from promptls.analysis.context import Context
from promptls.core.findings import Finding, Fix, TextEdit
from promptls.core.positions import Span
from promptls.documents.prompt.model import PromptDocument

WHOLE_CONTEXT = {"this", ".", ""}
_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,), "object": (dict,),
    "array": (list,), "thread": (list, str), "image": (str,), "file": (str,),
}


def used_roots(doc: PromptDocument, ctx: Context | None = None) -> set[str]:
    roots = {r.root for r in doc.template.refs}
    if ctx is not None and doc.template.partials:
        for ref in doc.template.partials:
            found = ctx.partials(ref.name, doc.path)
            if found is not None:
                roots |= _partial_roots(found[1])
    return roots


def _partial_roots(text: str) -> set[str]:
    from promptls.documents.prompt import frontmatter as fmmod
    from promptls.documents.prompt.common import analyze_body

    fm = fmmod.split(text)
    return {r.root for r in analyze_body("handlebars", text[fm.body_start:], fm.body_start).refs}


def check(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    if not doc.inputs_declared:
        return
    yield from undefined_variables(doc, ctx)
    yield from unused_inputs(doc, ctx)
    yield from inputs_without_value(doc, ctx)
    yield from sample_type_mismatches(doc, ctx)


def undefined_variables(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    """VR001, once per place, with a fix that declares the variable."""
    locals_ = doc.template.locals
    reported: set[tuple[int, int]] = set()
    for ref in doc.template.refs:
        if ref.maybe or ref.root in doc.inputs or ref.root in locals_ or ref.root in WHOLE_CONTEXT:
            continue
        if ref.root.startswith("@"):
            continue
        key = (ref.span.start, ref.span.end)
        if key in reported:
            continue
        reported.add(key)
        fix = declare_fix(doc, ref.root)
        yield ctx.finding("VR001", f"`{ref.root}` is used but not declared as an input.", ref.span,
                          fixes=(fix,) if fix else (), name=ref.root)


def unused_inputs(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    """VR002: inputs neither the template nor its partials use (none when the whole context is passed on)."""
    roots = used_roots(doc, ctx)
    if roots & WHOLE_CONTEXT:
        return
    for name, decl in doc.inputs.items():
        if name in roots or decl.span.end == decl.span.start:
            continue
        fixes = (Fix(f"Remove input `{name}`", (TextEdit(decl.removal_span, ""),)),) if decl.removal_span else ()
        yield ctx.finding("VR002", f"Input `{name}` is declared but never used in the template.", decl.span,
                          fixes=fixes, name=name)


def inputs_without_value(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    """VR003: a required input with no default or sample to preview the prompt with."""
    if doc.dialect not in ("dotprompt", "prompty"):
        return
    where = "`input.default`" if doc.dialect == "dotprompt" else "a `default` (or v1 `sample`)"
    for name, decl in doc.inputs.items():
        if decl.required and not decl.has_default and not decl.has_sample and decl.span.end > decl.span.start \
                and decl.kind != "thread":
            yield ctx.finding("VR003", f"Input `{name}` has no value to preview with; add {where}.", decl.span,
                              name=name)


def sample_type_mismatches(doc: PromptDocument, ctx: Context) -> Iterator[Finding]:
    """VR004: a default or sample whose type is not the input's declared kind."""
    for name, decl in doc.inputs.items():
        for value, span, what in ((decl.default, decl.default_span, "default"),
                                  (decl.sample, decl.sample_span, "sample")):
            if span is None or decl.kind not in _KIND_TYPES:
                continue
            if not _matches(value, decl.kind):
                yield ctx.finding("VR004", f"The {what} of `{name}` is {_tn(value)} but `{name}` is declared as "
                                  f"`{decl.kind}`.", span, name=name)


def _matches(value: Any, kind: str) -> bool:
    if value is None or (isinstance(value, str) and "${" in value):
        return True
    types = _KIND_TYPES[kind]
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _tn(v: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "a list",
            dict: "a mapping"}.get(type(v), type(v).__name__)


# -- quick fix: declare an undefined variable ------------------------------------------------------------
def declare_fix(doc: PromptDocument, name: str) -> Fix | None:
    text, fm = doc.text, doc.frontmatter
    if not fm.present or fm.root is None or fm.close_span is None or not fm.root.is_map:
        return None
    title = f"Declare `{name}` as an input"
    if doc.dialect == "dotprompt":
        schema = fm.root.get("input", "schema")
        if schema is not None and schema.is_map:
            props = schema.get("properties") if schema.get("properties") is not None else schema
            if props.is_map and props.children:
                last = list(props.children.values())[-1]  # type: ignore[union-attr]
                indent = _indent_of(text, (last.key_span or last.span).start)
                at = _after_line(text, last.span.end)
                return Fix(title, (TextEdit(Span(at, at), f"{indent}{name}: string\n"),), preferred=True)
        if fm.root.get("input") is None:
            at = fm.close_span.start
            return Fix(title, (TextEdit(Span(at, at), f"input:\n  schema:\n    {name}: string\n"),), preferred=True)
        return None
    if doc.dialect == "prompty":
        inputs = fm.root.get("inputs")
        if inputs is None:
            at = fm.close_span.start
            snippet = (f"inputs:\n  - name: {name}\n    kind: string\n" if doc.version != "v1"
                       else f"inputs:\n  {name}:\n    type: string\n")
            return Fix(title, (TextEdit(Span(at, at), snippet),), preferred=True)
        if inputs.is_seq and inputs.children:
            last = inputs.children[-1]  # type: ignore[index]
            ws = _indent_of(text, last.span.start).split("-")[0]
            at = _after_line(text, last.span.end)
            return Fix(title, (TextEdit(Span(at, at), f"{ws}- name: {name}\n{ws}  kind: string\n"),),
                       preferred=True)
        if inputs.is_map and inputs.children:
            last = list(inputs.children.values())[-1]  # type: ignore[union-attr]
            indent = _indent_of(text, (last.key_span or last.span).start)
            at = _after_line(text, last.span.end)
            kind_key = "type" if doc.version == "v1" else "kind"
            return Fix(title, (TextEdit(Span(at, at), f"{indent}{name}:\n{indent}  {kind_key}: string\n"),),
                       preferred=True)
    return None


def _indent_of(text: str, offset: int) -> str:
    ls = text.rfind("\n", 0, offset) + 1
    m = re.match(r"[ \t-]*", text[ls:offset])
    return m.group(0) if m else ""


def _after_line(text: str, offset: int) -> int:
    """Start of the line after the one holding `offset - 1` (YAML node ends often sit at the next line start)."""
    if offset > 0 and text[offset - 1] == "\n":
        return offset
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1
