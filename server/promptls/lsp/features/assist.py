"""LSP glue of the assist layer: inline completions, completion items for clients without them, lazy LLM code
actions (run as a command, with `$/progress`), the Run lens and `promptls.runPrompt`, `promptls.showUsage`, and
the busy/idle, provider and session cost fields of `promptls/status`. The work itself lives in `promptls.assist`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from lsprotocol.converters import get_converter

from promptls.assist.actions import answer_text, is_prompt_file, offered, plan, prompt_body_offsets
from promptls.assist.errors import explain_failure
from promptls.assist.inline import InlineEngine, InlineQuery
from promptls.assist.service import Assist
from promptls.core.positions import LineIndex
from promptls.lsp.convert import to_position
from promptls.providers.base import TextDelta
from promptls.router import LLMRequest, Outcome

log = logging.getLogger("promptls.assist")

CMD_RUN = "promptls.runPrompt"
CMD_USAGE = "promptls.showUsage"
CMD_ACTION = "promptls.assistAction"
_converter = get_converter()
_counter = itertools.count(1)


class AssistLayer:
    """Per-server state: the `Assist` service, its inline engine, and messages already shown."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.assist = Assist(on_status=self.send_status)
        self.inline = InlineEngine(self.assist, self.open_docs)
        self.shown_errors: set[str] = set()
        self.last_uri: str | None = None
        self._usable_for: dict[int, bool] = {}  # id of the settings table -> whether an LLM action could run

    # -- helpers ----------------------------------------------------------------------------------------------
    def sync(self) -> None:
        errors = self.assist.sync(self.server.state.config)
        if errors:
            self.server.report_config_errors(errors)
        self.assist.warm()

    def open_docs(self) -> dict[str, str]:
        return {self.server.path_of(u): td.source for u, td in list(self.server.workspace.text_documents.items())}

    def send_status(self) -> None:
        self.server.status_extra.update(self.assist.status())
        self.server.send_status(self.server.state.analyses.get(self.last_uri) if self.last_uri else None)

    def show_once(self, message: str, kind: lsp.MessageType = lsp.MessageType.Warning) -> None:
        key = message.split(":", 2)[:2].__str__()
        if key in self.shown_errors:
            log.info("%s", message)
            return
        self.shown_errors.add(key)
        self.server.window_show_message(lsp.ShowMessageParams(type=kind, message=message))

    def can(self, what: str) -> bool:
        caps = self.server.client_capabilities
        if what == "applyEdit":
            return bool(caps.workspace and caps.workspace.apply_edit)
        if what == "showDocument":
            return bool(caps.window and caps.window.show_document and caps.window.show_document.support)
        if what == "progress":
            return bool(caps.window and caps.window.work_done_progress)
        return False

    def text_of(self, uri: str) -> str:
        return self.server.workspace.get_text_document(uri).source

    def provider_usable(self) -> bool:
        """Whether an LLM action could run: a provider of the `action` chain with its key set, or a keyless one
        that is checkable (local: its model file) or configured by the user (the built-in Ollama default is no
        sign that Ollama runs)."""
        raw = self.server.state.config.raw
        if id(raw) in self._usable_for:
            return self._usable_for[id(raw)]
        router, rs = self.assist.router, self.assist.router_settings
        configured = raw.get("providers") if isinstance(raw, dict) else None
        usable = False
        for name in rs.chain("action") if rs is not None and router is not None else []:
            try:
                provider = router.provider(name)
            except (KeyError, ValueError):
                continue
            vouched = provider.needs_key or provider.settings.kind == "local" or name in (configured or {})
            if vouched and provider.unusable_reason() is None:
                usable = True
                break
        self._usable_for.clear()
        self._usable_for[id(raw)] = usable
        return usable


# -- inline completion ------------------------------------------------------------------------------------------
async def _query(layer: AssistLayer, uri: str, position: lsp.Position, invoked: bool) -> InlineQuery | None:
    try:
        td = layer.server.workspace.get_text_document(uri)
    except Exception:
        return None
    text = td.source
    off = min(len(text), td.offset_at_position(position))
    path = layer.server.path_of(uri)
    language = td.language_id or Path(path).suffix.lstrip(".") or "text"
    return InlineQuery(uri, path, language, text[:off], text[off:], invoked)


