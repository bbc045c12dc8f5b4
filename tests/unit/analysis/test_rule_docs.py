"""Every rule's documented example really fires it: each example is analysed as the file it names (a prompt,
source code, a dataset; an eval case file by the eval loader, `promptls.toml` by the configuration loader), and its
fix, when the rule has one, is there. Rules without an example say why."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from tests.conftest import TODAY

from promptls.analysis.engine import analyze_path
from promptls.config import Config, from_dict
from promptls.core.registry import RULES, FixSafety, Rule

WITH_EXAMPLE = [r for r in RULES.values() if r.example is not None]


def _findings(rule: Rule, folder: Path) -> list[tuple[str, int]]:
    """(code, number of fixes) of what analysing the example reports."""
    example = rule.example
    assert example is not None
    for name, text in example.beside:
        (folder / name).write_text(text, "utf-8")
    path = folder / example.file
    path.write_text(example.text, "utf-8")
    if example.file == "promptls.toml":
        return [("CF001", 0) for _ in from_dict(tomllib.loads(example.text))[1]]
    if example.file.endswith(".tests.yaml"):
        from promptls.eval.cases import load_path

        return [("EV002", 0) for _ in load_path(str(path)).findings]
    config, errors = from_dict(tomllib.loads(example.config)) if example.config else (Config(), [])
    assert not errors, errors
    report, _ = analyze_path(str(path), config, today=TODAY)
    return [(f.code, len(f.fixes)) for f in report.findings]


@pytest.mark.parametrize("rule", WITH_EXAMPLE, ids=lambda r: r.code)
def test_example_fires_its_rule(rule: Rule, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    found = _findings(rule, tmp_path)
    fixes = [n for code, n in found if code == rule.code]
    assert fixes, f"{rule.code}'s example reports {[code for code, _ in found]}"
    if rule.fix is FixSafety.NONE:
        assert not any(fixes), f"{rule.code} is declared without a fix, but its example offers one"
    else:
        assert any(fixes), f"{rule.code} declares a {rule.fix.value} fix, but its example offers none"


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.code)
def test_every_rule_is_documented_once(rule: Rule):
    assert (rule.example is None) != (not rule.no_example), f"{rule.code}: an example, or why there is none"
    assert rule.summary.endswith(".") and rule.rationale.endswith("."), rule.code
    assert (rule.fix is FixSafety.NONE) == (not rule.fix_doc), f"{rule.code}: a fix says what it does"
    assert rule.example is None or rule.example.text.endswith("\n"), rule.code


def test_lsp_tags_come_from_the_rules():
    from lsprotocol import types as lsp

    from promptls.core.findings import Finding
    from promptls.core.positions import LineIndex, Span
    from promptls.lsp.convert import to_diagnostic

    tagged = {code: to_diagnostic(LineIndex("x\n"), Finding(code, r.severity, "m", Span(0, 1))).tags
              for code, r in RULES.items()}
    assert {code: tags for code, tags in tagged.items() if tags} == {
        "VR002": [lsp.DiagnosticTag.Unnecessary],
        **{code: [lsp.DiagnosticTag.Deprecated] for code in ("MD002", "MD003", "SD004", "SD007")}}


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.code)
def test_rule_page_and_listing(rule: Rule):
    from promptls.core.rule_docs import render_rule, render_rules_table, rules_json

    page = render_rule(rule.code)
    assert page is not None and page == render_rule(rule.code.lower())
    assert page.startswith(f"# {rule.name} ({rule.code})\n") and rule.rationale in page
    assert (rule.example.text if rule.example else rule.no_example) in page
    assert (rule.fix_doc in page) if rule.fix_doc else "## Fix safety" not in page
    line = f"{rule.code}  {rule.name:<30} {rule.severity.label:<8} {rule.summary}"
    assert line in render_rules_table().splitlines()
    assert {"code": rule.code, "fix": rule.fix.value, "summary": rule.summary}.items() <= \
        next(r for r in rules_json() if r["code"] == rule.code).items()
    assert render_rule("NO999") is None


def test_rule_names_are_unique() -> None:
    """`select`/`ignore` accept names: two rules with one name would make a name select only one of them."""
    from promptls.core.registry import RULES

    names = [r.name for r in RULES.values()]
    assert len(set(names)) == len(names), sorted({n for n in names if names.count(n) > 1})


def test_rules_command_explains_one_rule(capsys) -> None:
    from promptls.cli import main

    assert main(["rules", "SD001"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("# anthropic-max-tokens-missing (SD001)") and "## Fix safety" in page
    assert main(["rules", "no-such-rule"]) == 2
