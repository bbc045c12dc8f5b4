"""LSP glue of prompt tests (`promptls.eval`): a "Test" code lens on prompts that have cases and on the case files
themselves, the `promptls.eval` command that runs a prompt's cases through the router (with `$/progress`,
cancellable), and what a run leaves behind: failing assertions as EV001 diagnostics on their lines in the case
file, each case's pass rate as an inlay hint, and the last pass rate on the lens. The `promptls/evalCases`
request lists prompts and their cases for the clients' test explorers (VS Code's Testing view). The work itself
lives in `promptls.eval`.

Case files (`NAME.tests.yaml`, promptfoo configs) get their static findings (unsupported keys, unknown assertion
types, ...) as EV002 diagnostics while they are open. Why here and not as a new document kind of the analysis
engine: `analysis/` sits below `eval/` (the import-linter contracts forbid the engine to import the eval
package), and a kind in `kinds.py` would send these YAML files through the engine's prompt path. So case files
stay unanalysed by the engine (`kind_of` is None, the scheduler analyses none) and this module makes their
diagnostics — pushed through the scheduler's publisher, or answered to `textDocument/diagnostic` for pulling
clients — merging the static findings with the last run's failures. Parsing a case file is cheap, but it runs
in the executor all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path

from promptls.core.positions import units_len
from promptls.eval.names import PROMPT_SUFFIXES, PROMPTFOO_NAMES, TESTS_SUFFIXES
from promptls.lsp.protocol import call_handler

log = logging.getLogger("promptls.eval")


def load_path(path: str, text: str | None = None) -> Any:
    """The eval package's case reader, imported on first use: it keeps YAML and the eval package out of start-up."""
    from promptls.eval.cases import load_path as load

    return load(path, text)

CMD_EVAL = "promptls.eval"
REQ_CASES = "promptls/evalCases"
SOURCE = "promptls"
MAX_SCAN_FILES = 20_000
_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build"}


def is_case_file(path: str) -> bool:
    return path.endswith(TESTS_SUFFIXES) or Path(path).name in PROMPTFOO_NAMES


def tests_beside(prompt_path: str) -> str | None:
    """`NAME.tests.yaml` (or `.yml`) beside a prompt file `NAME.prompt` / `.prompty` / a template, if it exists."""
    name = Path(prompt_path).name
    for suffix in sorted(PROMPT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            for ts in TESTS_SUFFIXES:
                cand = Path(prompt_path).with_name(stem + ts)
                if cand.is_file():
                    return str(cand)
            return None
    return None


@dataclass(slots=True)
class CaseRate:
    passed: int = 0
    total: int = 0


@dataclass(slots=True)
class RunMemory:
    """What the last run of a case file left: failures per line and pass counts per case line."""

    failures: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, message)
    rates: dict[int, CaseRate] = field(default_factory=dict)


