"""The `promptls check` output formats (text, json, sarif, github) over hand-built reports.

The sample text puts astral-plane characters (an emoji, an emoji with a skin-tone modifier) before findings,
so code-point columns differ from UTF-16 columns; the expected positions below are counted by hand.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

import promptls
from promptls.core.findings import (
    FileReport,
    Finding,
    Fix,
    MessageTokens,
    Severity,
    TextEdit,
    TokenReport,
)
from promptls.core.positions import Span
from promptls.core.registry import RULES
from promptls.output import FORMATS, render
from promptls.output.github import escape_data, escape_property
from promptls.output.text import format_cost, should_color

REPO = Path(__file__).resolve().parents[3]
SARIF_SCHEMA = Path(__file__).resolve().parents[2] / "data" / "sarif-schema-2.1.0.json"

# Lines (0-based):         code points before the finding
# 3: "🙂 Hello {{nmae}}, café"   "{{nmae}}" at 8..16 (UTF-16 would say 9), "café" at 18..22
# 4: "Bye {{ x }}"  (CRLF)
# 5: "end 👋🏽 {{y}}"              "{{y}}" at 7..12 (UTF-16 would say 9)
TEXT = "---\nmodel: gpt-4o\n---\n🙂 Hello {{nmae}}, café\nBye {{ x }}\r\nend 👋🏽 {{y}}\n"
TRICKY = "cache miss: 100% of calls,\nsee docs"


def span_of(needle: str, text: str = TEXT) -> Span:
    start = text.index(needle)
    return Span(start, start + len(needle))


def greet_findings() -> list[Finding]:
    typo = span_of("nmae")
    multi = Span(TEXT.index("café"), TEXT.index("Bye") + 3)
    return [
        # given out of order: every format sorts by position
        Finding("TK007", Severity.HINT, TRICKY, span_of("{{y}}")),
        Finding(
            "VR001",
            Severity.WARNING,
            "`nmae` is not a declared input",
            span_of("{{nmae}}"),
            fixes=(Fix("Rename to `name`", (TextEdit(typo, "name"),), preferred=True),),
        ),
        Finding("TP002", Severity.ERROR, "block opened here is never closed", multi),
        Finding("TK001", Severity.INFO, "120 input tokens", Span(0, 0)),
    ]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def reports(root: Path) -> list[tuple[FileReport, str]]:
    greet = FileReport(
        path=str(root / "prompts" / "greet.prompt"),  # absolute, inside the root
        dialect="dotprompt",
        model="gpt-4o",
        findings=greet_findings(),
        tokens=TokenReport(
            tokenizer="o200k_base",
            exact=True,
            input=120,
            output_reserved=512,
            messages=[MessageTokens("system", 20), MessageTokens("user", 100)],
            cost_usd=0.0025,
        ),
    )
    other = FileReport(
        path="other.prompt",  # relative: taken as relative to the root
        dialect="jinja",
        model=None,
        findings=[],
        tokens=TokenReport(tokenizer="cl100k_base", exact=False, input=10, output_reserved=100),
    )
    blob = FileReport(
        path="bin/blob.prompt",
        dialect="unknown",
        model=None,
        findings=[Finding("IO001", Severity.WARNING, "binary file", Span(0, 0))],
        skipped="binary file",
    )
    return [(greet, TEXT), (other, "x"), (blob, "")]


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


# -- dispatch -----------------------------------------------------------------------------------------


def test_formats_and_unknown_format(reports, root):
    assert set(FORMATS) == {"text", "json", "sarif", "github"}
    for fmt in FORMATS:
        assert render(fmt, reports, root=str(root))
        assert render(fmt, [], root=str(root)) is not None
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        render("xml", reports, root=str(root))


# -- json -----------------------------------------------------------------------------------------------


def test_json_key_contract(reports, root):
    doc = json.loads(render("json", reports, root=str(root)))
    assert set(doc) == {"version", "files", "summary"}
    assert doc["version"] == 4
    file_keys = {
        "path",
        "kind",
        "dataset",
        "calls",
        "dialect",
        "model",
        "tokenizer",
        "exact",
        "tokens",
        "cost_usd",
        "monthly_usd",
        "skipped",
        "diagnostics",
    }
    for f in doc["files"]:
        assert set(f) == file_keys
        for d in f["diagnostics"]:
            assert set(d) == {"code", "severity", "message", "range"}
            assert d["severity"] in {"error", "warning", "info", "hint"}
            assert set(d["range"]) == {"start", "end"}
            for p in d["range"].values():
                assert set(p) == {"line", "character"}
                assert all(isinstance(v, int) for v in p.values())
    greet = doc["files"][0]
    assert set(greet["tokens"]) == {"input", "output_reserved", "messages", "error_pct"}
    assert greet["tokens"]["messages"] == [{"role": "system", "tokens": 20}, {"role": "user", "tokens": 100}]
    assert isinstance(greet["exact"], bool)


def test_json_values_and_code_point_positions(reports, root):
    doc = json.loads(render("json", reports, root=str(root)))
    greet, other, blob = doc["files"]
    assert greet["path"] == "prompts/greet.prompt"
    assert (greet["dialect"], greet["model"], greet["tokenizer"], greet["exact"]) == (
        "dotprompt",
        "gpt-4o",
        "o200k_base",
        True,
    )
    assert greet["tokens"]["input"] == 120 and greet["tokens"]["output_reserved"] == 512
    assert greet["cost_usd"] == pytest.approx(0.0025)
    assert greet["skipped"] is None

    by_code = {d["code"]: d for d in greet["diagnostics"]}
    assert [d["code"] for d in greet["diagnostics"]] == ["TK001", "VR001", "TP002", "TK007"]
    assert by_code["VR001"]["range"] == {"start": {"line": 3, "character": 8}, "end": {"line": 3, "character": 16}}
    assert by_code["TP002"]["range"] == {"start": {"line": 3, "character": 18}, "end": {"line": 4, "character": 3}}
    assert by_code["TK007"]["range"] == {"start": {"line": 5, "character": 7}, "end": {"line": 5, "character": 12}}
    assert by_code["TK007"]["message"] == TRICKY
    assert by_code["TP002"]["severity"] == "error" and by_code["TK007"]["severity"] == "hint"

    assert other["path"] == "other.prompt" and other["exact"] is False and other["cost_usd"] is None
    assert blob["skipped"] == "binary file"
    assert blob["tokens"] is None and blob["tokenizer"] is None and blob["cost_usd"] is None
    assert [d["code"] for d in blob["diagnostics"]] == ["IO001"]


def test_json_summary_counts(reports, root):
    summary = json.loads(render("json", reports, root=str(root)))["summary"]
    assert summary["files"] == 3
    assert summary["files_skipped"] == 1
    assert summary["files_with_errors"] == 1
    assert summary["diagnostics"] == {"error": 1, "warning": 2, "info": 1, "hint": 1}
    assert summary["tokens"] == {"input": 130, "output_reserved": 612}
    assert summary["cost_usd"] == pytest.approx(0.0025)
    assert summary["files_unpriced"] == 1


def test_json_is_ascii_and_round_trips_non_ascii(root):
    report = FileReport(
        str(root / "x.prompt"), "jinja", None, [Finding("VR001", Severity.WARNING, "café 🙂", Span(0, 1))]
    )
    out = render("json", [(report, "é")], root=str(root))
    assert out.isascii()
    assert json.loads(out)["files"][0]["diagnostics"][0]["message"] == "café 🙂"


def test_json_empty_run(root):
    doc = json.loads(render("json", [], root=str(root)))
    assert doc["files"] == []
    assert doc["summary"]["files"] == 0 and doc["summary"]["cost_usd"] is None


# -- text -----------------------------------------------------------------------------------------------


def test_text_lines_are_one_based_code_points(reports, root):
    out = render("text", reports, root=str(root), color=False)
    lines = out.splitlines()
    assert "\x1b" not in out
    assert lines[0] == "prompts/greet.prompt:1:1: TK001 120 input tokens"
    assert lines[1] == "prompts/greet.prompt:4:9: VR001 `nmae` is not a declared input"
    assert lines[2] == "prompts/greet.prompt:4:19: TP002 block opened here is never closed"
    # the message's line break stays on one line, escaped
    assert lines[3] == "prompts/greet.prompt:6:8: TK007 cache miss: 100% of calls,\\nsee docs"
    assert lines[4].startswith("prompts/greet.prompt: 632 tokens (120 input + 512 output) · $0.0025/call")
    assert "o200k_base (exact)" in lines[4]
    assert lines[5].startswith("other.prompt: ~110 tokens (10 input + 100 output)") and "estimate" in lines[5]
    assert lines[6] == "bin/blob.prompt:1:1: IO001 binary file"
    assert lines[7] == "bin/blob.prompt: skipped (binary file)"
    assert lines[8].startswith("Found 1 error, 2 warnings, 1 info, 1 hint in 3 files (1 skipped)")
    assert "130 input tokens" in lines[8] and "(1 unpriced)" in lines[8]
    assert len(lines) == 9


def test_text_clean_run_and_control_characters(root):
    clean = FileReport("a.prompt", "jinja", None, [])
    assert render("text", [(clean, "")], root=str(root), color=False).startswith("All checks passed: 1 file")
    hostile = FileReport("a.prompt", "jinja", None, [Finding("VR001", Severity.WARNING, "var \x1b[2J\rx", Span(0, 1))])
    out = render("text", [(hostile, "x")], root=str(root), color=False)
    assert "\x1b" not in out and "\r" not in out
    assert "var \\x1b[2J\\rx" in out


def test_text_colour(reports, root, monkeypatch):
    coloured = render("text", reports, root=str(root), color=True)
    assert "\x1b[1;31mTP002\x1b[0m" in coloured  # errors in red
    assert "\x1b[1;33mVR001\x1b[0m" in coloured  # warnings in yellow

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert should_color(Tty()) is True
    assert should_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert should_color(Tty()) is False
    monkeypatch.setenv("NO_COLOR", "")  # empty means unset, per no-color.org
    assert should_color(Tty()) is True


@pytest.mark.parametrize(
    ("usd", "shown"),
    [
        (0.0, "$0"),
        (0.0025, "$0.0025"),
        (0.04, "$0.040"),
        (0.123456, "$0.12"),
        (12.5, "$12.50"),
        (1234.5, "$1,234.50"),
    ],
)
def test_format_cost(usd, shown):
    assert format_cost(usd) == shown


# -- sarif ----------------------------------------------------------------------------------------------


def _regions(node):
    """Every `region` object anywhere in a SARIF log."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("region", "deletedRegion"):
                yield v
            yield from _regions(v)
    elif isinstance(node, list):
        for v in node:
            yield from _regions(v)


