"""The scheduler's settings generation: after `invalidate` an analysis is no longer fresh (handlers wait for the
new one), while the latest one stays readable; and diagnostics are pushed only to clients that do not pull."""

from __future__ import annotations

from types import SimpleNamespace

from promptls.core.findings import FileReport
from promptls.core.positions import LineIndex
from promptls.lsp.scheduler import Scheduler
from promptls.lsp.state import Analysis, ServerState

URI = "file:///p.prompt"


def server(text: str = "hi", pull: bool = False) -> SimpleNamespace:
    sent: list = []
    td = SimpleNamespace(version=1, source=text)
    return SimpleNamespace(state=ServerState(), workspace=SimpleNamespace(text_documents={URI: td}),
                           pull_diagnostics=pull, sent=sent, text_document_publish_diagnostics=sent.append)


def analysis(text: str, generation: int) -> Analysis:
    return Analysis(URI, 1, text, None, FileReport("/p.prompt", "prompt", None, []), LineIndex(text),
                    generation=generation)


def test_an_analysis_of_an_older_generation_is_not_fresh_but_stays_the_latest():
    s = server()
    scheduler = Scheduler(s)
    try:
        s.state.analyses[URI] = a = analysis("hi", scheduler.generation)
        assert scheduler.fresh(URI) is a
        scheduler.invalidate()
        assert scheduler.fresh(URI) is None
        assert scheduler.latest(URI) is a
    finally:
        scheduler.shutdown()


def test_diagnostics_are_pushed_only_when_the_client_does_not_pull():
    for pull, pushed in ((False, 1), (True, 0)):
        s = server(pull=pull)
        scheduler = Scheduler(s)
        try:
            scheduler.forget(URI)  # a close clears what was pushed
            assert len(s.sent) == pushed
            assert all(p.uri == URI and p.diagnostics == [] for p in s.sent)
        finally:
            scheduler.shutdown()