class EvalLayer:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.static: dict[str, list[Any]] = {}  # case file path -> eval Findings of its current text
        self.static_of: dict[str, str | None] = {}  # case file path -> the text those findings are of
        self.runs: dict[str, RunMemory] = {}  # case file path -> last run
        self.last_rate: dict[str, tuple[int, int]] = {}  # prompt path -> (passed, total) of its last run
        self.promptfoo: dict[str, list[str]] | None = None  # prompt path -> promptfoo configs naming it
        self._scan: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Future[None]] = set()  # static checks in flight (kept referenced)
        self.running: dict[Any, asyncio.Task[Any]] = {}  # request id of a running promptls.eval -> its task
        self.cancelled: set[asyncio.Task[Any]] = set()  # runs the client cancelled

    # -- files ------------------------------------------------------------------------------------------------
    def text_of(self, path: str) -> str | None:
        """The open document's text (unsaved edits included), else None (read from disk)."""
        uri = from_fs_path(path) or path
        td = self.server.workspace.text_documents.get(uri)
        return td.source if td is not None else None

    def case_files_for(self, path: str) -> list[str]:
        if is_case_file(path):
            return [path]
        out = [t] if (t := tests_beside(path)) else []
        out += (self.promptfoo or {}).get(os.path.realpath(path), [])
        return out

    def scan_promptfoo(self) -> None:
        """Index the promptfoo configs below the workspace by the prompts they name (off the loop)."""
        if self._scan is not None and not self._scan.done():
            return
        loop = asyncio.get_running_loop()
        self._scan = loop.create_task(self._scan_now(loop))

    async def _scan_now(self, loop: asyncio.AbstractEventLoop) -> None:
        root = self.server.state.root
        if root is None:
            self.promptfoo = {}
            return
        try:
            self.promptfoo = await loop.run_in_executor(None, _index_promptfoo, str(root))
        except Exception:
            log.exception("scanning promptfoo configs failed")
            self.promptfoo = {}
        self.refresh()

    # -- diagnostics ------------------------------------------------------------------------------------------
    def diagnostics(self, path: str) -> list[lsp.Diagnostic]:
        text = self.text_of(path)
        if text is None:
            try:
                text = Path(path).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
        lines = text.splitlines() or [""]
        out = []
        for f in self.static.get(path, []):
            sev = lsp.DiagnosticSeverity.Error if f.severity == "error" else lsp.DiagnosticSeverity.Warning
            out.append(lsp.Diagnostic(range=self._line_range(lines, f.line), message=f.message, severity=sev,
                                      code="EV002", source=SOURCE, data={"name": "case-file"}))
        mem = self.runs.get(path)
        for line, message in mem.failures if mem else []:
            out.append(lsp.Diagnostic(range=self._line_range(lines, line), message=message,
                                      severity=lsp.DiagnosticSeverity.Error, code="EV001", source=SOURCE,
                                      data={"name": "failing-case"}))
        return out

    def _line_range(self, lines: list[str], line: int) -> lsp.Range:
        i = min(max(line - 1, 0), len(lines) - 1)
        text = lines[i]
        indent = len(text) - len(text.lstrip())
        width = units_len(text, self.server.encoding)
        return lsp.Range(lsp.Position(i, indent), lsp.Position(i, width))

    def publish(self, path: str) -> None:
        """Push the case file's diagnostics through the scheduler's one publisher (a pulling client asks
        `textDocument/diagnostic` instead, refreshed after a run)."""
        if not self.server.pull_diagnostics:  # no file read for nothing
            self.server.scheduler.publish(from_fs_path(path) or path, self.diagnostics(path))

    async def check_static(self, uri: str, rescan: bool = False) -> None:
        path = self.server.path_of(uri)
        text = self.text_of(path)
        loop = asyncio.get_running_loop()
        try:
            suite = await loop.run_in_executor(None, load_path, path, text)
        except Exception as exc:
            log.exception("reading %s failed", path)
            from promptls.eval.model import Finding

            self.static[path] = [Finding(path, 1, "error", f"cannot read the case file: {exc}")]
        else:
            self.static[path] = [f for f in suite.findings if os.path.realpath(f.path) == os.path.realpath(path)]
        self.static_of[path] = text
        if text is not None and self.text_of(path) != text:
            return  # a newer edit follows with its own check
        self.publish(path)
        if rescan and Path(path).name in PROMPTFOO_NAMES:
            self.scan_promptfoo()  # the prompts it names may have changed

    def refresh(self) -> None:
        """Ask the client to re-request lenses, hints and (pull) diagnostics after a run or a scan."""
        ws = self.server.client_capabilities.workspace
        if ws is None:
            return
        for cap, send in ((ws.code_lens, self.server.workspace_code_lens_refresh),
                          (ws.inlay_hint, self.server.workspace_inlay_hint_refresh),
                          (ws.diagnostics if self.server.pull_diagnostics else None,
                           self.server.workspace_diagnostic_refresh)):
            if cap is not None and getattr(cap, "refresh_support", False):
                with contextlib.suppress(Exception):
                    send(None)

    # -- lenses and hints -------------------------------------------------------------------------------------
    def lens(self, uri: str) -> list[lsp.CodeLens]:
        path = self.server.path_of(uri)
        if self.promptfoo is None:
            self.scan_promptfoo()
        files = self.case_files_for(path)
        if not files:
            return []
        key = path if not is_case_file(path) else f"file:{path}"
        title = "▶ Test"
        if key in self.last_rate:
            passed, total = self.last_rate[key]
            title += f" · last run {passed}/{total} passed ({_pct(passed, total)})"
        zero = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
        return [lsp.CodeLens(range=zero, command=lsp.Command(title=title, command=CMD_EVAL, arguments=[uri]))]

    def hints(self, uri: str, rng: lsp.Range) -> list[lsp.InlayHint]:
        path = self.server.path_of(uri)
        mem = self.runs.get(path)
        if mem is None:
            return []
        text = self.text_of(path) or ""
        lines = text.splitlines() or [""]
        out = []
        for line, rate in sorted(mem.rates.items()):
            i = line - 1
            if not (rng.start.line <= i <= rng.end.line) or i >= len(lines):
                continue
            end = self._line_range(lines, line).end
            mark = "✓" if rate.passed == rate.total else "✗"
            label = f"{mark} {rate.passed}/{rate.total} passed ({_pct(rate.passed, rate.total)})"
            out.append(lsp.InlayHint(position=end, label=label, kind=lsp.InlayHintKind.Type, padding_left=True))
        return out

    # -- running ----------------------------------------------------------------------------------------------
    async def run(self, uri: str) -> dict[str, Any]:
        path = self.server.path_of(uri)
        if self.promptfoo is None and not is_case_file(path):
            self.scan_promptfoo()
            if self._scan is not None:
                await self._scan
        files = self.case_files_for(path)
        if not files:
            return {"ok": False, "error": f"promptls: no cases for {Path(path).name} (write "
                                          f"{Path(path).stem}.tests.yaml beside it)", "results": []}
        loop = asyncio.get_running_loop()
        texts = {f: self.text_of(f) for f in files}
        prepared = await loop.run_in_executor(None, _prepare, files, texts, path, self.server.state.config)
        ev, errors = prepared
        for f in files:
            self.static[f] = [x for x in errors if os.path.realpath(x.path) == os.path.realpath(f)]
        if ev is None or any(x.severity == "error" for x in errors):
            for f in files:
                self.publish(f)
            msg = "; ".join(str(x) for x in errors if x.severity == "error") or "no cases to run"
            self.server.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error,
                                                                  message=f"promptls eval: {msg}"))
            return {"ok": False, "error": msg, "results": []}
        report = await self._run_with_progress(ev, Path(path).name)
        return self._remember(path, files, report)

    async def _run_with_progress(self, ev: Any, name: str) -> Any:
        from promptls.router.core import Router

        async with _Progress(self.server, f"promptls: testing {name}", self.cancelled) as progress:
            router = Router(ev.settings, catalog=ev.catalog)
            try:
                return await ev.run(router, progress.report)
            finally:
                await router.aclose()

    def _remember(self, path: str, files: list[str], report: Any) -> dict[str, Any]:
        mems = {f: RunMemory() for f in files}
        results = []
        for r in report.results:
            case_file = os.path.realpath(r.case.path or r.suite)
            owner = next((f for f in files if os.path.realpath(f) == case_file), None)
            failures = r.failures
            if owner is not None:
                mem = mems[owner]
                rate = mem.rates.setdefault(r.case.line, CaseRate())
                rate.total += 1
                rate.passed += r.passed
                for fl in failures:
                    line = fl["line"] if os.path.realpath(fl["file"] or owner) == case_file else r.case.line
                    mem.failures.append((line or r.case.line,
                                         f"{r.case.description} [{r.model or r.provider}]: {fl['type']}: "
                                         f"{fl['message']}"))
            results.append({
                "file": r.case.path or r.suite, "uri": from_fs_path(r.case.path or r.suite), "line": r.case.line,
                "id": case_id(r.case.path or r.suite, r.case.line), "case": r.case.description, "prompt": r.prompt,
                "provider": r.provider, "model": r.model, "pass": r.passed, "score": round(r.score, 4),
                "cached": r.cached, "latency_ms": r.latency_ms, "cost_usd": r.cost_usd, "output": r.output[:2000],
                "failures": failures,
            })
        self.runs.update(mems)
        passed, total = sum(r.passed for r in report.results), len(report.results)
        key = path if not is_case_file(path) else f"file:{path}"
        self.last_rate[key] = (passed, total)
        for f in files:
            self.last_rate[f"file:{f}"] = (sum(x.passed for x in mems[f].rates.values()),
                                           sum(x.total for x in mems[f].rates.values()))
            self.publish(f)
        self.refresh()
        from promptls.eval.report import to_json

        return {"ok": report.ok, "passed": passed, "total": total, "passRate": passed / total if total else 0.0,
                "results": results, "summary": to_json(report)["summary"]}

    # -- the cases, for test explorers ------------------------------------------------------------------------
    async def cases(self, uri: str | None) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        root = self.server.state.root
        if uri:
            files = self.case_files_for(self.server.path_of(uri))
        elif root is not None:
            files = await loop.run_in_executor(None, _case_files_under, str(root))
        else:
            files = []
        texts = {f: self.text_of(f) for f in files}
        return await loop.run_in_executor(None, _list_cases, files, texts)


