"""Editor features of prompt files (Dotprompt, Prompty, templates): hovers on variables, the model, messages and
partials; a token hint per message; the figures lens; completion of front-matter keys, model ids, variables and
helpers; the Prompty v1 migration; the outline; go to a partial or a variable's declaration. The dispatcher
(`dispatch.py`) hands each request here for an analysis of kind "prompt"; the texts come from
`analysis/describe.py`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from promptls.analysis import describe
from promptls.core.positions import Span, units_len
from promptls.lsp.convert import to_offset, to_range, to_workspace_edit
from promptls.lsp.features.common import lens, markdown_hover, model_items, wants
from promptls.lsp.state import Analysis

LLM_COMPLETION = False  # the template's own completion owns a prompt file
JINJA_KEYWORDS = ("if", "for", "set", "endif", "endfor", "else", "elif", "macro", "with")
HANDLEBARS_VARIABLES = ("this", "@root", "@index", "@key", "@first", "@last")


def hover(ls: Any, a: Analysis, off: int) -> lsp.Hover | None:
    doc = a.prompt
    if doc is None:
        return None
    for ref in doc.template.refs:
        if ref.span.contains(off):
            return markdown_hover(a, ref.span, describe.variable_md(doc, a.index, ref.root))
    for name, decl in doc.inputs.items():
        if decl.span.end > decl.span.start and decl.span.contains(off):
            return markdown_hover(a, decl.span, describe.variable_md(doc, a.index, name))
    config = ls.state.config
    if doc.model and doc.model.span and doc.model.span.contains(off):
        return markdown_hover(a, doc.model.span, describe.model_md(config, doc.model.ref, doc.model.provider)
                              + describe.prompt_call_md(a.report, config.calls_per_month))
    tokens = a.report.tokens
    for i, msg in enumerate(doc.messages):
        if msg.role_span and msg.role_span.contains(off) and tokens and i < len(tokens.messages):
            return markdown_hover(a, msg.role_span, describe.message_md(msg.role, tokens.messages[i].tokens,
                                                                        a.report))
    for p in doc.template.partials:
        if p.span.contains(off):
            found = ls.state.partial_lookup(p.name, doc.path)
            return markdown_hover(a, p.span, describe.partial_md(p.name, found))
    return None


def inlay_hints(ls: Any, a: Analysis, rng: lsp.Range) -> list[lsp.InlayHint]:
    tokens = a.report.tokens
    if a.prompt is None or tokens is None:
        return []
    out = []
    for i, msg in enumerate(a.prompt.messages):
        if i >= len(tokens.messages):
            break
        anchor = msg.role_span.end if msg.role_span else msg.content_span.start
        line = a.index.pos(anchor).line
        end = lsp.Position(line, units_len(a.index.line_text(line), a.index.encoding))
        if not (rng.start.line <= line <= rng.end.line):
            continue
        out.append(lsp.InlayHint(position=end, label=describe.message_hint(a.report, i),
                                 kind=lsp.InlayHintKind.Type, padding_left=True))
    return out


def code_lenses(ls: Any, a: Analysis) -> list[lsp.CodeLens]:
    if a.report.tokens is None:
        return []
    return [lens(describe.prompt_lens(a.report, ls.state.config.calls_per_month))]


def completion(ls: Any, a: Analysis, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    doc = a.prompt
    if doc is None:
        return None
    off = to_offset(a.index, params.position)
    before = a.text[a.index.offset(a.index.pos(off)) - a.index.pos(off).character:off]
    fm = doc.frontmatter
    if fm.yaml_span is not None and fm.yaml_span.start <= off <= fm.yaml_span.end:
        return lsp.CompletionList(is_incomplete=False, items=_frontmatter_items(ls, doc, before))
    if doc.engine in ("handlebars", "mustache"):
        items = _handlebars_items(ls, doc, before)
    else:
        items = _jinja_items(doc, before)
    return None if items is None else lsp.CompletionList(is_incomplete=False, items=items)


def _frontmatter_items(ls: Any, doc: Any, before: str) -> list[lsp.CompletionItem]:
    m = re.match(r"^\s*model\s*:\s*([\w./:-]*)$", before)
    if m:
        return model_items(ls.state.config, m.group(1))
    if re.match(r"^[A-Za-z_]*$", before):
        # deferred, like every rule module: they load with the first analysis, not at start-up
        from promptls.analysis.rules.frontmatter import DOTPROMPT, PROMPTY_V1, PROMPTY_V2

        schema = DOTPROMPT if doc.dialect == "dotprompt" else PROMPTY_V1 if doc.version == "v1" else PROMPTY_V2
        present = set(doc.frontmatter.data)
        return [lsp.CompletionItem(label=k, kind=lsp.CompletionItemKind.Property, insert_text=f"{k}: ")
                for k in schema if k not in present and k != "*open*"]
    return []


def _handlebars_items(ls: Any, doc: Any, before: str) -> list[lsp.CompletionItem] | None:
    # deferred: the template parser loads with the first analysis, not at start-up
    from promptls.documents.templates.handlebars import BUILTIN_HELPERS, DOTPROMPT_HELPERS

    m = re.search(r"\{\{(?P<kind>[#/>^]?)\s*(?P<word>[\w.@-]*)$", before)
    if not m:
        return None
    if m.group("kind") == ">":
        return [lsp.CompletionItem(label=n, kind=lsp.CompletionItemKind.File) for n in sorted(ls.state.partial_index)]
    helpers = sorted(BUILTIN_HELPERS) + (sorted(DOTPROMPT_HELPERS) if doc.dialect == "dotprompt" else [])
    items = _variable_items(doc)
    items += [lsp.CompletionItem(label=h, kind=lsp.CompletionItemKind.Function, detail="helper") for h in helpers]
    if m.group("kind") != "#":
        items += [lsp.CompletionItem(label=v, kind=lsp.CompletionItemKind.Keyword) for v in HANDLEBARS_VARIABLES]
    return items


def _jinja_items(doc: Any, before: str) -> list[lsp.CompletionItem] | None:
    if not re.search(r"\{[{%][-+]?\s*[^}%]*$", before):
        return None
    return _variable_items(doc) + [lsp.CompletionItem(label=k, kind=lsp.CompletionItemKind.Keyword)
                                   for k in JINJA_KEYWORDS]


def _variable_items(doc: Any) -> list[lsp.CompletionItem]:
    names = dict.fromkeys([*doc.inputs, *(r.root for r in doc.template.refs if not r.root.startswith("@"))])
    items = []
    for n in names:
        decl = doc.inputs.get(n)
        detail = f"input: {decl.kind or 'any'}" if decl else "used in template"
        items.append(lsp.CompletionItem(label=n, kind=lsp.CompletionItemKind.Variable, detail=detail,
                                        sort_text=("0" if decl else "1") + n))
    return items


def code_actions(ls: Any, a: Analysis, uri: str, start: int, end: int,
                 wanted: list[Any] | None) -> list[lsp.CodeAction]:
    # deferred: the rule modules load with the first analysis, not at start-up
    from promptls.analysis.rules.frontmatter import v1_migration_fix

    if a.prompt is None:
        return []
    fix = v1_migration_fix(a.prompt)
    if fix is None or not wants(wanted, "refactor"):
        return []
    return [lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.RefactorRewrite,
                           edit=to_workspace_edit(uri, a.index, fix))]


def document_symbols(ls: Any, a: Analysis) -> list[lsp.DocumentSymbol]:
    doc = a.prompt
    if doc is None:
        return []
    out = []
    if doc.frontmatter.yaml_span is not None and doc.frontmatter.root is not None:
        out.append(_frontmatter_symbol(a, doc.frontmatter))
    for i, msg in enumerate(doc.messages):
        sel = msg.role_span or Span(msg.content_span.start, msg.content_span.start)
        rng = Span(min(sel.start, msg.content_span.start), max(sel.end, msg.content_span.end))
        sections = []
        for h in doc.template.helpers:
            if h.name == "section" and msg.content_span.contains(h.span.start):
                label = str(h.args[0]) if h.args else "section"
                sections.append(lsp.DocumentSymbol(name=f"section {label}", kind=lsp.SymbolKind.Field,
                                                   range=to_range(a.index, h.span),
                                                   selection_range=to_range(a.index, h.span)))
        out.append(lsp.DocumentSymbol(name=f"{msg.role} message", kind=lsp.SymbolKind.Event,
                                      detail=describe.message_detail(a.report, i),
                                      range=to_range(a.index, rng), selection_range=to_range(a.index, sel),
                                      children=sections or None))
    return out


def _frontmatter_symbol(a: Analysis, fm: Any) -> lsp.DocumentSymbol:
    span = Span(fm.open_span.start if fm.open_span else 0, fm.close_span.end if fm.close_span else fm.yaml_span.end)
    children = []
    for key, node in (fm.root.children or {}).items() if fm.root.is_map else []:
        ks = node.key_span or node.span
        children.append(lsp.DocumentSymbol(name=key, kind=lsp.SymbolKind.Property,
                                           range=to_range(a.index, Span(ks.start, max(ks.end, node.span.end))),
                                           selection_range=to_range(a.index, ks)))
    return lsp.DocumentSymbol(name="frontmatter", kind=lsp.SymbolKind.Namespace, range=to_range(a.index, span),
                              selection_range=to_range(a.index, fm.open_span or span), children=children)


def definition(ls: Any, a: Analysis, params: lsp.DefinitionParams, off: int) -> list[lsp.Location] | None:
    doc = a.prompt
    if doc is None:
        return None
    for p in doc.template.partials:
        if p.span.contains(off):
            found = ls.state.partial_lookup(p.name, doc.path)
            if found is None:
                return None
            zero = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
            return [lsp.Location(uri=from_fs_path(str(Path(found[0]).resolve())) or found[0], range=zero)]
    for ref in doc.template.refs:
        if ref.span.contains(off):
            decl = doc.inputs.get(ref.root)
            if decl is not None and decl.span.end > decl.span.start:
                return [lsp.Location(uri=params.text_document.uri, range=to_range(a.index, decl.span))]
    return None
