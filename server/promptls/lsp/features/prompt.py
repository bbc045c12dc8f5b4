"""Editor features over the latest analysis: hover, completion, inlay hints, code lenses, quick fixes,
document symbols and go to definition. Each handler converts positions, asks the analysis, converts back."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from promptls.core.figures import format_cost, format_count, of_report, share_bar
from promptls.core.findings import FileReport
from promptls.core.positions import LineIndex, Span, units_len
from promptls.lsp.convert import to_offset, to_range, to_workspace_edit
from promptls.lsp.features import code as code_features
from promptls.lsp.state import Analysis, ServerState

log = logging.getLogger(__name__)
_INDEX_LOCK = threading.Lock()

# A Markdown hard line break between a hover's fields: one field per line, without the blank line that a
# paragraph break shows in Neovim's hover window.
BREAK = "  \n"
HANDLEBARS_HELPERS = ["if", "unless", "each", "with", "lookup", "log"]
DOTPROMPT_HELPERS = ["role", "history", "section", "media", "json", "ifEquals", "unlessEquals"]


def analyze(state: ServerState, uri: str, path: str, text: str, version: int | None,
            encoding: str = "utf-16", kind: str | None = None, limit_lines: int | None = None) -> Analysis:
    from promptls.analysis.engine import analyze as analyze_text  # deferred: keeps `initialize` fast
    from promptls.analysis.engine import analyze_dataset_prefix

    try:
        if limit_lines is not None:
            doc, report = analyze_dataset_prefix(path, text, state.config, limit_lines)
        else:
            doc, report = analyze_text(path, text, state.config, partials=state.partial_lookup, kind=kind,
                                       online_count=state.online_lookup if state.config.tokens_online else None,
                                       workspace=workspace_index(state, path))
    except Exception as e:  # the server keeps running whatever a document contains
        log.exception("analysis crashed on %s", uri)
        from promptls.core.findings import Finding, Severity

        doc = None
        report = FileReport(path, "unknown", None, [Finding("IO001", Severity.WARNING,
                                                            f"Not analysed: internal error ({type(e).__name__}).",
                                                            Span(0, 0))], skipped="internal error")
    return Analysis(uri, version, text, doc, report, LineIndex(text, encoding), kind=report.kind,
                    partial=limit_lines is not None)


def workspace_index(state: ServerState, path: str):
    """The index of the workspace's source modules (what `check` builds), made on the first source file analysed
    (in the analysis pool, off the event loop); the open buffer re-indexes its own module as it is analysed."""
    from promptls.workspace.index import PY_SUFFIXES, TS_SUFFIXES

    if state.root is None or not path.endswith(PY_SUFFIXES + TS_SUFFIXES) or not state.config.code_languages:
        return None
    if state.workspace_index is None:
        with _INDEX_LOCK:  # two analysis workers must not build it twice
            if state.workspace_index is None:
                from promptls.workspace import WorkspaceIndex

                try:
                    state.workspace_index = WorkspaceIndex.build([state.root])
                except Exception:  # an empty index: each file is analysed on its own, as before
                    log.exception("workspace index not built for %s", state.root)
                    state.workspace_index = WorkspaceIndex([state.root])
    return state.workspace_index


def _analysis(ls, uri: str) -> Analysis | None:
    if not ls.is_analysed(uri):
        return None
    return ls.analyze_now(uri)


# -- hover ------------------------------------------------------------------------------------------------
def hover(ls, params: lsp.HoverParams) -> lsp.Hover | None:
    a = _analysis(ls, params.text_document.uri)
    if a is not None and a.kind == "code":
        return code_features.hover(ls, a, to_offset(a.index, params.position))
    if a is None or a.prompt is None:
        return None
    off = to_offset(a.index, params.position)
    doc = a.prompt
    for ref in doc.template.refs:
        if ref.span.contains(off):
            return _md(a, ref.span, _var_md(a, ref.root))
    for name, decl in doc.inputs.items():
        if decl.span.end > decl.span.start and decl.span.contains(off):
            return _md(a, decl.span, _var_md(a, name))
    if doc.model and doc.model.span and doc.model.span.contains(off):
        return _md(a, doc.model.span, _model_md(ls, doc.model.ref, doc.model.provider)
                   + _call_md(a, ls.state.config.calls_per_month))
    tokens = a.report.tokens
    for i, msg in enumerate(doc.messages):
        if msg.role_span and msg.role_span.contains(off) and tokens and i < len(tokens.messages):
            t = tokens.messages[i]
            kind = "exact" if tokens.exact else "estimated"
            share = share_bar(t.tokens, tokens.input)
            return _md(a, msg.role_span, f"**{msg.role}** message: {format_count(t.tokens, tokens.exact)} tokens "
                       f"({kind}, {tokens.tokenizer}){BREAK}`{share}` of the input")
    for p in doc.template.partials:
        if p.span.contains(off):
            found = ls.state.partial_lookup(p.name, doc.path)
            where = f"`{found[0]}`" if found else "not found in the workspace"
            return _md(a, p.span, f"partial **{p.name}**: {where}")
    return None


def _call_md(a: Analysis, calls_per_month: int | None = None) -> str:
    """The prompt's call figures, as the lens and the status bar write them (and the month's cost)."""
    t = a.report.tokens
    if t is None:
        return ""
    fails = code_features.failure(a.report.findings)
    note = f" ({t.rendered_with})" if t.rendered_with else ""
    return f"{BREAK}{fails}." if fails else f"{BREAK}This call: {of_report(t, calls_per_month).long}{note}."


def _md(a: Analysis, span: Span, text: str) -> lsp.Hover:
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                     range=to_range(a.index, span))


def _var_md(a: Analysis, name: str) -> str:
    doc = a.doc
    decl = doc.inputs.get(name)
    lines = [f"**{name}**"]
    if decl is None:
        lines.append("not declared as an input" if doc.inputs_declared else "(this file declares no inputs)")
    else:
        lines.append(f"kind: `{decl.kind or 'any'}`" + (" (required)" if decl.required else " (optional)"))
        if decl.description:
            lines.append(decl.description)
        if decl.has_default:
            lines.append(f"default: `{_short(decl.default)}`")
        if decl.has_sample:
            lines.append(f"sample: `{_short(decl.sample)}`")
    uses = sorted({a.index.pos(r.span.start).line + 1 for r in doc.template.refs if r.root == name})
    lines.append("used on line" + ("s " if len(uses) != 1 else " ") + ", ".join(map(str, uses)) if uses else
                 "never used in the template")
    return BREAK.join(lines)


def _short(v) -> str:
    s = repr(v) if not isinstance(v, str) else v
    return s if len(s) <= 80 else s[:77] + "..."


def _model_md(ls, ref: str, provider: str | None) -> str:
    from promptls.analysis.context import Context

    ctx = Context(ls.state.config)
    res = ctx.catalog.resolve(ref, provider)
    info = res.info
    if info is None:
        more = f" — did you mean `{res.suggestions[0]}`?" if res.suggestions else ""
        return f"**{ref}**: not in the catalog{more}"
    parts = [f"**{info.id}** ({info.provider})"]
    if info.context_window:
        parts.append(f"context window: {info.context_window:,} tokens")
    if info.max_output:
        parts.append(f"max output: {info.max_output:,} tokens")
    if info.input_per_mtok is not None:
        price = f"price: ${info.input_per_mtok:g} / ${info.output_per_mtok or 0:g} per million input/output tokens"
        if info.cached_input_per_mtok is not None:
            price += f" (cached input ${info.cached_input_per_mtok:g})"
        parts.append(price)
    parts.append(f"tokenizer: `{info.tokenizer}`")
    status = info.status(ls.state.config.today or __import__("datetime").date.today())
    if status != "active":
        when = f" on {info.deprecation_date}" if info.deprecation_date else ""
        succ = f"; successor `{info.successor}`" if info.successor else ""
        parts.append(f"**{status}**{when}{succ}")
    return BREAK.join(parts)


# -- inlay hints and code lenses ----------------------------------------------------------------------------
def inlay_hints(ls, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
    # Clients ask for hints over the visible range: remember it, so a large dataset is analysed there first.
    ls.state.visible_end[params.text_document.uri] = params.range.end.line
    a = _analysis(ls, params.text_document.uri)
    if a is not None and a.kind == "code":
        return code_features.inlay_hints(a, params.range)
    if a is None or a.prompt is None or a.report.tokens is None:
        return []
    tokens = a.report.tokens
    out = []
    for i, msg in enumerate(a.prompt.messages):
        if i >= len(tokens.messages):
            break
        anchor = msg.role_span.end if msg.role_span else msg.content_span.start
        line = a.index.pos(anchor).line
        end = lsp.Position(line, units_len(a.index.line_text(line), a.index.encoding))
        if not (params.range.start.line <= line <= params.range.end.line):
            continue
        out.append(lsp.InlayHint(position=end, label=f"{format_count(tokens.messages[i].tokens, tokens.exact)} tokens",
                                 kind=lsp.InlayHintKind.Type, padding_left=True))
    return out


async def code_lens(ls, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    # The analysis first: the scheduler had this handler wait for it, and while the hooks below await, a settings
    # change (`initialized`, didChangeConfiguration) may drop it; the figures lens would then be missing for good.
    a = _analysis(ls, params.text_document.uri)
    extra: list[lsp.CodeLens] = []
    for hook in ls.code_lens_hooks:  # e.g. the "Run" lens of the assist layer
        extra.extend(await hook(ls, params) or [])
    if a is not None and a.kind != "prompt":
        return code_features.code_lenses(a, ls.state.config.calls_per_month) + extra
    if a is None or a.report.tokens is None:
        return extra
    fails = code_features.failure(a.report.findings)
    title = fails or of_report(a.report.tokens, ls.state.config.calls_per_month).long
    if a.report.model:
        title += f" · {a.report.model}"
    rng = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    return [lsp.CodeLens(range=rng, command=lsp.Command(title=title, command="")), *extra]


def status(a: Analysis | None, extra: dict) -> dict:
    """The `promptls/status` notification: the assist layer's fields, and the active prompt's figures both as
    numbers and as the text clients show as sent (`text`: the same strings as the lens and `check`)."""
    active = None
    if a is not None and a.report.tokens is not None:
        fig = of_report(a.report.tokens)
        fails = code_features.failure(a.report.findings)
        active = {"uri": a.uri, "tokens": fig.tokens, "costUsd": fig.cost_usd, "exact": fig.exact,
                  "model": a.report.model, "text": fails or fig.short, "tokensText": fig.tokens_text,
                  "costText": fig.cost_text, "detail": fails or fig.long}
    session = extra.get("sessionCostUsd")
    texts = {"sessionCostText": format_cost(session)} if isinstance(session, (int, float)) else {}
    return {**extra, **texts, "activeFile": active}


# -- completion ---------------------------------------------------------------------------------------------
async def completion(ls, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    a = _analysis(ls, params.text_document.uri)
    if a is not None and a.kind == "code":
        found = code_features.completion(ls, a, params)
        if found is not None:
            return found
    if a is None or a.prompt is None:
        # not a prompt file: LLM completion items for clients without inline completion (assist layer)
        items: list[lsp.CompletionItem] = []
        for hook in ls.completion_hooks:
            items.extend(await hook(ls, params) or [])
        return lsp.CompletionList(is_incomplete=True, items=items) if items else None
    doc = a.prompt
    off = to_offset(a.index, params.position)
    line = a.index.line_text(params.position.line)
    before = a.text[a.index.offset(a.index.pos(off)) - a.index.pos(off).character:off]
    fm = doc.frontmatter
    items: list[lsp.CompletionItem] = []
    if fm.yaml_span is not None and fm.yaml_span.start <= off <= fm.yaml_span.end:
        m = re.match(r"^\s*model\s*:\s*([\w./:-]*)$", before)
        if m:
            items = _model_items(ls, m.group(1))
        elif re.match(r"^[A-Za-z_]*$", before):
            from promptls.analysis.rules.frontmatter import DOTPROMPT, PROMPTY_V1, PROMPTY_V2

            schema = DOTPROMPT if doc.dialect == "dotprompt" else PROMPTY_V1 if doc.version == "v1" else PROMPTY_V2
            present = set(fm.data)
            items = [lsp.CompletionItem(label=k, kind=lsp.CompletionItemKind.Property, insert_text=f"{k}: ")
                     for k in schema if k not in present and k != "*open*"]
        return lsp.CompletionList(is_incomplete=False, items=items)
    del line
    if doc.engine in ("handlebars", "mustache"):
        m = re.search(r"\{\{(?P<kind>[#/>^]?)\s*(?P<word>[\w.@-]*)$", before)
        if not m:
            return None
        if m.group("kind") == ">":
            names = sorted(ls.state.partial_index)
            items = [lsp.CompletionItem(label=n, kind=lsp.CompletionItemKind.File) for n in names]
        else:
            items = _variable_items(doc)
            helpers = HANDLEBARS_HELPERS + (DOTPROMPT_HELPERS if doc.dialect == "dotprompt" else [])
            items += [lsp.CompletionItem(label=h, kind=lsp.CompletionItemKind.Function, detail="helper")
                      for h in helpers]
            if m.group("kind") != "#":
                items += [lsp.CompletionItem(label=v, kind=lsp.CompletionItemKind.Keyword)
                          for v in ("this", "@root", "@index", "@key", "@first", "@last")]
    else:
        if not re.search(r"\{[{%][-+]?\s*[^}%]*$", before):
            return None
        items = _variable_items(doc)
        items += [lsp.CompletionItem(label=k, kind=lsp.CompletionItemKind.Keyword)
                  for k in ("if", "for", "set", "endif", "endfor", "else", "elif", "macro", "with")]
    return lsp.CompletionList(is_incomplete=False, items=items)


def _variable_items(doc) -> list[lsp.CompletionItem]:
    names = dict.fromkeys([*doc.inputs, *(r.root for r in doc.template.refs if not r.root.startswith("@"))])
    items = []
    for n in names:
        decl = doc.inputs.get(n)
        detail = f"input: {decl.kind or 'any'}" if decl else "used in template"
        items.append(lsp.CompletionItem(label=n, kind=lsp.CompletionItemKind.Variable, detail=detail,
                                        sort_text=("0" if decl else "1") + n))
    return items


def _model_items(ls, prefix: str) -> list[lsp.CompletionItem]:
    from promptls.analysis.context import Context

    cat = Context(ls.state.config).catalog
    infos = cat.search(prefix.rpartition("/")[2])[:200]
    out = []
    for i in infos:
        detail = f"{i.provider} · {i.context_window or '?'} ctx"
        if i.input_per_mtok is not None:
            detail += f" · ${i.input_per_mtok:g}/${i.output_per_mtok or 0:g} per Mtok"
        out.append(lsp.CompletionItem(label=i.id, kind=lsp.CompletionItemKind.Value, detail=detail))
    return out


# -- code actions ---------------------------------------------------------------------------------------------
async def code_actions(ls, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
    extra: list[lsp.CodeAction] = []
    for hook in ls.code_action_hooks:  # lazy LLM actions (assist layer), any file
        extra.extend(await hook(ls, params) or [])
    uri = params.text_document.uri
    a = _analysis(ls, uri)
    if a is None:
        return extra or None
    start = to_offset(a.index, params.range.start)
    end = to_offset(a.index, params.range.end)
    out: list[lsp.CodeAction] = []
    wanted = params.context.only
    for f in a.report.findings:
        if not f.fixes or f.span.end < start or f.span.start > end:
            continue
        diag = next((d for d in params.context.diagnostics if d.code == f.code and d.source == "promptls"), None)
        for fix in f.fixes:
            if wanted and not any(str(k).startswith("quickfix") for k in wanted):
                continue
            out.append(lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.QuickFix,
                                      diagnostics=[diag] if diag else None, is_preferred=fix.preferred or None,
                                      edit=to_workspace_edit(uri, a.index, fix)))
    out.extend(code_features.refactors(ls, a, uri, start, end, wanted))
    if a.prompt is not None:
        from promptls.analysis.rules.frontmatter import v1_migration_fix

        fix = v1_migration_fix(a.prompt)
        if fix is not None and (not wanted or any(str(k).startswith("refactor") for k in wanted)):
            out.append(lsp.CodeAction(title=fix.title, kind=lsp.CodeActionKind.RefactorRewrite,
                                      edit=to_workspace_edit(uri, a.index, fix)))
    return out + extra


# -- symbols and definitions -----------------------------------------------------------------------------------
def document_symbols(ls, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    a = _analysis(ls, params.text_document.uri)
    if a is None or a.prompt is None:
        return []
    doc = a.prompt
    out = []
    if doc.frontmatter.yaml_span is not None and doc.frontmatter.root is not None:
        fm = doc.frontmatter
        span = Span(fm.open_span.start if fm.open_span else 0, fm.close_span.end if fm.close_span else fm.yaml_span.end)
        children = []
        for key, node in (fm.root.children or {}).items() if fm.root.is_map else []:
            ks = node.key_span or node.span
            children.append(lsp.DocumentSymbol(name=key, kind=lsp.SymbolKind.Property,
                                               range=to_range(a.index, Span(ks.start, max(ks.end, node.span.end))),
                                               selection_range=to_range(a.index, ks)))
        out.append(lsp.DocumentSymbol(name="frontmatter", kind=lsp.SymbolKind.Namespace,
                                      range=to_range(a.index, span), selection_range=to_range(a.index, fm.open_span
                                                                                               or span),
                                      children=children))
    tokens = a.report.tokens
    for i, msg in enumerate(doc.messages):
        sel = msg.role_span or Span(msg.content_span.start, msg.content_span.start)
        rng = Span(min(sel.start, msg.content_span.start), max(sel.end, msg.content_span.end))
        detail = None
        if tokens and i < len(tokens.messages):
            detail = f"{tokens.messages[i].tokens:,} tokens"
        sections = []
        for h in doc.template.helpers:
            if h.name == "section" and msg.content_span.contains(h.span.start):
                label = str(h.args[0]) if h.args else "section"
                sections.append(lsp.DocumentSymbol(name=f"section {label}", kind=lsp.SymbolKind.Field,
                                                   range=to_range(a.index, h.span),
                                                   selection_range=to_range(a.index, h.span)))
        out.append(lsp.DocumentSymbol(name=f"{msg.role} message", kind=lsp.SymbolKind.Event, detail=detail,
                                      range=to_range(a.index, rng), selection_range=to_range(a.index, sel),
                                      children=sections or None))
    return out


def definition(ls, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
    a = _analysis(ls, params.text_document.uri)
    if a is not None and a.kind == "code":
        return code_features.definition(ls, a, to_offset(a.index, params.position))
    if a is None or a.prompt is None:
        return None
    off = to_offset(a.index, params.position)
    doc = a.prompt
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


def _republish_dependents(server, a: Analysis) -> None:
    """After a Python module's analysis: when its exported symbols changed, re-analyse the open modules that import
    it (directly or through re-exports), so their findings follow the edit."""
    index = server.state.workspace_index
    if index is None:
        return
    for path in index.take_pending():  # whichever publish comes first takes them, this document's own included
        uri = from_fs_path(path)
        if uri and uri in server.workspace.text_documents:
            server.scheduler.request(uri)


def register(server) -> None:
    scheduler = getattr(server, "scheduler", None)
    if scheduler is not None:
        scheduler.on_published.append(lambda a: _republish_dependents(server, a))
    server.feature(lsp.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)(inlay_hints)
    server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)(code_lens)
    server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                   lsp.CompletionOptions(trigger_characters=["{", " ", "#", ">", ":", "/", "."]))(completion)
    server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                   lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix,
                                                            lsp.CodeActionKind.RefactorRewrite,
                                                            lsp.CodeActionKind.RefactorExtract]))(code_actions)
    server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(document_symbols)
    server.feature(lsp.TEXT_DOCUMENT_DEFINITION)(definition)