async def _complete(layer: AssistLayer, uri: str, position: lsp.Position, invoked: bool) -> str | None:
    layer.sync()
    layer.last_uri = uri
    q = await _query(layer, uri, position, invoked)
    if q is None:
        return None
    before = layer.inline.errors_seen
    answer = await layer.inline.complete(q)
    if layer.inline.errors_seen != before and layer.inline.last_error:
        layer.show_once(layer.inline.last_error)
    return answer


def register(server: Any) -> None:
    layer = AssistLayer(server)
    server.assist_layer = layer
    _register_completion(server, layer)
    _register_actions(server, layer)
    _register_commands(server, layer)


def _register_completion(server: Any, layer: AssistLayer) -> None:
    """Inline completion, and LLM completion items for clients without it; edits feed their context."""

    def note_edits(ls: Any, params: lsp.DidChangeTextDocumentParams) -> None:
        """Recently edited ranges feed the completion context (snippets near them rank higher)."""
        path = ls.path_of(params.text_document.uri)
        for change in params.content_changes:
            rng = getattr(change, "range", None)
            if rng is not None:
                layer.inline.recent.note(path, rng.start.line)

    server.change_hooks.append(note_edits)

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(ls: Any, params: lsp.InlineCompletionParams) -> lsp.InlineCompletionList | None:
        layer.sync()
        if not layer.assist.settings.inline:
            return None
        invoked = params.context.trigger_kind == lsp.InlineCompletionTriggerKind.Invoked
        answer = await _complete(layer, params.text_document.uri, params.position, invoked)
        if not answer:
            return lsp.InlineCompletionList(items=[])
        rng = lsp.Range(params.position, params.position)
        return lsp.InlineCompletionList(items=[lsp.InlineCompletionItem(insert_text=answer, range=rng)])

    async def completion_hook(ls: Any, params: lsp.CompletionParams) -> list[lsp.CompletionItem]:
        layer.sync()
        if not layer.assist.settings.completion_fallback:
            return []
        answer = await _complete(layer, params.text_document.uri, params.position, False)
        if not answer:
            return []
        label = answer.strip().split("\n", 1)[0][:60] or answer[:60]
        return [lsp.CompletionItem(label=label, kind=lsp.CompletionItemKind.Text, detail="promptls (LLM)",
                                   insert_text=answer, sort_text="~", filter_text=answer.strip())]

    server.completion_hooks.append(completion_hook)