def test_sarif_validates_against_schema(reports, root, sarif_validator):
    log = json.loads(render("sarif", reports, root=str(root)))
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])
    # The OASIS errata01 schema also requires each region to carry startLine (or an offset).
    regions = list(_regions(log))
    assert len(regions) >= 5
    assert all("startLine" in r for r in regions)
    assert not list(sarif_validator.iter_errors(json.loads(render("sarif", [], root=str(root)))))


def test_sarif_schema_catches_a_broken_log(reports, root, sarif_validator):
    # guards the test above: the vendored schema really constrains results
    log = json.loads(render("sarif", reports, root=str(root)))
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(sarif_validator.iter_errors(log))


def test_sarif_driver_and_rules(reports, root):
    log = json.loads(render("sarif", reports, root=str(root)))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "promptls" and driver["version"] == promptls.__version__
    assert urlsplit(driver["informationUri"]).scheme == "https"
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    vr001 = driver["rules"][list(RULES).index("VR001")]
    assert vr001["name"] == RULES["VR001"].name
    assert vr001["shortDescription"]["text"] == RULES["VR001"].summary
    assert vr001["fullDescription"]["text"] == RULES["VR001"].rationale
    assert vr001["defaultConfiguration"]["level"] == "warning"
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}
    assert levels["TK007"] == "note" and levels["TK001"] == "note" and levels["FM001"] == "error"
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.as_uri() + "/"


