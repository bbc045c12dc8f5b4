"""The language server: pygls handlers that hand documents to the analysis engine and convert the results.

Analysis runs in a worker thread; a newer edit supersedes an older one (the latest version wins, results of a
stale version are dropped), so typing never queues work. Diagnostics are pushed unless the client pulls them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from promptls import __version__
from promptls.lsp import eval_features, features, log_filters
from promptls.lsp.convert import to_diagnostic
from promptls.lsp.protocol import RobustProtocol
from promptls.lsp.scheduler import Scheduler
from promptls.lsp.state import Analysis, ServerState, scan_partials
from promptls.lsp.text import with_text_model

log = logging.getLogger(__name__)


class PromptServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("promptls", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
                         protocol_cls=with_text_model(RobustProtocol))  # our TextDocument, not pygls'
        self.state = ServerState()
        self.pull_diagnostics = False
        self.scheduler = Scheduler(self)  # the one analyse-and-publish path (lsp/scheduler.py)
        self.scheduler.on_published.append(self._on_published)
        # Extension points for the LLM assistance layer (assist/): each hook is called with (server, params)
        # and returns a list of extra items; `status_extra` is merged into `promptls/status`.
        self.completion_hooks: list = []
        self.code_action_hooks: list = []
        self.code_lens_hooks: list = []
        self.change_hooks: list = []  # plain callables (server, DidChangeTextDocumentParams), must be cheap
        self.status_extra: dict[str, Any] = {"state": "idle", "provider": None, "sessionCostUsd": 0.0}

    @property
    def encoding(self) -> str:
        """The position encoding negotiated with the client (pygls picks it at initialize)."""
        enc = getattr(self.workspace, "position_encoding", None) or "utf-16"
        return str(getattr(enc, "value", enc))

    # -- transport: promptls' tolerant, bounded frame reader (lsp/transport.py) instead of pygls' loop ---------
    def start_io(self, stdin=None, stdout=None, max_message_bytes: int | None = None) -> int:  # type: ignore[override]
        """Serve over stdio until `exit` or end of input; returns the process exit code."""
        from promptls.lsp.transport import serve_stdio

        return serve_stdio(self, stdin, stdout, max_message_bytes)

    def start_tcp(self, host: str, port: int, max_message_bytes: int | None = None) -> int:  # type: ignore[override]
        """Serve the first client to connect on host:port; returns the process exit code."""
        from promptls.lsp.transport import serve_tcp

        return serve_tcp(self, host, port, max_message_bytes)

    # -- analysis scheduling ----------------------------------------------------------------------------
    def path_of(self, uri: str) -> str:
        return to_fs_path(uri) or uri

    def kind_of(self, uri: str) -> str | None:
        """What the document is to promptls ("prompt", "code", "dataset") or None when it is not analysed."""
        from promptls.kinds import kind_of

        path = self.path_of(uri)
        head = None
        if path.endswith(".jsonl"):
            td = self.workspace.text_documents.get(uri)
            head = td.source[:65536] if td is not None else None
        return kind_of(path, self.state.config, head)

    def is_analysed(self, uri: str) -> bool:
        return self.kind_of(uri) is not None

    def analyze_now(self, uri: str) -> Analysis | None:
        """The analysis handlers read: the current version's (the scheduler has them wait for it), else the
        latest there is. Never analyses here, on the event loop."""
        if uri not in self.workspace.text_documents:
            return None
        return self.scheduler.fresh(uri) or self.scheduler.latest(uri)

    def schedule(self, uri: str) -> None:
        self.scheduler.request(uri)

    def _on_published(self, a: Analysis) -> None:
        if not a.partial:
            _freeze_once()
        if not self.pull_diagnostics:
            self.publish(a)
        if not a.partial:
            self.send_status(a)

    def publish(self, a: Analysis) -> None:
        diags = [to_diagnostic(a.index, f) for f in a.report.findings]
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=a.uri, diagnostics=diags, version=a.version))

    def send_status(self, a: Analysis | None) -> None:
        self.protocol.notify("promptls/status", features.status(a, self.status_extra))

    def reanalyze_all(self) -> None:
        self.state.analyses.clear()
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)
        ws = self.client_capabilities.workspace
        refresh = ws is not None and ws.diagnostics is not None and ws.diagnostics.refresh_support
        if self.pull_diagnostics and refresh:
            try:
                self.workspace_diagnostic_refresh(None)
            except Exception:
                log.debug("client refused diagnostic refresh", exc_info=True)

    def report_config_errors(self, errors: list[str]) -> None:
        if not errors:
            return
        msg = "promptls: invalid settings (defaults kept): " + "; ".join(errors[:5])
        if len(errors) > 5:
            msg += f"; and {len(errors) - 5} more"
        log.warning(msg)
        self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=msg))


_frozen = False


def _freeze_once() -> None:
    """After the first analysis the long-lived data (encodings, catalog, modules) exists; moving it out of the
    collector's generations keeps each keystroke's garbage collections from rescanning it."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def _settings_from(value: Any) -> dict[str, Any]:
    """The `promptls` table of a settings payload. Clients send `{"promptls": {...}}`, the bare table, or an
    empty list where a Lua client encodes an empty table: anything that is not a table counts as empty."""
    if isinstance(value, dict):
        if "promptls" in value:
            inner = value["promptls"]
            return inner if isinstance(inner, dict) else {}
        return value
    return {}


