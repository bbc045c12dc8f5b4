"""The language server: pygls handlers that hand documents to the analysis engine and convert the results.

Analysis runs in a worker thread; a newer edit supersedes an older one (the latest version wins, results of a
stale version are dropped), so typing never queues work. Diagnostics are pushed unless the client pulls them.

After `initialized` one background job indexes the workspace (Dotprompt partials, then the source modules of
`workspace/`), with `$/progress`; file watchers are registered when the client allows it. A file event, a save or
a close brings that module's index entry up to date (an open buffer wins over disk) and re-analyses only the
open modules whose imported symbols changed; pull clients are then asked to refresh.
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
from pygls.uris import from_fs_path, to_fs_path

from promptls import __version__
from promptls import sections as _sections  # noqa: F401 (every owner declares its config section)
from promptls.analysis.describe import status
from promptls.lsp import log_filters
from promptls.lsp.convert import to_diagnostic
from promptls.lsp.features import dispatch
from promptls.lsp.features import eval as eval_features
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
        self.index_task: asyncio.Task[None] | None = None  # the background index build after `initialized`
        self._refresh_after: set[str] = set()  # open dependents whose re-analysis a pull client must re-pull
        self._refresh_timer: asyncio.TimerHandle | None = None

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
        from promptls.documents.kinds import kind_of

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
        if not a.partial:
            self.send_status(a)
        if self.pull_diagnostics and self._can_refresh():
            index = self.state.workspace_index
            if index is not None:  # an edit changed a module's symbols: its dependents follow (features/code.py)
                self._refresh_after.update(u for u in map(from_fs_path, index.pending())
                                           if u and u in self.workspace.text_documents)
            if a.uri in self._refresh_after:
                self._refresh_after.discard(a.uri)
                if self._refresh_timer is not None:
                    self._refresh_timer.cancel()
                    self._refresh_timer = None
                if not self._refresh_after:
                    self._refresh_diagnostics()
                else:  # one refresh for all of them, even if one of them never publishes (closed, superseded)
                    self._refresh_timer = asyncio.get_running_loop().call_later(0.2, self._refresh_diagnostics)

    # -- the workspace index: file events, saves and closes ----------------------------------------------
    async def sync_modules(self, paths: list[str]) -> None:
        """Bring the index entries of `paths` up to date (open buffers win over disk), off the loop, and
        re-analyse the open modules whose imported symbols changed."""
        from promptls.workspace.index import PY_SUFFIXES, TS_SUFFIXES

        index = self.state.workspace_index
        paths = [p for p in paths if p.endswith(PY_SUFFIXES + TS_SUFFIXES)]  # a prompt or dataset is no module
        if index is None or not paths:
            return
        texts: dict[str, str | None] = {}
        for path in paths:
            td = self.workspace.text_documents.get(from_fs_path(path) or "")
            texts[path] = td.source if td is not None else None

        def work() -> set[str]:
            for path, text in texts.items():
                index.sync(path, text)
            return index.take_pending()

        try:
            dependents = await asyncio.get_running_loop().run_in_executor(None, work)
        except Exception:
            log.exception("workspace index update failed for %s", paths)
            return
        self.reanalyze_dependents(dependents)

    def reanalyze_dependents(self, paths: set[str]) -> None:
        uris = [u for u in map(from_fs_path, paths) if u and u in self.workspace.text_documents]
        if self.pull_diagnostics and self._can_refresh():
            self._refresh_after.update(uris)
        for uri in uris:
            self.schedule(uri)

    def _can_refresh(self) -> bool:
        ws = self.client_capabilities.workspace
        return bool(ws is not None and ws.diagnostics is not None and ws.diagnostics.refresh_support)

    def _refresh_diagnostics(self) -> None:
        self._refresh_after.clear()
        self._refresh_timer = None
        try:
            self.workspace_diagnostic_refresh(None)
        except Exception:
            log.debug("client refused diagnostic refresh", exc_info=True)

    def send_status(self, a: Analysis | None) -> None:
        self.protocol.notify("promptls/status", status(a.uri if a else None, a.report if a else None,
                                                       self.status_extra))

    def reanalyze_all(self) -> None:
        self.scheduler.invalidate()
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)
        if self.pull_diagnostics and self._can_refresh():
            self._refresh_diagnostics()

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
    """The server with every handler registered: lifecycle, settings and documents here, the editor features
    (`features/dispatch.py`), the assist and eval layers, each wrapped to wait for its document's analysis."""
    # Analyses allocate many short-lived nodes; a larger first generation means fewer collections per keystroke.
    gc.set_threshold(20_000, 20, 20)
    log_filters.install()
    server = PromptServer()
    server.feature(lsp.INITIALIZE)(on_initialize)
    server.feature(lsp.INITIALIZED)(on_initialized)
    server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)(on_config)
    server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)(on_watched)
    server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)(did_save)
    server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(lsp.TEXT_DOCUMENT_DIAGNOSTIC, lsp.DiagnosticOptions(
        identifier="promptls", inter_file_dependencies=True, workspace_diagnostics=False))(pull)
    dispatch.register(server)
    try:
        from promptls.lsp.features.assist import register as register_assist
    except ImportError:
        register_assist = None
    if register_assist is not None:
        register_assist(server)
    eval_features.register(server)  # prompt tests: the Test lens, promptls.eval, promptls/evalCases
    server.scheduler.wrap_handlers()  # handlers wait for the current analysis; none analyses on the loop
    return server


