"""The one analyse-and-publish path of the language server.

Every analysis of an open document goes through `Scheduler`, and only through it:

- an edit, a save, a settings change or a dependency asks for the document's *latest* version to be analysed;
  while one analysis of a document runs, further requests only mark it dirty, so typing never queues work;
- analyses run in a worker pool of their own, never on the event loop, so a 200 MB dataset cannot stall a hover
  on another file, and never two at once for one document;
- the result of a version that is no longer current is dropped, never published nor served;
- a request handler that needs the analysis (hover, hints, lenses, actions, pull diagnostics) awaits the one
  for the document's current version instead of computing it itself: each version is analysed once;
- a large dataset gets a first pass over the lines the user sees, published at once; the full pass follows;
- a settings change makes every analysis stale at once (`invalidate`: a new generation); handlers then wait for
  the new one, while lenses and hints may still read the stale one;
- it is the one place diagnostics are pushed (`publish`): the analyses', the eval layer's for case files, and the
  empty list that clears a closed document's. A client that pulls diagnostics gets none pushed.

Why its own pool: analyses used the loop's default executor, which other work (workspace scans, assist
rendering) shares, and handlers analysed synchronously on the loop when they found no fresh result — so two
analyses of one document could run at once, in two threads, over shared state, and a big document blocked every
other request while its handler analysed it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from promptls.core.findings import FileReport, Finding, Severity
from promptls.core.positions import LineIndex, Span
from promptls.lsp.convert import to_diagnostic
from promptls.lsp.protocol import call_handler
from promptls.lsp.state import Analysis, ServerState

if TYPE_CHECKING:
    from promptls.lsp.server import PromptServer

log = logging.getLogger(__name__)
INDEX_LOCK = threading.Lock()  # the workspace index is built once: by the first analysis or the index job

DATASET_PREFIX_CHARS = 2_000_000  # datasets above this get a first pass over the visible lines
DATASET_PREFIX_LINES = 2_000
# A handler waits for at most this many newer versions before it answers from the latest analysis it has: a
# client that edits without pause must still get answers.
MAX_CHASES = 4

# Requests whose handlers read the analysis of their document. Hints and lenses of a large dataset may be served
# from its first pass (it covers the lines on screen); the others wait for the full analysis.
NEEDS_ANALYSIS = (
    lsp.TEXT_DOCUMENT_HOVER,
    lsp.TEXT_DOCUMENT_COMPLETION,
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL,
    lsp.TEXT_DOCUMENT_DEFINITION,
    lsp.TEXT_DOCUMENT_INLAY_HINT,
    lsp.TEXT_DOCUMENT_CODE_LENS,
)
PARTIAL_OK = frozenset({lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.TEXT_DOCUMENT_CODE_LENS})


class Scheduler:
    """Runs, supersedes, publishes and serves the analyses of the open documents of one server."""

    def __init__(self, server: PromptServer, workers: int = 2) -> None:
        self._server = server
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="promptls-analysis")
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self.on_published: list[Callable[[Analysis], None]] = []
        self.generation = 0  # bumped by `invalidate`: analyses of an older one are stale

    # -- asking for work ----------------------------------------------------------------------------------
    def request(self, uri: str) -> None:
        """Analyse the latest version of `uri` (now, or right after the analysis already running)."""
        if not self._server.is_analysed(uri):
            return
        task = self._tasks.get(uri)
        if task is not None and not task.done():
            self._dirty.add(uri)
            return
        self._tasks[uri] = asyncio.ensure_future(self._work(uri))

    def invalidate(self) -> None:
        """The settings changed: every analysis there is is stale; the caller asks for new ones."""
        self.generation += 1

    def forget(self, uri: str) -> None:
        """The document was closed: drop its result and its pushed diagnostics; a running analysis finds it gone
        and stops."""
        self._server.state.analyses.pop(uri, None)
        self._dirty.discard(uri)
        self._wake(uri)
        self.publish(uri, [])

    def publish(self, uri: str, diagnostics: list[lsp.Diagnostic], version: int | None = None) -> None:
        """Push a document's diagnostics, unless the client pulls them (it asks `textDocument/diagnostic`): an
        analysis' (from `_analyse`), a case file's (the eval layer), none for a closed document."""
        if self._server.pull_diagnostics:
            return
        self._server.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- serving handlers ---------------------------------------------------------------------------------
    def latest(self, uri: str) -> Analysis | None:
        """The newest analysis of `uri` there is, current or not (never computed here)."""
        return self._server.state.analyses.get(uri)

    def fresh(self, uri: str, partial_ok: bool = False) -> Analysis | None:
        """The analysis of the document's current version, if it exists already."""
        td = self._server.workspace.text_documents.get(uri)
        a = self._server.state.analyses.get(uri)
        if td is None or a is None or a.version != td.version or a.generation != self.generation:
            return None
        if a.partial and not partial_ok:
            return None
        src = td.source
        return a if (a.text is src or a.text == src) else None

    async def current(self, uri: str, partial_ok: bool = False) -> Analysis | None:
        """The analysis of the current version of `uri`, waiting for it off the loop when needed."""
        if not self._server.is_analysed(uri):
            return None
        for _ in range(MAX_CHASES):
            a = self.fresh(uri, partial_ok)
            if a is not None:
                return a
            if uri not in self._server.workspace.text_documents:
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(uri, []).append(waiter)
            self.request(uri)
            try:
                await waiter
            finally:
                lst = self._waiters.get(uri)
                if lst is not None and waiter in lst:
                    lst.remove(waiter)
        return self.fresh(uri, partial_ok) or self.latest(uri)

    def wrap_handlers(self, methods: tuple[str, ...] = NEEDS_ANALYSIS) -> None:
        """Make each registered handler of `methods` wait for its document's current analysis before it runs.

        The handlers read the analysis through `PromptServer.analyze_now`, which then always finds it fresh:
        no handler analyses on the event loop.
        """
        for method in methods:
            partial_ok = method in PARTIAL_OK
            self._server.protocol.wrap_handler(method, lambda h, p=partial_ok: self._waiting(h, p))

    def _waiting(self, handler: Callable[..., Any], partial_ok: bool) -> Callable[..., Any]:
        async def wrapped(params: Any) -> Any:
            doc = getattr(params, "text_document", None)
            uri = getattr(doc, "uri", None)
            if isinstance(uri, str):
                await self.current(uri, partial_ok)
            return await call_handler(handler, params)

        wrapped.__name__ = getattr(handler, "__name__", "handler")
        return wrapped

    # -- the work -----------------------------------------------------------------------------------------
    async def _work(self, uri: str) -> None:
        server = self._server
        loop = asyncio.get_running_loop()
        try:
            while True:
                self._dirty.discard(uri)
                td = server.workspace.text_documents.get(uri)
                if td is None:
                    return
                text, version = td.source, td.version
                path = server.path_of(uri)
                server.state.open_texts[path] = text
                kind = server.kind_of(uri)
                if kind == "dataset" and len(text) > DATASET_PREFIX_CHARS:
                    limit = max(server.state.visible_end.get(uri, 0) + 200, DATASET_PREFIX_LINES)
                    await self._analyse(loop, uri, path, text, version, kind, limit)
                if not await self._analyse(loop, uri, path, text, version, kind, None):
                    if uri not in server.workspace.text_documents:
                        return
                if uri not in self._dirty and self._is_current(uri, version, text):
                    return
        finally:
            self._wake(uri)

    async def _analyse(self, loop: asyncio.AbstractEventLoop, uri: str, path: str, text: str,
                       version: int | None, kind: str | None, limit_lines: int | None) -> bool:
        """Analyse one version off the loop; store, publish (diagnostics, then the `on_published` hooks: status,
        dependents) and wake waiters if it is still the current one."""
        server = self._server
        generation = self.generation
        try:
            result = await loop.run_in_executor(self._pool, analyze, server.state, uri, path, text,
                                                version, server.encoding, kind, limit_lines)
        except Exception:  # analyze turns crashes into a finding; this is the pool going away
            log.exception("analysis failed for %s", uri)
            return False
        if not self._is_current(uri, version, text):
            return False
        result.generation = generation
        server.state.analyses[uri] = result
        if not server.pull_diagnostics:
            self.publish(uri, [to_diagnostic(result.index, f) for f in result.report.findings], version)
        for hook in self.on_published:
            hook(result)
        self._wake(uri)
        return True

    def _is_current(self, uri: str, version: int | None, text: str) -> bool:
        td = self._server.workspace.text_documents.get(uri)
        if td is None or td.version != version:
            return False
        src = td.source
        return src is text or src == text  # a document closed and reopened at the same version has new text

    def _wake(self, uri: str) -> None:
        for waiter in self._waiters.pop(uri, []):
            if not waiter.done():
                waiter.set_result(None)