def create_server() -> PromptServer:
    # Analyses allocate many short-lived nodes; a larger first generation means fewer collections per keystroke.
    gc.set_threshold(20_000, 20, 20)
    log_filters.install()
    server = PromptServer()

    @server.feature(lsp.INITIALIZE)
    def on_initialize(ls: PromptServer, params: lsp.InitializeParams) -> None:
        root = None
        if params.workspace_folders:
            root = to_fs_path(params.workspace_folders[0].uri)
        elif params.root_uri:
            root = to_fs_path(params.root_uri)
        elif params.root_path:
            root = params.root_path
        ls.state.root = Path(root) if root else None
        ls.state.init_settings = _settings_from(params.initialization_options)
        td = params.capabilities.text_document
        ls.pull_diagnostics = bool(td is not None and td.diagnostic is not None)
        errors = ls.state.rebuild_config()
        ls._pending_errors = errors  # shown once the client is ready (after `initialized`)

    @server.feature(lsp.INITIALIZED)
    async def on_initialized(ls: PromptServer, params: lsp.InitializedParams) -> None:
        caps = ls.client_capabilities
        ws = caps.workspace
        if ws is not None and ws.configuration:
            try:
                res = await ls.workspace_configuration_async(
                    lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="promptls")]))
                if res and isinstance(res[0], dict):
                    ls.state.client_settings = res[0]
                    ls._pending_errors = ls.state.rebuild_config()
            except Exception:
                log.debug("workspace/configuration failed", exc_info=True)
        ls.report_config_errors(getattr(ls, "_pending_errors", []))
        if ls.state.root is not None:
            await _scan_workspace(ls)
        ls.reanalyze_all()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_config(ls: PromptServer, params: lsp.DidChangeConfigurationParams) -> None:
        settings = _settings_from(params.settings)
        if not settings and ls.client_capabilities.workspace and ls.client_capabilities.workspace.configuration:
            try:
                res = await ls.workspace_configuration_async(
                    lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="promptls")]))
                settings = res[0] if res and isinstance(res[0], dict) else {}
            except Exception:
                settings = {}
        ls.state.client_settings = settings
        ls.report_config_errors(ls.state.rebuild_config())
        ls.reanalyze_all()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched(ls: PromptServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        if any(c.uri.endswith(("promptls.toml", "pyproject.toml")) for c in params.changes):
            ls.report_config_errors(ls.state.rebuild_config())
        ls.reanalyze_all()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PromptServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.state.open_texts[ls.path_of(params.text_document.uri)] = params.text_document.text
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PromptServer, params: lsp.DidChangeTextDocumentParams) -> None:
        for hook in ls.change_hooks:
            try:
                hook(ls, params)
            except Exception:
                log.exception("change hook failed")
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: PromptServer, params: lsp.DidSaveTextDocumentParams) -> None:
        from promptls.lsp.online_tokens import on_save  # online counts on save only, never per keystroke

        await on_save(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PromptServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.scheduler.forget(uri)
        ls.state.open_texts.pop(ls.path_of(uri), None)
        if not ls.pull_diagnostics:
            ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC,
                    lsp.DiagnosticOptions(identifier="promptls", inter_file_dependencies=True,
                                          workspace_diagnostics=False))
    async def pull(ls: PromptServer, params: lsp.DocumentDiagnosticParams) -> lsp.DocumentDiagnosticReport:
        uri = params.text_document.uri
        a = await ls.scheduler.current(uri)
        if a is None:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        result_id = f"{a.version}-{hash(a.text) & 0xFFFFFFFF:x}-{id(ls.state.config):x}"
        if params.previous_result_id == result_id:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return lsp.RelatedFullDocumentDiagnosticReport(
            items=[to_diagnostic(a.index, f) for f in a.report.findings], result_id=result_id)

    features.register(server)
    try:
        from promptls.lsp.assist_features import register as register_assist
    except ImportError:
        register_assist = None
    if register_assist is not None:
        register_assist(server)
    eval_features.register(server)  # prompt tests: the Test lens, promptls.eval, promptls/evalCases
    server.scheduler.wrap_handlers()  # handlers wait for the current analysis; none analyses on the loop
    return server


async def _scan_workspace(ls: PromptServer) -> None:
    """Index `_name.prompt` partials below the workspace, reporting `$/progress` when the client allows it."""
    root = ls.state.root
    token = None
    wnd = ls.client_capabilities.window
    if wnd is not None and wnd.work_done_progress:
        token = f"promptls-scan-{uuid.uuid4().hex[:8]}"
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(
                title="promptls: indexing partials", cancellable=False, percentage=0))
        except Exception:
            token = None
    loop = asyncio.get_running_loop()
    last = [0]

    def progress(seen: int, where: str) -> None:
        if token is not None and seen - last[0] >= 500:
            last[0] = seen
            loop.call_soon_threadsafe(ls.work_done_progress.report, token,
                                      lsp.WorkDoneProgressReport(message=f"{seen} files"))

    try:
        ls.state.partial_index = await loop.run_in_executor(None, scan_partials, root, 20_000, progress)
    except Exception:
        log.exception("workspace scan failed")
    if token is not None:
        ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd(
            message=f"{len(ls.state.partial_index)} partials"))