def test_sarif_results(reports, root):
    run = json.loads(render("sarif", reports, root=str(root)))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["TK001", "VR001", "TP002", "TK007", "IO001"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    by_rule = {r["ruleId"]: r for r in results}
    assert {k: by_rule[k]["level"] for k in by_rule} == {
        "TK001": "note",
        "VR001": "warning",
        "TP002": "error",
        "TK007": "note",
        "IO001": "warning",
    }
    loc = by_rule["VR001"]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "prompts/greet.prompt", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 4, "startColumn": 9, "endLine": 4, "endColumn": 17}
    tp = by_rule["TP002"]["locations"][0]["physicalLocation"]["region"]
    assert tp == {"startLine": 4, "startColumn": 19, "endLine": 5, "endColumn": 4}
    tk = by_rule["TK007"]["locations"][0]["physicalLocation"]["region"]
    assert (tk["startColumn"], tk["endColumn"]) == (8, 13)
    assert by_rule["TK007"]["message"]["text"] == TRICKY

    (fix,) = by_rule["VR001"]["fixes"]
    assert fix["description"]["text"] == "Rename to `name`"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "prompts/greet.prompt"
    (rep,) = change["replacements"]
    assert rep["deletedRegion"] == {"startLine": 4, "startColumn": 11, "endLine": 4, "endColumn": 15}
    assert rep["insertedContent"] == {"text": "name"}
    assert "fixes" not in by_rule["TP002"]

    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == ["skipped: binary file"]