def _register_actions(server: Any, layer: AssistLayer) -> None:
    """The Run lens and the LLM code actions (offered at once, resolved to a command when picked)."""

    async def code_lens_hook(ls: Any, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        layer.sync()
        uri = params.text_document.uri
        if not is_prompt_file(ls.path_of(uri)):
            return []
        rng = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
        return [lsp.CodeLens(range=rng, command=lsp.Command(title="▶ Run", command=CMD_RUN, arguments=[uri]))]

    async def code_action_hook(ls: Any, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        layer.sync()
        uri = params.text_document.uri
        r = params.range
        has_sel = (r.start.line, r.start.character) != (r.end.line, r.end.character)
        diags = [_converter.unstructure(d) for d in params.context.diagnostics]
        only = [str(getattr(k, "value", k)) for k in params.context.only] if params.context.only else None
        out = []
        usable = layer.provider_usable()
        for choice in offered(ls.path_of(uri), has_sel, diags, layer.assist.settings, only, usable=usable):
            arg = {"action": choice.id, "uri": uri, "range": _converter.unstructure(r),
                   "diagnostic": choice.diagnostic}
            # No command yet: `codeAction/resolve` adds it when the user picks the action (the menu stays
            # instant, and clients' union decoding of CodeAction | Command is not confused by a `command` key).
            out.append(lsp.CodeAction(title=choice.title, kind=choice.kind, data={"promptlsAssist": arg}))
        return out

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    def resolve_action(ls: Any, action: lsp.CodeAction) -> lsp.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        arg = data.get("promptlsAssist")
        if arg is not None and action.command is None:
            action.command = lsp.Command(title=action.title, command=CMD_ACTION, arguments=[arg])
        return action

    server.code_lens_hooks.append(code_lens_hook)
    server.code_action_hooks.append(code_action_hook)
    ca = server.protocol.fm.feature_options.get(lsp.TEXT_DOCUMENT_CODE_ACTION)
    if isinstance(ca, lsp.CodeActionOptions):
        kinds = list(ca.code_action_kinds or [])
        ca.code_action_kinds = kinds + [k for k in (lsp.CodeActionKind.Refactor,) if k not in kinds]
        ca.resolve_provider = True


def _register_commands(server: Any, layer: AssistLayer) -> None:
    @server.command(CMD_ACTION)
    async def assist_action(ls: Any, *args: Any) -> dict[str, Any]:
        return await _run_action(layer, args[0] if args else {})

    @server.command(CMD_RUN)
    async def run_prompt(ls: Any, *args: Any) -> dict[str, Any]:
        uri = args[0] if args else layer.last_uri
        if isinstance(uri, dict):
            uri = uri.get("uri")
        return await _run_prompt(layer, str(uri))

    @server.command(CMD_USAGE)
    async def show_usage(ls: Any, *args: Any) -> dict[str, Any]:
        return await _show_usage(layer)


# -- long work: progress, cancellation, failures ---------------------------------------------------------------
class _Work:
    """`$/progress` around one piece of work (when the client allows it); the client's cancel cancels the task."""

    def __init__(self, layer: AssistLayer, title: str) -> None:
        self.layer = layer
        self.title = title
        self.token: str | None = None

    async def __aenter__(self) -> _Work:
        if self.layer.can("progress"):
            token = f"promptls-assist-{uuid.uuid4().hex[:8]}"
            wdp = self.layer.server.work_done_progress
            try:
                await asyncio.wait_for(wdp.create_async(token), 5)
                wdp.begin(token, lsp.WorkDoneProgressBegin(title=self.title, cancellable=True, message="asking"))
                self.token = token
                task = asyncio.current_task()
                loop = asyncio.get_running_loop()
                fut = wdp.tokens.get(token)
                if fut is not None and task is not None:
                    fut.add_done_callback(
                        lambda f: f.cancelled() and loop.call_soon_threadsafe(task.cancel))
            except Exception as exc:
                log.debug("no progress: %s", exc)
        return self

    def report(self, message: str) -> None:
        if self.token is not None:
            self.layer.server.work_done_progress.report(self.token, lsp.WorkDoneProgressReport(message=message))

    async def __aexit__(self, *exc: object) -> None:
        if self.token is not None:
            wdp = self.layer.server.work_done_progress
            wdp.end(self.token, lsp.WorkDoneProgressEnd(message="done" if exc[0] is None else "stopped"))
            fut = wdp.tokens.pop(self.token, None)
            if fut is not None and not fut.done():
                fut.cancel = lambda *a, **k: False  # type: ignore[method-assign]  # late cancels are ignored


async def _stream_text(layer: AssistLayer, req: LLMRequest, work: _Work, on_text: Any = None
                       ) -> tuple[str, Outcome | None]:
    parts: list[str] = []
    outcome: Outcome | None = None
    last = 0.0
    async for ev in layer.assist.stream(req):
        if isinstance(ev, TextDelta):
            parts.append(ev.text)
            if on_text is not None:
                await on_text(ev.text)
            now = time.monotonic()
            if now - last > 0.2:
                last = now
                work.report(f"{sum(map(len, parts))} characters")
        elif isinstance(ev, Outcome):
            outcome = ev
    return "".join(parts), outcome


def _fail(layer: AssistLayer, exc: BaseException, purpose: str) -> dict[str, Any]:
    msg = explain_failure(exc, purpose)
    if not isinstance(exc, Exception) or type(exc).__module__.startswith("promptls.providers"):
        log.info("%s", msg)
    else:
        log.exception("%s failed", purpose)
    layer.server.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=msg))
    return {"ok": False, "error": msg}


