"""The call-site extractors and SD rules never crash and never report a span outside the text: on every prefix of
real-looking SDK code (what an editor sends while the user types), and on the installed SDKs' own sources."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import pytest
from tests.unit.analysis.test_code_rules import PY, TS

from promptls.analysis.engine import analyze
from promptls.config import Config

REPO = Path(__file__).resolve().parents[3]
CFG = Config()


def _check(path: str, text: str) -> int:
    doc, report = analyze(path, text, CFG)
    for f in report.findings:
        assert 0 <= f.span.start <= f.span.end <= len(text), (path, f)
    calls = doc.calls if doc is not None else []
    for site in calls:
        assert text[site.span.start:site.span.end].startswith(text[site.callee_span.start:site.callee_span.end])
        for v in site.args.values():
            assert text[v.span.start:v.span.end] == v.source, (path, v)
    return len(calls)


@pytest.mark.parametrize("name, text", [
    ("bot.py", PY), ("triage.ts", TS), ("triage.js", TS.replace(": string", "").replace(": Promise<string>", "")),
    *[(p.name, p.read_text()) for p in sorted((REPO / "examples" / "code").iterdir())],
])
def test_every_prefix_of_sdk_code(name: str, text: str):
    """Cut the file at ~200 points (every 7th character for short files), as if typed so far: each prefix
    analyses without an exception."""
    step = max(7, len(text) // 200)
    found = [_check(name, text[:cut]) for cut in range(0, len(text) + 1, step)]
    assert found[-1] >= 1 or _check(name, text) >= 1  # the whole file has calls
    assert found[0] == 0


def test_installed_sdk_sources():
    """The SDK packages' own code: varied, real Python (and google-genai's tests call the SDK for real)."""
    import anthropic
    import google.genai
    import ollama
    import openai

    roots = [Path(m.__file__).parent for m in (google.genai, ollama, anthropic, openai)]
    files = list(itertools.islice((p for r in roots for p in sorted(r.rglob("*.py"))), 1200))
    assert len(files) > 300
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calls = sum(_check(str(p), p.read_text("utf-8")) for p in files)
    assert calls >= 1  # google-genai's import tests call models.generate_content
    # google-genai has invalid escape sequences: parsing them must not print warnings (the server's stderr)
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning | DeprecationWarning)], caught[:3]