def case_id(path: str, line: int) -> str:
    """A case's stable id, the same in `promptls/evalCases` and in a run's results: `/real/path:line`."""
    return f"{os.path.realpath(path)}:{line}"


def _pct(passed: int, total: int) -> str:
    return f"{round(100 * passed / total)}%" if total else "–"


def _walk(root: str) -> list[str]:
    out = []
    seen = 0
    for base, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for f in sorted(files):
            seen += 1
            if seen > MAX_SCAN_FILES:
                return out
            if f.endswith(TESTS_SUFFIXES) or f in PROMPTFOO_NAMES:
                out.append(os.path.join(base, f))
    return out


def _case_files_under(root: str) -> list[str]:
    return _walk(root)


def _index_promptfoo(root: str) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for f in _walk(root):
        if Path(f).name not in PROMPTFOO_NAMES:
            continue
        try:
            suite = load_path(f)
        except Exception:
            log.debug("cannot read %s", f, exc_info=True)
            continue
        for p in suite.prompts:
            index.setdefault(os.path.realpath(p.path), []).append(f)
    return index


def _list_cases(files: list[str], texts: dict[str, str | None]) -> list[dict[str, Any]]:
    """Prompts with their cases: [{prompt, promptUri, file, uri, cases: [{id, label, line}]}]."""
    out = []
    for f in files:
        try:
            suite = load_path(f, texts.get(f))
        except Exception:
            log.debug("cannot read %s", f, exc_info=True)
            continue
        cases = [{"id": case_id(c.path or f, c.line), "label": c.description, "line": c.line} for c in suite.cases]
        for p in suite.prompts or []:
            out.append({"prompt": p.label, "promptPath": p.path, "promptUri": from_fs_path(os.path.abspath(p.path)),
                        "file": f, "uri": from_fs_path(os.path.abspath(f)), "cases": cases})
    return out


