"""Shared fixtures: strict rule execution, a pinned date, the conformance folder, and an `analyze` helper."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp.client import LanguageClient, default_feature

import promptls.sections  # noqa: F401 (every owner declares its config section, as in the faces)

os.environ.setdefault("PROMPTLS_STRICT", "1")  # a crashing rule fails the test instead of being logged
# Response cache and usage ledger of every server the tests start go to a throwaway folder, never the user's.
os.environ["PROMPTLS_STATE_DIR"] = tempfile.mkdtemp(prefix="promptls-tests-state-")

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 25)


@default_feature(lsp.CLIENT_REGISTER_CAPABILITY)
def _register_capability(client: LanguageClient, params: lsp.RegistrationParams) -> None:
    """pytest-lsp's clients claim dynamic registration (file watchers), as editors do, but had no handler for it:
    accept and keep the registrations, as an editor would."""
    client.__dict__.setdefault("registrations", []).extend(params.registrations)


def conformance_dir() -> Path:
    env = os.environ.get("PROMPTLS_CONFORMANCE")
    return Path(env) if env else REPO.parent / "shared" / "conformance"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say it loudly when the format owners' conformance suites were not run (outside CI they are skipped)."""
    d = conformance_dir()
    if not d.is_dir():
        terminalreporter.write_sep("!", f"conformance suites NOT run: not found at {d} (set PROMPTLS_CONFORMANCE)",
                                   yellow=True)


@pytest.fixture(scope="session")
def conformance() -> Path:
    d = conformance_dir()
    if not d.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"conformance suites missing at {d} (required under CI=true)")
        pytest.skip(f"conformance suites not found at {d}")
    return d


@pytest.fixture
def analyze(tmp_path):
    """Write `text` to a file named `name` in a temp dir and analyse it; returns the FileReport."""
    from promptls.analysis.engine import analyze_path
    from promptls.config import Config, from_dict

    def run(name: str, text: str, config: dict | None = None, files: dict[str, str] | None = None):
        for fname, content in (files or {}).items():
            (tmp_path / fname).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / fname).write_text(content, "utf-8")
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")
        cfg, errs = from_dict(config or {}) if config else (Config(), [])
        assert not errs, errs
        report, _ = analyze_path(str(p), cfg, today=TODAY)
        return report

    return run


def codes(report) -> list[str]:
    return [f.code for f in report.findings]