# -- code actions -------------------------------------------------------------------------------------------------
async def _run_action(layer: AssistLayer, arg: dict[str, Any]) -> dict[str, Any]:
    layer.sync()
    try:
        uri = arg["uri"]
        action_id = arg["action"]
        rng = _converter.structure(arg["range"], lsp.Range)
        td = layer.server.workspace.get_text_document(uri)
    except Exception as exc:
        return {"ok": False, "error": f"promptls: bad action arguments: {exc}"}
    text = td.source
    path = layer.server.path_of(uri)
    start, end = td.offset_at_position(rng.start), td.offset_at_position(rng.end)
    if start == end:
        if is_prompt_file(path) and action_id in ("compress", "improve", "samples"):
            start, end = prompt_body_offsets(text)
        else:  # no selection: the cursor's line
            start = text.rfind("\n", 0, start) + 1
            nl = text.find("\n", end)
            end = len(text) if nl < 0 else nl
    selection = text[start:end]
    language = td.language_id or Path(path).suffix.lstrip(".")
    try:
        p = plan(action_id, path=path, language=language, selection=selection, diagnostic=arg.get("diagnostic"),
                 settings=layer.assist.settings)
    except (KeyError, IndexError, ValueError) as exc:
        return {"ok": False, "error": f"promptls: unknown action {action_id!r} ({exc})"}
    req = LLMRequest(purpose="action", messages=p.messages, source_paths=[path], temperature=0.2)
    try:
        async with _Work(layer, f"promptls: {p.title}") as work:
            raw, outcome = await _stream_text(layer, req, work)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return _fail(layer, exc, "action")
    answer = answer_text(raw, p.mode)
    if not answer:
        msg = f"promptls: {p.title}: the model returned nothing"
        layer.server.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=msg))
        return {"ok": False, "error": msg}
    result: dict[str, Any] = {"ok": True, "mode": p.mode, "text": answer,
                              "provider": outcome.provider if outcome else None}
    if action_id in ("compress", "improve"):
        result["before"] = _measure(layer, selection)
        result["after"] = _measure(layer, answer)
        b, a = result["before"], result["after"]
        layer.server.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Info,
            message=f"promptls: {p.title}: {b['tokens']} → {a['tokens']} tokens"
                    + (f" (${b['costUsd']:.6f} → ${a['costUsd']:.6f} per call)" if b["costUsd"] is not None
                       and a["costUsd"] is not None else "")))
    if p.mode in ("replace", "insert_below"):
        if p.mode == "replace":
            edit_range = lsp.Range(_pos(td, start), _pos(td, end))
            new_text = answer
        else:
            nl = text.find("\n", end)
            at = len(text) if nl < 0 else nl + 1
            edit_range = lsp.Range(_pos(td, at), _pos(td, at))
            new_text = answer + "\n" if nl >= 0 else "\n" + answer
        edit = lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=edit_range, new_text=new_text)]})
        result["edit"] = _converter.unstructure(edit)
        if layer.can("applyEdit"):
            res = await layer.server.workspace_apply_edit_async(
                lsp.ApplyWorkspaceEditParams(edit=edit, label=f"promptls: {p.title}"))
            result["applied"] = bool(res and res.applied)
    elif p.mode == "new_file":
        target = Path(p.new_file_name or (path + ".llm.txt"))
        if target.exists():
            target = target.with_name(f"{target.stem}-{next(_counter)}{target.suffix}")
        result["uri"] = await _new_document(layer, target, answer + "\n")
    else:  # show
        result["uri"] = await _show_text(layer, f"# {p.title}\n\n{answer}\n", "explain")
    return result


def _measure(layer: AssistLayer, text: str) -> dict[str, Any]:
    tokens = layer.assist.count(text)
    cost = None
    model = layer.assist.completion_model()
    try:
        if model:  # the router's catalog: the configuration's `[models]` prices, as everywhere else
            router = layer.assist.router
            catalog = router.catalog if router is not None and router.catalog is not None else None
            if catalog is None:
                from promptls.catalog import load_catalog

                catalog = load_catalog()
            cost = catalog.cost_usd(model, tokens, 0)
    except Exception:
        cost = None
    return {"tokens": tokens, "costUsd": cost}


def _pos(td: Any, offset: int) -> lsp.Position:
    return td.client_position_at_offset(offset)  # the document's own converter (lsp/text.py -> positions.py)