def _prepare(files: list[str], texts: dict[str, str | None], prompt_path: str, config: Any) -> tuple[Any, list[Any]]:
    """Suites read, targets resolved, requests rendered (the slow, synchronous part of a run)."""
    from promptls.eval.runner import Evaluation
    from promptls.eval.settings import SECTION as EVAL
    from promptls.router.settings import SECTION as ROUTER

    suites = [load_path(f, texts.get(f)) for f in files]
    if not is_case_file(prompt_path):  # a promptfoo config may name several prompts: run this one's cases
        real = os.path.realpath(prompt_path)
        for s in suites:
            s.prompts = [p for p in s.prompts if os.path.realpath(p.path) == real] or s.prompts
    router_settings = config.section(ROUTER)
    # a copy: the section is parsed once per configuration and shared
    eval_settings = replace(config.section(EVAL), calls_per_month=config.calls_per_month)
    findings = [f for s in suites for f in s.findings]
    if any(f.severity == "error" for f in findings):
        return None, findings
    ev = Evaluation(suites, router_settings, eval_settings, config)
    findings += ev.findings
    return (ev if ev.jobs else None), findings


class _Progress:
    """`$/progress` around a run (when the client allows it); the client's cancel cancels the run."""

    def __init__(self, server: Any, title: str, cancelled: set[asyncio.Task[Any]]) -> None:
        self.server = server
        self.title = title
        self.token: str | None = None
        self.cancelled = cancelled

    async def __aenter__(self) -> _Progress:
        caps = self.server.client_capabilities
        if caps.window and caps.window.work_done_progress:
            token = f"promptls-eval-{uuid.uuid4().hex[:8]}"
            wdp = self.server.work_done_progress
            try:
                await asyncio.wait_for(wdp.create_async(token), 5)
                wdp.begin(token, lsp.WorkDoneProgressBegin(title=self.title, cancellable=True, percentage=0))
                self.token = token
                task = asyncio.current_task()
                loop = asyncio.get_running_loop()
                fut = wdp.tokens.get(token)
                if fut is not None and task is not None:
                    fut.add_done_callback(lambda f: f.cancelled() and loop.call_soon_threadsafe(_cancel, task,
                                                                                            self.cancelled))
            except Exception as exc:
                log.debug("no progress: %s", exc)
        return self

    def report(self, done: int, total: int) -> None:
        if self.token is not None:
            self.server.work_done_progress.report(self.token, lsp.WorkDoneProgressReport(
                message=f"{done}/{total} cases", percentage=int(100 * done / max(total, 1))))

    async def __aexit__(self, *exc: object) -> None:
        if self.token is not None:
            wdp = self.server.work_done_progress
            wdp.end(self.token, lsp.WorkDoneProgressEnd(message="done" if exc[0] is None else "stopped"))
            fut = wdp.tokens.pop(self.token, None)
            if fut is not None and not fut.done():
                fut.cancel = lambda *a, **k: False  # type: ignore[method-assign]  # late cancels are ignored


def _cancel(task: asyncio.Task[Any], cancelled: set[asyncio.Task[Any]]) -> None:
    cancelled.add(task)
    task.cancel()


