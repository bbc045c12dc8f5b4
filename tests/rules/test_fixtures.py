"""One fixture folder per rule code, `tests/rules/<CODE>/`, and its expected findings as a snapshot beside it.

Each folder holds the fixture files (every top-level file whose name does not start with `_` or `.`, other than
`expected.json`, `README.md` and `promptls.toml`), the files they refer to (`_name`: partials, `${file:...}`
targets), an optional `promptls.toml` that configures the analysis, and `expected.json`: for every fixture file,
ALL its findings (range as 1-based `line:col-line:col` in code points, code, severity, the text under the range,
message, fixes). The analysis is the public engine (`analyze_path`) with the date pinned as in tests/conftest.py.

`expected.json` is an inline-snapshot `external_file`: a mismatch fails the test. Create a new folder's snapshot
with `pytest tests/rules --inline-snapshot=create`, then READ it: a snapshot of a wrong finding is a bug to report,
not to freeze. A plain run (and any run under CI) never writes a snapshot (`[tool.inline-snapshot]` in
pyproject.toml).

Files too big or too odd to commit (binary, oversized) are written by `GENERATED` below into a copy of the folder;
the folder's README says so. Codes the engine does not report are listed in `OUTSIDE_ENGINE` with where they come
from instead; retired codes have a fixture that shows they are no longer reported.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from inline_snapshot import external_file
from tests.conftest import TODAY

from promptls import config as cfgmod
from promptls.analysis.engine import analyze_path
from promptls.config import Config
from promptls.core.findings import FileReport, Finding
from promptls.core.positions import LineIndex, Span
from promptls.core.registry import RULES
from promptls.core.secrets import redact
from promptls.eval.cases import load_path
from promptls.output.located import locate

HERE = Path(__file__).resolve().parent
FOLDERS = sorted(p for p in HERE.iterdir() if p.is_dir() and p.name in RULES)
NOT_FIXTURES = {"expected.json", "README.md", "promptls.toml"}
TEXT_CUT = 80  # longer texts under a range are cut in the snapshot, so that it stays readable

# Codes that analyze_path never reports, and where they are reported instead.
OUTSIDE_ENGINE = {
    "CF001": "the messages of promptls.config.load on the folder's promptls.toml (CLI: `invalid config`, exit 2; "
             "LSP: a window message)",
    "EV002": "the findings of promptls.eval.cases.load_path on the folder's case files (LSP diagnostics, "
             "`promptls eval` messages)",
    "EV001": "a failing assertion of the last `promptls eval` run, published by the language server: needs a model "
             "run, covered by tests/e2e/test_eval_lsp.py",
}

# Folders whose snapshot holds what the analysis SHOULD report, not what it does today: each a bug in the rules,
# reported, to be fixed by their owners; those snapshots were corrected by hand (--inline-snapshot does not run
# an xfail test). Strict: the test fails once the bug is fixed, to remove the entry.
KNOWN_BUGS: dict[str, str] = {}  # none open: SC001, SD004 and TP010 were fixed


def _write_io001(folder: Path) -> None:
    (folder / "binary.prompt").write_bytes(b"\x00\x01\x02binary")
    (folder / "not-utf8.prompt").write_bytes(b"---\nmodel: x\n---\n\xff\xfe bad")
    (folder / "too-big.prompt").write_text("Hello.\n" * 300, "utf-8")  # above the folder's max-file-bytes


def _write_tk006(folder: Path) -> None:
    (folder / "long.prompt").write_text("---\nmodel: googleai/gemini-2.5-pro\n---\n" + "word " * 210_000 + "\n",
                                        "utf-8")


def _write_rf004(folder: Path) -> None:
    (folder / "_big.json").write_text("[" + "0, " * 400_000 + "0]", "utf-8")  # above the 1 MB read limit
    (folder / "_folder.json").mkdir()


def _write_sc001(folder: Path) -> None:
    key = "sk-proj-" + "A1b2C3d4" * 6  # built here, so that no secret scanner flags a committed file
    text = (folder / "_template.prompt").read_text("utf-8")
    (folder / "literal-key.prompt").write_text(text.replace("<KEY>", key), "utf-8")


GENERATED: dict[str, Callable[[Path], None]] = {"IO001": _write_io001, "TK006": _write_tk006,
                                                "RF004": _write_rf004, "SC001": _write_sc001}


def fixture_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.name not in NOT_FIXTURES and not p.name.startswith(("_", ".")))


def _config(folder: Path) -> Config:
    toml = folder / "promptls.toml"
    if not toml.exists():
        return Config()
    cfg, errors, _ = cfgmod.load(explicit=toml)
    assert not errors, errors
    return cfg


def _cut(s: str) -> str:
    return s if len(s) <= TEXT_CUT else s[:TEXT_CUT] + "…"


def _rng(index, span: Span) -> str:
    r = index.range(span)
    return f"{r.start.line + 1}:{r.start.character + 1}-{r.end.line + 1}:{r.end.character + 1}"


def _finding(f: Finding, index, text: str, where: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"range": _rng(index, f.span), "code": f.code, "severity": f.severity.label,
                           "text": _cut(redact(text[f.span.start:f.span.end])),  # no key in a snapshot
                           "message": f.message.replace(str(where), "<dir>")}
    if f.fixes:
        out["fixes"] = [f"{fx.title}: " + "; ".join(f"{_rng(index, e.span)} -> {e.new_text!r}" for e in fx.edits)
                        + "".join(f"; creates {Path(p).name}" for p, _ in fx.create_files) for fx in f.fixes]
    return out


def _report(path: Path, cfg: Config) -> list[dict[str, Any]]:
    report, text = analyze_path(str(path), cfg, today=TODAY)
    assert isinstance(report, FileReport)
    (located,) = locate([(report, text)], str(path.parent))
    try:  # the text under each range; a streamed dataset's report keeps no text, and a skipped file has none
        source = text or path.read_text("utf-8")
    except (UnicodeDecodeError, IsADirectoryError):
        source = ""
    index = located.index if located.index is not None else LineIndex(source)
    return [_finding(f, index, source, path.parent) for f in located.findings]


def _cf001(folder: Path) -> list[str]:
    _, errors, _ = cfgmod.load(explicit=folder / "promptls.toml")
    return [e.replace(str(folder), "<dir>") for e in errors]


def _ev002(path: Path) -> list[dict[str, Any]]:
    # the language server publishes every static finding of a case file as EV002
    return [{"line": f.line, "code": "EV002", "severity": f.severity,
             "message": f.message.replace(str(path.parent), "<dir>")} for f in load_path(str(path)).findings]


def findings_of(code: str, folder: Path) -> dict[str, Any]:
    """What the folder's fixtures yield, keyed by fixture file name."""
    if code == "CF001":
        return {"promptls.toml": _cf001(folder)}
    if code == "EV002":
        return {p.name: _ev002(p) for p in fixture_files(folder) if p.name.endswith(".tests.yaml")}
    cfg = _config(folder)
    return {p.name: _report(p, cfg) for p in fixture_files(folder)}


