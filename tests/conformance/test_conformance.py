"""The public suites in ../shared/conformance: every valid Dotprompt/Prompty file yields no error-severity
finding, and each broken Dotprompt example yields the finding its README names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import TODAY, conformance_dir

from promptls.analysis.engine import analyze_path, analyze_text
from promptls.config import Config, from_dict

# The suites are about the formats. Model lifecycle findings (MD: a model retired since the files were written,
# e.g. Prompty's `gpt-4`) are facts about the calendar, not about the format, so they are left out here and
# checked on their own below.
CFG = from_dict({"today": TODAY.isoformat(), "ignore": ["MD"]})[0]


def _files(sub: str, pattern: str) -> list[Path]:
    d = conformance_dir() / sub
    return sorted(d.glob(pattern)) if d.is_dir() else []


def errors(report) -> list[str]:
    return [f"{f.code} {f.message}" for f in report.findings if f.severity.label == "error"]


@pytest.mark.parametrize("path", _files("prompty", "**/*.prompty"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_prompty_files_have_no_errors(conformance, path):
    report, _ = analyze_path(str(path), CFG)
    assert report.skipped is None
    assert errors(report) == []


VALID_DOTPROMPT = [p.name for p in _files("dotprompt/examples", "valid-*.prompt")]


@pytest.mark.parametrize("name", VALID_DOTPROMPT)
def test_valid_dotprompt_examples_have_no_errors(conformance, name):
    report, _ = analyze_path(str(conformance / "dotprompt" / "examples" / name), CFG)
    assert errors(report) == []


def test_operator_in_valid_greeting_is_a_warning(conformance):
    report, _ = analyze_path(str(conformance / "dotprompt" / "examples" / "valid-greeting.prompt"), CFG)
    (f,) = [f for f in report.findings if f.code == "TP010"]
    assert f.severity.label == "warning" and ">=" in f.message


EXPECTED = {  # README: file -> the finding it names (their code -> ours)
    "error-invalid-yaml.prompt": "FM001",
    "error-unclosed-block.prompt": "TP002",
    "error-unmatched-closing-block.prompt": "TP003",
    "error-unbalanced-brace.prompt": "TP004",
    "partials/circular-partial-a.prompt": "PT002",
    "warning-unused-variable.prompt": "VR002",
    "warning-undefined-variable.prompt": "VR001",
    "partials.prompt": "PT001",
}


@pytest.mark.parametrize("name,code", sorted(EXPECTED.items()))
def test_broken_dotprompt_examples_raise_named_finding(conformance, name, code):
    report, _ = analyze_path(str(conformance / "dotprompt" / "examples" / name), CFG)
    assert code in [f.code for f in report.findings], report.findings


def test_multiple_issues_example(conformance):
    report, _ = analyze_path(str(conformance / "dotprompt" / "examples" / "error-multiple-issues.prompt"), CFG)
    found = {f.code for f in report.findings}
    assert {"TP002", "TP004"} & found and "VR001" in found and "TP009" in found


def test_undefined_variable_example_names_both(conformance):
    report, _ = analyze_path(str(conformance / "dotprompt" / "examples" / "warning-undefined-variable.prompt"), CFG)
    assert sorted(f.data["name"] for f in report.findings if f.code == "VR001") == ["age", "email"]


def _spec_cases():
    out = []
    for f in _files("dotprompt/spec", "**/*.yaml"):
        for suite in yaml.safe_load(f.read_text("utf-8")) or []:
            out.append(pytest.param(suite, id=f"{f.stem}/{suite['name']}"))
    return out


@pytest.mark.parametrize("suite", _spec_cases())
def test_dotprompt_spec_templates_have_no_errors(conformance, suite, tmp_path):
    partials = {**(suite.get("partials") or {}), **(suite.get("resolverPartials") or {})}

    def lookup(name: str, _from: str):
        return (f"{name}.prompt", partials[name]) if name in partials else None

    report = analyze_text(str(tmp_path / "spec.prompt"), suite["template"], Config(), partials=lookup, today=TODAY)
    assert errors(report) == []


def test_lifecycle_findings_still_reported_on_the_suites(conformance):
    cfg = from_dict({"today": TODAY.isoformat()})[0]
    report, _ = analyze_path(str(conformance / "prompty" / "spec-fixtures" / "basic.prompty"), cfg)
    assert {f.code for f in report.findings} & {"MD002", "MD003"}  # gpt-4 is retired in the bundled catalog