def register(server: Any) -> None:
    layer = EvalLayer(server)
    server.eval_layer = layer
    _register_case_files(server, layer)
    _register_runs(server, layer)


def _register_case_files(server: Any, layer: EvalLayer) -> None:
    """The Test lens; a case file's static check on open, edit and save; its hints and pulled diagnostics."""

    async def code_lens_hook(ls: Any, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        return layer.lens(params.text_document.uri)

    server.code_lens_hooks.append(code_lens_hook)

    def on_change(ls: Any, params: lsp.DidChangeTextDocumentParams) -> None:
        path = ls.path_of(params.text_document.uri)
        if is_case_file(path):
            # The last run's lines no longer match the text: its failures and rates go until the next run.
            layer.runs.pop(path, None)
            task = asyncio.ensure_future(layer.check_static(params.text_document.uri))
            layer.tasks.add(task)
            task.add_done_callback(layer.tasks.discard)

    server.change_hooks.append(on_change)

    # Open and save of case files: the server's own handlers stay (they skip files the engine does not analyse).
    def on_open_or_save(handler: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapped(params: Any) -> Any:
            result = await call_handler(handler, params)
            if is_case_file(server.path_of(params.text_document.uri)):
                await layer.check_static(params.text_document.uri, rescan=True)
            return result
        return wrapped

    protocol = server.protocol
    protocol.wrap_handler(lsp.TEXT_DOCUMENT_DID_OPEN, on_open_or_save)
    protocol.wrap_handler(lsp.TEXT_DOCUMENT_DID_SAVE, on_open_or_save)

    def on_hints(handler: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapped(params: lsp.InlayHintParams) -> Any:
            if is_case_file(server.path_of(params.text_document.uri)):
                return layer.hints(params.text_document.uri, params.range)
            return await call_handler(handler, params)
        return wrapped

    def on_pull(handler: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapped(params: lsp.DocumentDiagnosticParams) -> Any:
            path = server.path_of(params.text_document.uri)
            if is_case_file(path):
                if path not in layer.static_of or layer.static_of[path] != layer.text_of(path):
                    await layer.check_static(params.text_document.uri)  # asked before the open's check ended
                return lsp.RelatedFullDocumentDiagnosticReport(items=layer.diagnostics(path))
            return await call_handler(handler, params)
        return wrapped

    protocol.wrap_handler(lsp.TEXT_DOCUMENT_INLAY_HINT, on_hints)
    protocol.wrap_handler(lsp.TEXT_DOCUMENT_DIAGNOSTIC, on_pull)


def _register_runs(server: Any, layer: EvalLayer) -> None:
    """`promptls.eval` (cancellable) and `promptls/evalCases`."""
    protocol = server.protocol

    # Cancelling a run: from its progress (window/workDoneProgress/cancel) or with $/cancelRequest. pygls answers
    # $/cancelRequest only for requests that have not started and lets a running command go on (spending on
    # model calls), and a handler task that ends cancelled is never answered; so the run's task is cancelled
    # here and the handler answers `cancelled` itself.
    def on_cancel_request(msg_id: Any) -> None:
        task = layer.running.get(msg_id)
        if task is not None and not task.done():
            _cancel(task, layer.cancelled)

    protocol.on_cancel.append(on_cancel_request)

    @server.command(CMD_EVAL)
    async def run_eval(ls: Any, *args: Any) -> dict[str, Any]:
        arg = args[0] if args else None
        uri = arg.get("uri") if isinstance(arg, dict) else arg
        if not isinstance(uri, str):
            return {"ok": False, "error": "promptls.eval needs a document URI", "results": []}
        task = asyncio.current_task()
        msg_id = protocol.msg_id  # the executeCommand request's id: pygls sets it in the context of its handlers
        if task is not None and msg_id is not None:
            layer.running[msg_id] = task
        try:
            return await layer.run(uri)
        except asyncio.CancelledError:
            if task not in layer.cancelled:
                raise  # the server is going away
            if task is not None:
                task.uncancel()
            return {"ok": False, "cancelled": True, "error": "cancelled", "results": []}
        except Exception as exc:
            log.exception("evaluation failed")
            msg = f"promptls eval: {exc}"
            ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Error, message=msg))
            return {"ok": False, "error": msg, "results": []}
        finally:
            layer.running.pop(msg_id, None)
            layer.cancelled.discard(task)  # type: ignore[arg-type]

    @server.feature(REQ_CASES)
    async def eval_cases(ls: Any, params: Any) -> list[dict[str, Any]]:
        uri = getattr(params, "uri", None) if not isinstance(params, dict) else params.get("uri")
        return await layer.cases(uri)