# -- the handlers of the lifecycle, the settings and the documents ------------------------------------------
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
        ls.index_task = asyncio.ensure_future(_index_workspace(ls))
    else:
        ls.reanalyze_all()
    await _register_watchers(ls)  # the index builds meanwhile: a slow answer delays nothing


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


async def on_watched(ls: PromptServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    paths = [ls.path_of(c.uri) for c in params.changes]
    if any(p.endswith(CONFIG_FILES) for p in paths):  # settings apply to every document
        ls.report_config_errors(ls.state.rebuild_config())
        ls.reanalyze_all()
        return
    if any(p.endswith(TSCONFIG_FILES) for p in paths):  # import paths of every TS module may have moved
        ls.state.workspace_index = None  # rebuilt on the next source-file analysis
        ls.reanalyze_all()
        return
    await ls.sync_modules(paths)


def did_open(ls: PromptServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.state.open_texts[ls.path_of(params.text_document.uri)] = params.text_document.text
    ls.schedule(params.text_document.uri)


def did_change(ls: PromptServer, params: lsp.DidChangeTextDocumentParams) -> None:
    for hook in ls.change_hooks:
        try:
            hook(ls, params)
        except Exception:
            log.exception("change hook failed")
    ls.schedule(params.text_document.uri)


async def did_save(ls: PromptServer, params: lsp.DidSaveTextDocumentParams) -> None:
    from promptls.lsp.features.tokens import on_save  # online counts on save only, never per keystroke

    await on_save(ls, params.text_document.uri)
    await ls.sync_modules([ls.path_of(params.text_document.uri)])


async def did_close(ls: PromptServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.scheduler.forget(uri)  # its diagnostics cleared too
    ls._refresh_after.discard(uri)
    ls.state.open_texts.pop(ls.path_of(uri), None)
    await ls.sync_modules([ls.path_of(uri)])  # unsaved edits are gone: the file on disk counts again


async def pull(ls: PromptServer, params: lsp.DocumentDiagnosticParams) -> lsp.DocumentDiagnosticReport:
    uri = params.text_document.uri
    a = await ls.scheduler.current(uri)
    if a is None:
        return lsp.RelatedFullDocumentDiagnosticReport(items=[])
    # the findings are in the id: a dependency's edit changes them at the same version and text
    found = hash(tuple((f.code, f.message, f.span.start, f.span.end) for f in a.report.findings))
    result_id = f"{a.version}-{hash(a.text) & 0xFFFFFFFF:x}-{id(ls.state.config):x}-{found & 0xFFFFFFFF:x}"
    if params.previous_result_id == result_id:
        return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    return lsp.RelatedFullDocumentDiagnosticReport(
        items=[to_diagnostic(a.index, f) for f in a.report.findings], result_id=result_id)


CONFIG_FILES = ("promptls.toml", "pyproject.toml")
TSCONFIG_FILES = ("tsconfig.json", "jsconfig.json")
WATCHED_GLOBS = ("**/*.py", "**/*.pyi", "**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}", "**/tsconfig.json",
                 "**/jsconfig.json", "**/promptls.toml", "**/pyproject.toml")


async def _register_watchers(ls: PromptServer) -> None:
    """Ask the client to watch source and config files (dynamic registration only: a static one does not exist)."""
    ws = ls.client_capabilities.workspace
    dyn = ws.did_change_watched_files if ws is not None else None
    if dyn is None or not dyn.dynamic_registration:
        return
    options = lsp.DidChangeWatchedFilesRegistrationOptions(
        watchers=[lsp.FileSystemWatcher(glob_pattern=g) for g in WATCHED_GLOBS])
    params = lsp.RegistrationParams(registrations=[lsp.Registration(
        id=f"promptls-watch-{uuid.uuid4().hex[:8]}", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options)])
    try:
        await asyncio.wait_for(ls.client_register_capability_async(params), 10)
    except Exception:
        log.debug("client refused file watchers", exc_info=True)


async def _index_workspace(ls: PromptServer) -> None:
    """The one background job after `initialized`: Dotprompt partials (a bounded walk), then the source-module
    index of `workspace/`, both off the event loop, with `$/progress` begin/report/end when the client allows it.
    The two listings stay apart: modules come from `git ls-files` (so .gitignore holds), partials from a walk."""
    from promptls.lsp.scheduler import INDEX_LOCK  # shared with the lazy build a first analysis may start

    root = ls.state.root
    token = None
    wnd = ls.client_capabilities.window
    if wnd is not None and wnd.work_done_progress:
        token = f"promptls-index-{uuid.uuid4().hex[:8]}"
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(
                title="promptls: indexing the workspace", cancellable=False, percentage=0))
        except Exception:
            token = None
    loop = asyncio.get_running_loop()
    last = [0]

    def report(message: str, percentage: int | None = None) -> None:
        if token is not None:
            loop.call_soon_threadsafe(ls.work_done_progress.report, token,
                                      lsp.WorkDoneProgressReport(message=message, percentage=percentage))

    def partial_progress(seen: int, where: str) -> None:
        if seen - last[0] >= 500:
            last[0] = seen
            report(f"{seen} files")

    def build() -> int:
        state = ls.state
        if root is None or not state.config.code_languages:
            return 0
        from promptls.workspace import WorkspaceIndex

        with INDEX_LOCK:
            if state.workspace_index is None:
                try:
                    state.workspace_index = WorkspaceIndex.build(
                        [root], lambda done, total: report(f"{done}/{total} modules", 10 + 90 * done // total))
                except Exception:  # an empty index: each file is analysed on its own
                    log.exception("workspace index not built for %s", root)
                    state.workspace_index = WorkspaceIndex([root])
            return len(state.workspace_index.by_path)

    try:
        ls.state.partial_index = await loop.run_in_executor(None, scan_partials, root, 20_000, partial_progress)
    except Exception:
        log.exception("workspace scan failed")
    ls.reanalyze_all()  # prompts opened meanwhile see the workspace's partials; source files wait for the index
    report(f"{len(ls.state.partial_index)} partials", 10)
    modules = 0
    try:
        modules = await loop.run_in_executor(None, build)
    except Exception:
        log.exception("workspace index failed")
    if token is not None:
        ls.work_done_progress.end(token, lsp.WorkDoneProgressEnd(
            message=f"{modules} modules, {len(ls.state.partial_index)} partials"))