async def _new_document(layer: AssistLayer, target: Path, content: str) -> str:
    from pygls.uris import from_fs_path

    uri = from_fs_path(str(target)) or target.as_uri()
    if layer.can("applyEdit"):
        edit = lsp.WorkspaceEdit(document_changes=[
            lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(ignore_if_exists=True)),
            lsp.TextDocumentEdit(text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                                 edits=[lsp.TextEdit(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
                                                     new_text=content)]),
        ])
        res = await layer.server.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=edit))
        if res is not None and res.applied:
            if layer.can("showDocument"):
                await layer.server.window_show_document_async(lsp.ShowDocumentParams(uri=uri, take_focus=True))
            return uri
    target.write_text(content, "utf-8")
    if layer.can("showDocument"):
        await layer.server.window_show_document_async(lsp.ShowDocumentParams(uri=uri, take_focus=True))
    return uri


def _scratch_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "promptls" / "answers"
    d.mkdir(parents=True, exist_ok=True)
    return d


async def _show_text(layer: AssistLayer, markdown: str, tag: str) -> str | None:
    """A markdown document shown with window/showDocument, or a message where the client cannot show one."""
    if layer.can("showDocument"):
        target = _scratch_dir() / f"{tag}-{int(time.time())}-{next(_counter)}.md"
        target.write_text(markdown, "utf-8")
        uri = target.as_uri()
        await layer.server.window_show_document_async(lsp.ShowDocumentParams(uri=uri, take_focus=True))
        return uri
    layer.server.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Info, message=markdown[:4000]))
    return None


# -- run a prompt -----------------------------------------------------------------------------------------------
async def _run_prompt(layer: AssistLayer, uri: str) -> dict[str, Any]:
    """Render the prompt, stream the model's answer into a Markdown document beside it, and end with the figures."""
    layer.sync()
    try:
        text = layer.text_of(uri)
    except Exception:
        return {"ok": False, "error": f"promptls: {uri} is not open"}
    path = layer.server.path_of(uri)
    layer.last_uri = uri
    rendered = await _render(layer, path, text)
    if isinstance(rendered, dict):
        return rendered
    req = _run_request(rendered, path)
    doc = _RunDocument(layer, _scratch_dir() / f"run-{Path(path).stem}-{int(time.time())}-{next(_counter)}.md",
                       f"# Run of {Path(path).name}\n\n")
    await doc.open()
    try:
        async with _Work(layer, f"promptls: running {Path(path).name}") as work:
            answer, outcome = await _stream_text(layer, req, work, doc.append)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return _fail(layer, exc, "run")
    summary, footer = _run_summary(outcome)
    await doc.append(footer)
    await doc.close()
    if rendered.used_values_for:
        summary["sampleInputs"] = rendered.used_values_for
    return {"ok": True, "uri": doc.uri, "text": answer, **summary}


async def _render(layer: AssistLayer, path: str, text: str) -> Any:
    """The prompt rendered with its inputs (off the loop), or the failure to answer with."""
    from promptls.documents.render import render_request  # deferred: the renderers load on the first run

    rendered = await asyncio.to_thread(render_request, path, text, layer.assist.settings.run_inputs,
                                       layer.server.state.config)
    if rendered.error or not rendered.messages:
        msg = f"promptls: cannot run {Path(path).name}: {rendered.error or 'the prompt renders no messages'}"
        if rendered.missing:
            msg += f" (no value for {', '.join(rendered.missing)}: add defaults/samples or [assist].run_inputs)"
        layer.server.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=msg))
        return {"ok": False, "error": msg}
    return rendered


def _run_request(rendered: Any, path: str) -> LLMRequest:
    params = rendered.params
    max_tokens = params.get("maxOutputTokens") or params.get("max_tokens")
    temperature = params.get("temperature")
    return LLMRequest(purpose="run", messages=rendered.messages, model=rendered.model, source_paths=[path],
                      max_tokens=max_tokens if isinstance(max_tokens, int) else None,
                      temperature=float(temperature) if isinstance(temperature, int | float) else None)