def _snapshot_params() -> list:
    return [pytest.param(f, id=f.name, marks=[pytest.mark.xfail(reason=KNOWN_BUGS[f.name], strict=True)]
                         if f.name in KNOWN_BUGS else []) for f in FOLDERS if f.name != "EV001"]


@pytest.mark.parametrize("folder", _snapshot_params())
def test_fixture_findings_match_the_snapshot(folder: Path, tmp_path: Path) -> None:
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    if folder.name in GENERATED:
        GENERATED[folder.name](work)
    assert findings_of(folder.name, work) == external_file(folder / "expected.json")


def test_every_code_has_a_folder() -> None:
    assert sorted(RULES) == [f.name for f in FOLDERS]
    for folder in FOLDERS:
        code = folder.name
        if code in GENERATED or code in OUTSIDE_ENGINE:
            assert (folder / "README.md").is_file(), f"{code}: say where its files come from"
        if code != "EV001":
            assert (folder / "expected.json").is_file(), code
            assert fixture_files(folder) or code in GENERATED or code == "CF001", code


@pytest.mark.parametrize("folder", [f for f in FOLDERS if f.name != "EV001"], ids=lambda p: p.name)
def test_each_fixture_reports_its_own_code(folder: Path) -> None:
    """The snapshot (which the test above holds equal to the analysis) has the folder's code in every fixture
    file, except in `ok-*` files, which show where it must not be reported; a retired code is never reported."""
    code = folder.name
    snapshot: dict[str, Any] = json.loads((folder / "expected.json").read_text("utf-8"))
    assert snapshot, code
    for name, found in snapshot.items():
        if code == "CF001":
            assert found, name
            continue
        codes = {f["code"] for f in found}
        if RULES[code].summary.startswith("Retired") or name.startswith("ok-"):
            assert code not in codes, name
        else:
            assert code in codes, name
