"""`promptls check` builds the workspace index once per run, so it finds what the editor finds: calls through
clients of other modules, and nothing on test doubles."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "llmapp"


@pytest.fixture
def repo(tmp_path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "llmapp")
    return tmp_path / "llmapp"


def check(repo: Path, *args: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "promptls", "check", *args, "--format", "json"], cwd=repo,
                          capture_output=True, text=True, timeout=110)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def codes(report: dict, path: str) -> list[str]:
    (entry,) = [f for f in report["files"] if f["path"] == path]
    return [d["code"] for d in entry["diagnostics"]]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_check_resolves_across_modules(repo, jobs):
    rc, report = check(repo, ".", "--jobs", jobs)
    assert rc == 1
    service = codes(report, "app/service.py")
    assert service.count("SD001") == 7 and service.count("MD003") == 2 and "TK003" in service
    assert "MD001" not in service
    assert codes(report, "tests/doubles.py") == []


def test_one_file_checked_still_sees_its_project(repo):
    _, report = check(repo, "app/service.py")
    assert codes(report, "app/service.py").count("SD001") == 7


def test_test_doubles_do_not_fail_ci(repo):
    rc, report = check(repo, "tests", "--fail-on", "error")
    assert rc == 0 and codes(report, "tests/doubles.py") == []