def test_sarif_uris_are_encoded_and_outside_root_is_absolute(root, tmp_path_factory, sarif_validator):
    outside = tmp_path_factory.mktemp("elsewhere") / "far.prompt"
    inside = FileReport(
        str(root / "my prompts" / "résumé#1.prompt"),
        "jinja",
        None,
        [Finding("VR001", Severity.WARNING, "m", Span(0, 1))],
    )
    far = FileReport(str(outside), "jinja", None, [Finding("VR001", Severity.WARNING, "m", Span(0, 1))])
    log = json.loads(render("sarif", [(inside, "a"), (far, "b")], root=str(root)))
    assert not list(sarif_validator.iter_errors(log))
    first, second = (r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"])
    assert first == {"uri": "my%20prompts/r%C3%A9sum%C3%A9%231.prompt", "uriBaseId": "%SRCROOT%"}
    assert second == {"uri": outside.as_uri()}


def test_sarif_drops_duplicate_and_empty_fixes(root, sarif_validator):
    fix = Fix("same", (TextEdit(Span(0, 1), "y"),))
    f = Finding("VR001", Severity.WARNING, "m", Span(0, 1), fixes=(fix, fix, Fix("nothing", ())))
    log = json.loads(render("sarif", [(FileReport("a.prompt", "jinja", None, [f]), "x")], root=str(root)))
    assert not list(sarif_validator.iter_errors(log))
    assert len(log["runs"][0]["results"][0]["fixes"]) == 1


# -- github ---------------------------------------------------------------------------------------------


def test_github_escaping():
    assert escape_data("100%\r\nok: a,b") == "100%25%0D%0Aok: a,b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_commands(reports, root):
    lines = render("github", reports, root=str(root)).splitlines()
    assert lines == [
        "::notice file=prompts/greet.prompt,line=1,col=1,endLine=1,endColumn=1,title=TK001::120 input tokens",
        "::warning file=prompts/greet.prompt,line=4,col=9,endLine=4,endColumn=17,title=VR001::"
        "`nmae` is not a declared input",
        # a multi-line range: GitHub takes columns only on one line
        "::error file=prompts/greet.prompt,line=4,endLine=5,title=TP002::block opened here is never closed",
        "::notice file=prompts/greet.prompt,line=6,col=8,endLine=6,endColumn=13,title=TK007::"
        "cache miss: 100%25 of calls,%0Asee docs",
        "::warning file=bin/blob.prompt,line=1,col=1,endLine=1,endColumn=1,title=IO001::binary file",
    ]


def test_github_escapes_file_property(root):
    f = Finding("VR001", Severity.WARNING, "m", Span(0, 1))
    out = render("github", [(FileReport("dir,a:b/x.prompt", "jinja", None, [f]), "x")], root=str(root))
    assert out.startswith("::warning file=dir%2Ca%3Ab/x.prompt,line=1,")
    assert out.count("\n") == 1


# -- rules doc generator --------------------------------------------------------------------------------

GEN = REPO / "scripts" / "gen_rules_doc.py"


def _gen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GEN), *args], capture_output=True, text=True, timeout=60, check=False, cwd=REPO
    )


def test_gen_rules_doc_prints_every_rule():
    proc = _gen()
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| `")]
    assert len(rows) == len(RULES)
    for row, rule in zip(rows, RULES.values(), strict=True):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells == [f"`{rule.code}`", f"`{rule.name}`", rule.severity.label, rule.summary.replace("|", "\\|")]


def test_gen_rules_doc_write_then_check(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# T\n\n<!-- rules:start -->\nSTALE TABLE\n<!-- rules:end -->\n\nafter\n", encoding="utf-8")
    assert _gen("--check", str(readme)).returncode == 1
    assert _gen("--write", str(readme)).returncode == 0
    text = readme.read_text(encoding="utf-8")
    assert "STALE TABLE" not in text and "`VR001`" in text and text.endswith("<!-- rules:end -->\n\nafter\n")
    assert _gen("--check", str(readme)).returncode == 0
    readme.write_text("# no markers\n", encoding="utf-8")
    proc = _gen("--check", str(readme))
    assert proc.returncode == 1 and "markers" in proc.stderr
