"""What the rule fixtures (`tests/rules/<CODE>/`, test_fixtures.py) do not show: the token report of a prompt,
the dialect a guess settles on, that a quick fix applied leaves a clean file, that the message of a secret never
holds it, why a file is skipped, and how configuration selects, ignores and re-grades findings."""

from __future__ import annotations

from tests.conftest import codes

from promptls.core.registry import RULES

DOT_OK = """---
model: gpt-5.2
config:
  temperature: 0.5
  maxOutputTokens: 200
input:
  schema:
    name: string
  default:
    name: Ada
---
{{role "system"}}
You are kind.
{{role "user"}}
Hello {{name}}!
"""


def find(report, code):
    return [f for f in report.findings if f.code == code]


def test_clean_dotprompt_token_report(analyze):
    # its findings (none) are the snapshot of tests/rules/TK001 and TK004
    r = analyze("a.prompt", DOT_OK)
    assert r.tokens is not None and r.tokens.exact and r.tokens.tokenizer == "o200k_base"
    assert [m.role for m in r.tokens.messages] == ["system", "user"]


def test_fm010_dialect_of_jinja_dot_prompt(analyze):
    # its findings are the snapshot of tests/rules/FM010
    r = analyze("a.prompt", "Hello {{ name | upper }} {% if x %}y{% endif %}\n")
    assert r.dialect == "jinja2"


def test_vr001_declare_fix_leaves_no_undefined_variable(analyze):
    text = DOT_OK.replace("Hello {{name}}!", "Hello {{name}} from {{city}}!")
    (f,) = find(analyze("a.prompt", text), "VR001")
    edit = f.fixes[0].edits[0]
    fixed = text[:edit.span.start] + edit.new_text + text[edit.span.end:]
    assert not find(analyze("b.prompt", fixed), "VR001")


def test_vr002_removal_fix_leaves_no_unused_input(analyze):
    text = DOT_OK.replace("    name: string\n", "    name: string\n    extra?: string\n")
    (f,) = find(analyze("a.prompt", text), "VR002")
    edit = f.fixes[0].edits[0]
    fixed = text[:edit.span.start] + edit.new_text + text[edit.span.end:]
    assert "extra" not in fixed and not find(analyze("b.prompt", fixed), "VR002")


def test_cost_in_the_report(analyze):
    # the findings under this budget are the snapshot of tests/rules/TK005
    r = analyze("a.prompt", DOT_OK, config={"cost": {"per-call-budget-usd": 0.0000001}})
    assert r.tokens.cost_usd > 0


def test_sc001_literal_secret_anywhere(analyze):
    key = "sk-proj-" + "A1b2C3d4" * 6
    text = DOT_OK.replace("You are kind.", f"You are kind. key={key}")
    (f,) = find(analyze("a.prompt", text), "SC001")
    assert text[f.span.start:f.span.end] == key
    assert key not in f.message


def test_io001_binary_and_invalid_utf8_are_skipped(tmp_path):
    # their findings are the snapshot of tests/rules/IO001
    from promptls.analysis.engine import analyze_path
    from promptls.config import Config

    (tmp_path / "bin.prompt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "bad.prompt").write_bytes(b"---\nmodel: x\n---\n\xff\xfe bad")
    for name in ("bin.prompt", "bad.prompt"):
        r, _ = analyze_path(str(tmp_path / name), Config())
        assert r.skipped and codes(r) == ["IO001"]


def test_select_ignore_severity_and_per_file_ignores(analyze):
    # without configuration: the snapshot of tests/rules/VR001/suppressed.prompt
    text = DOT_OK.replace("Hello {{name}}!", "Hello {{name}} {{a}}\n{{! promptls-ignore VR001 }}\n{{b}}")
    r = analyze("a.prompt", text, config={"ignore": ["VR"]})
    assert not find(r, "VR001")
    r = analyze("a.prompt", text, config={"select": ["VR001"], "severity": {"VR001": "error"}})
    assert set(codes(r)) == {"VR001"} and r.findings[0].severity.label == "error"
    r = analyze("a.prompt", text, config={"per-file-ignores": {"*.prompt": ["undefined-variable"]}})
    assert not find(r, "VR001")


def test_every_rule_is_documented():
    for r in RULES.values():
        assert r.summary.endswith(".") and len(r.rationale) > 30, r.code