def _run_summary(outcome: Outcome | None) -> tuple[dict[str, Any], str]:
    """A run's figures for the command's answer, and the footer that writes them under the answer."""
    if outcome is None:
        return {}, ""
    u = outcome.usage
    cost = outcome.cost_usd
    summary = {"provider": outcome.provider, "model": outcome.model, "inputTokens": u.input_tokens,
               "outputTokens": u.output_tokens, "costUsd": cost, "latencyMs": round(outcome.latency_ms, 1),
               "cached": outcome.cached}
    cost_s = "unknown" if cost is None else f"${cost:.6f}"
    footer = (f"\n\n---\n{u.input_tokens} input + {u.output_tokens} output tokens · cost {cost_s} · "
              f"{outcome.latency_ms:.0f} ms · {outcome.provider} ({outcome.model})"
              + (" · from cache" if outcome.cached else "") + "\n")
    return summary, footer


class _RunDocument:
    """The Markdown document a run writes to: shown at once and appended to with edits as the answer streams
    (when the client can show documents and apply edits), else written and shown at the end."""

    def __init__(self, layer: AssistLayer, target: Path, header: str) -> None:
        self.layer = layer
        self.target = target
        target.write_text(header, "utf-8")
        self.uri = target.as_uri()
        self.streaming = layer.can("showDocument") and layer.can("applyEdit")
        self.written = [header]
        self.pending: list[str] = []
        self.last_flush = time.monotonic()

    async def open(self) -> None:
        if self.streaming:
            await self._show()

    async def append(self, chunk: str) -> None:
        if not self.streaming:
            self.written.append(chunk)
            return
        self.pending.append(chunk)
        if time.monotonic() - self.last_flush >= 0.1:
            await self.flush()

    async def flush(self) -> None:
        if not self.pending:
            return
        chunk = "".join(self.pending)
        self.pending.clear()
        self.last_flush = time.monotonic()
        so_far = "".join(self.written)
        end = to_position(LineIndex(so_far, self.layer.server.encoding), len(so_far))
        self.written.append(chunk)
        edit = lsp.WorkspaceEdit(changes={self.uri: [lsp.TextEdit(range=lsp.Range(end, end), new_text=chunk)]})
        with contextlib.suppress(Exception):
            await self.layer.server.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=edit))

    async def close(self) -> None:
        if self.streaming:
            await self.flush()
            return
        self.target.write_text("".join(self.written), "utf-8")
        if self.layer.can("showDocument"):
            await self._show()

    async def _show(self) -> None:
        await self.layer.server.window_show_document_async(lsp.ShowDocumentParams(uri=self.uri, take_focus=False))


# -- usage -------------------------------------------------------------------------------------------------------
async def _show_usage(layer: AssistLayer) -> dict[str, Any]:
    layer.sync()
    router = layer.assist.router
    rows: list[dict[str, Any]] = []
    if router is not None:
        await router.flush()
        ledger = router.ledger
        if ledger is not None:
            rows = await asyncio.to_thread(ledger.summary, None)
    from promptls.core.figures import format_cost
    from promptls.router.ledger import usage_series

    total = sum(float(r.get("cost_usd") or 0) for r in rows)
    session = layer.assist.session_cost_usd
    # Money goes out already written by the one formatter (figures.format_cost): clients show it as sent.
    rows = [{**r, "costText": format_cost(float(r.get("cost_usd") or 0))} for r in rows]
    series = {name: [{**item, "costText": format_cost(item["cost_usd"])} for item in items]
              for name, items in usage_series(rows).items()}
    lines = ["# promptls usage", "",
             f"This session: {format_cost(session)} over {layer.assist.calls} call(s).", "",
             f"Ledger total: {format_cost(total)} over {sum(int(r['calls']) for r in rows)} call(s).", ""]
    if rows:
        lines += ["| day | provider | model | calls | cache hits | errors | input | output | cost |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['day']} | {r['provider']} | {r['model']} | {r['calls']} | {r['cache_hits'] or 0} | "
                         f"{r['errors'] or 0} | {r['input_tokens'] or 0} | {r['output_tokens'] or 0} | "
                         f"{r['costText']} |")
    else:
        lines.append("No calls recorded yet.")
    uri = await _show_text(layer, "\n".join(lines) + "\n", "usage")
    return {"ok": True, "sessionCostUsd": session, "sessionCostText": format_cost(session),
            "sessionCalls": layer.assist.calls, "totalCostUsd": total, "totalCostText": format_cost(total),
            "rows": rows, "series": series, "uri": uri}