def analyze(state: ServerState, uri: str, path: str, text: str, version: int | None,
            encoding: str = "utf-16", kind: str | None = None, limit_lines: int | None = None) -> Analysis:
    """One analysis, in the scheduler's pool; a crash becomes an IO001 finding."""
    from promptls.analysis.engine import analyze as analyze_text  # deferred: keeps `initialize` fast
    from promptls.analysis.engine import analyze_dataset_prefix

    # One line index per analysed text: the engine's suppressions and the editor features share it.
    index = LineIndex(text, encoding)
    try:
        if limit_lines is not None:
            doc, report = analyze_dataset_prefix(path, text, state.config, limit_lines)
        else:
            doc, report = analyze_text(path, text, state.config, partials=state.partial_lookup, kind=kind,
                                       online_count=state.online_lookup if state.config.tokens_online else None,
                                       workspace=workspace_index(state, path), index=index)
    except Exception as e:  # the server keeps running whatever a document contains
        log.exception("analysis crashed on %s", uri)
        doc = None
        report = FileReport(path, "unknown", None, [Finding("IO001", Severity.WARNING,
                                                            f"Not analysed: internal error ({type(e).__name__}).",
                                                            Span(0, 0))], skipped="internal error")
    return Analysis(uri, version, text, doc, report, index, kind=report.kind,
                    partial=limit_lines is not None)


def workspace_index(state: ServerState, path: str) -> Any:
    """The index of the workspace's source modules (what `check` builds), made on the first source file analysed
    (in the analysis pool, off the event loop); the open buffer re-indexes its own module as it is analysed."""
    from promptls.workspace.index import PY_SUFFIXES, TS_SUFFIXES  # deferred: loads with the first analysis

    if state.root is None or not path.endswith(PY_SUFFIXES + TS_SUFFIXES) or not state.config.code_languages:
        return None
    if state.workspace_index is None:
        with INDEX_LOCK:  # two analysis workers must not build it twice
            if state.workspace_index is None:
                from promptls.workspace import WorkspaceIndex

                try:
                    state.workspace_index = WorkspaceIndex.build([state.root])
                except Exception:  # an empty index: each file is analysed on its own, as before
                    log.exception("workspace index not built for %s", state.root)
                    state.workspace_index = WorkspaceIndex([state.root])
    return state.workspace_index
