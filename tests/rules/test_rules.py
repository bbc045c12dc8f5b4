"""One or more tests per rule code: the finding appears where it should, with the right range, and not
where it shouldn't."""

from __future__ import annotations

import pytest
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


def test_clean_dotprompt_has_only_info(analyze):
    r = analyze("a.prompt", DOT_OK)
    assert {f.severity.label for f in r.findings} <= {"info", "hint"}, r.findings
    assert not {"TK001", "TK004"} & set(codes(r))  # figures are in the report, not findings (issue 16)
    assert r.tokens is not None and r.tokens.exact and r.tokens.tokenizer == "o200k_base"
    assert [m.role for m in r.tokens.messages] == ["system", "user"]


def test_fm001_yaml_error_points_into_frontmatter(analyze):
    text = "---\nmodel: gpt-4o\ninput:\n  schema\n    name: string\n---\nHi\n"
    r = analyze("a.prompt", text)
    (f,) = find(r, "FM001")
    assert 4 <= f.span.start < text.index("\n---\nHi")


def test_fm002_unclosed_frontmatter(analyze):
    r = analyze("a.prompt", "---\nmodel: gpt-4o\nHello\n")
    assert codes(r)[:1] == ["FM002"]


def test_fm003_unknown_key_with_did_you_mean_fix(analyze):
    text = DOT_OK.replace("temperature: 0.5", "temprature: 0.5").replace("config:", "confg:")
    r = analyze("a.prompt", text)
    (f,) = find(r, "FM003")
    assert text[f.span.start:f.span.end] == "confg"
    assert f.fixes and f.fixes[0].edits[0].new_text == "config"


def test_fm003_namespaced_keys_allowed(analyze):
    r = analyze("a.prompt", DOT_OK.replace("model: gpt-4o", "model: gpt-4o\nmyapp.owner: me"))
    assert not find(r, "FM003")


def test_fm004_wrong_type(analyze):
    text = DOT_OK.replace("maxOutputTokens: 200", "maxOutputTokens: lots")
    (f,) = find(analyze("a.prompt", text), "FM004")
    assert text[f.span.start:f.span.end] == "lots"


def test_fm005_bad_enum(analyze):
    text = DOT_OK.replace("---\n{{role", "output:\n  format: jsn\n  schema:\n    a: string\n---\n{{role", 1)
    (f,) = find(analyze("a.prompt", text), "FM005")
    assert f.fixes[0].edits[0].new_text == "json"


def test_fm006_temperature_out_of_range(analyze):
    text = DOT_OK.replace("temperature: 0.5", "temperature: 3.5")
    (f,) = find(analyze("a.prompt", text), "FM006")
    assert text[f.span.start:f.span.end] == "3.5"


PROMPTY_V2 = """---
name: t
model:
  id: gpt-4o
  apiType: chat
  options:
    maxOutputTokens: 100
inputs:
  - name: question
    kind: string
    default: What is up?
---
system:
You help.

user:
{{question}}
"""


def test_fm007_v1_key_in_v2_with_migration_fix(analyze):
    text = PROMPTY_V2.replace("  apiType: chat\n", "  apiType: chat\n  parameters:\n    temperature: 0.2\n")
    r = analyze("a.prompty", text)
    (f,) = find(r, "FM007")
    assert text[f.span.start:f.span.end] == "parameters"
    assert f.fixes and "v2" in f.fixes[0].title


def test_fm008_v2_key_in_v1(analyze):
    text = """---
name: t
model:
  api: chat
  configuration:
    type: openai
    model: gpt-4o
  options:
    temperature: 0.2
sample:
  question: hi
---
user:
{{question}}
"""
    r = analyze("a.prompty", text)
    (f,) = find(r, "FM008")
    assert text[f.span.start:f.span.end] == "options"


def test_fm009_json_output_without_schema(analyze):
    text = DOT_OK.replace("---\n{{role", "output:\n  format: json\n---\n{{role", 1)
    assert find(analyze("a.prompt", text), "FM009")


def test_fm010_dialect_note_for_jinja_dot_prompt(analyze):
    r = analyze("a.prompt", "Hello {{ name | upper }} {% if x %}y{% endif %}\n")
    assert r.dialect == "jinja2"
    assert find(r, "FM010")
    assert not [f for f in r.findings if f.severity.label == "error"]


@pytest.mark.parametrize("body,code", [
    ("{{#if x}}\nopen\n", "TP002"),
    ("hello\n{{/if}}\n", "TP003"),
    ("oops }}\n", "TP004"),
    ("{% if x %}a{% endif %}\n", "TP005"),
])
def test_tp_syntax_codes(analyze, body, code):
    r = analyze("a.prompt", "---\nmodel: gpt-4o\n---\n" + body)
    assert code in codes(r), r.findings


def test_tp001_jinja_syntax_error_position(analyze):
    text = "---\nmodel:\n  id: gpt-4o\n---\nuser:\n{{ name }\n"
    r = analyze("a.prompty", text)
    fs = [f for f in r.findings if f.code in ("TP001", "TP004")]
    assert fs
    assert text.count("\n", 0, fs[0].span.start) == 5  # the broken line


def test_tp007_unknown_dotprompt_role_with_fix(analyze):
    text = DOT_OK.replace('{{role "user"}}', '{{role "usr"}}')
    (f,) = find(analyze("a.prompt", text), "TP007")
    assert text[f.span.start:f.span.end] == "usr"
    assert f.fixes[0].edits[0].new_text == "user"


def test_tp007_prompty_role_typo(analyze):
    text = PROMPTY_V2.replace("system:\n", "sytem:\n")
    (f,) = find(analyze("a.prompty", text), "TP007")
    assert text[f.span.start:f.span.end] == "sytem"


def test_tp008_empty_message(analyze):
    text = DOT_OK.replace("You are kind.\n", "")
    (f,) = find(analyze("a.prompt", text), "TP008")
    assert text[f.span.start:f.span.end] == "system"


def test_tp009_role_block(analyze):
    text = "---\nmodel: gpt-4o\n---\n{{#role \"system\"}}\nBe kind.\n{{/role}}\n"
    r = analyze("a.prompt", text)
    assert find(r, "TP009") and not [f for f in r.findings if f.severity.label == "error"]


def test_vr001_undefined_with_declare_fix(analyze):
    text = DOT_OK.replace("Hello {{name}}!", "Hello {{name}} from {{city}}!")
    (f,) = find(analyze("a.prompt", text), "VR001")
    assert text[f.span.start:f.span.end] == "city"
    edit = f.fixes[0].edits[0]
    fixed = text[:edit.span.start] + edit.new_text + text[edit.span.end:]
    assert not find(analyze("b.prompt", fixed), "VR001")


def test_vr001_scope_aware(analyze):
    text = DOT_OK.replace("Hello {{name}}!", "{{#each items as |it|}}{{it.x}} {{@index}} {{this}}{{/each}}"
                          "{{#with name}}{{length}}{{/with}} {{@root.name}}")
    text = text.replace("    name: string\n", "    name: string\n    items(array): string\n")
    r = analyze("a.prompt", text)
    assert not find(r, "VR001"), r.findings


def test_vr001_off_without_declared_inputs(analyze):
    r = analyze("a.prompt", "---\nmodel: gpt-4o\n---\nHello {{who}}\n")
    assert not find(r, "VR001")


def test_vr002_unused_input_with_removal_fix(analyze):
    text = DOT_OK.replace("    name: string\n", "    name: string\n    extra?: string\n")
    (f,) = find(analyze("a.prompt", text), "VR002")
    assert text[f.span.start:f.span.end] == "extra"
    edit = f.fixes[0].edits[0]
    fixed = text[:edit.span.start] + edit.new_text + text[edit.span.end:]
    assert "extra" not in fixed and not find(analyze("b.prompt", fixed), "VR002")


def test_vr003_required_without_value(analyze):
    text = DOT_OK.replace("  default:\n    name: Ada\n", "")
    (f,) = find(analyze("a.prompt", text), "VR003")
    assert text[f.span.start:f.span.end] == "name"


def test_vr004_sample_type_mismatch(analyze):
    text = PROMPTY_V2.replace("    default: What is up?", "    default: 42")
    (f,) = find(analyze("a.prompty", text), "VR004")
    assert text[f.span.start:f.span.end] == "42"


def test_pt001_missing_partial(analyze):
    text = DOT_OK.replace("Hello {{name}}!", "Hello {{name}}! {{> footer}}")
    (f,) = find(analyze("a.prompt", text), "PT001")
    assert text[f.span.start:f.span.end] == "footer"


def test_pt002_circular_partials(analyze):
    r = analyze("a.prompt", DOT_OK.replace("Hello {{name}}!", "Hello {{name}}! {{> b}}"),
                files={"_b.prompt": "B includes {{> c}}", "_c.prompt": "C includes {{> b}}"})
    assert not find(r, "PT001")
    (f,) = find(r, "PT002")
    assert "b" in f.message and "c" in f.message


def test_rf_rules(analyze):
    text = """---
model:
  id: gpt-4o
  connection:
    endpoint: ${env:ENDPOINT}
    key: ${env:KEY:none}
inputs: ${file:../outside.json}
metadata:
  extra: ${file:missing.json}
---
user:
Hi
"""
    r = analyze("a.prompty", text)
    rf2 = find(r, "RF002")
    assert len(rf2) == 1 and text[rf2[0].span.start:rf2[0].span.end] == "${env:ENDPOINT}"
    assert find(r, "RF001") and find(r, "RF003")


def test_tk002_context_overflow_and_tk003_max_output(analyze):
    text = DOT_OK.replace("maxOutputTokens: 200", "maxOutputTokens: 300000")
    r = analyze("a.prompt", text)
    assert find(r, "TK003")  # above gpt-5.2's 128k max output
    assert find(r, "TK002")  # 300k reserved output > gpt-5.2's 272k window


def test_cost_in_the_report_and_tk005_budget(analyze):
    r = analyze("a.prompt", DOT_OK, config={"cost": {"per-call-budget-usd": 0.0000001}})
    assert not find(r, "TK004") and r.tokens.cost_usd > 0
    (over,) = find(r, "TK005")
    assert over.message.endswith("above the budget of $0.00000010.") and "$0.0000 " not in over.message


def test_tk006_price_tier(analyze):
    big = "word " * 210_000
    text = f"---\nmodel: googleai/gemini-2.5-pro\n---\n{big}\n"
    r = analyze("a.prompt", text)
    assert find(r, "TK006"), [f.code for f in r.findings]


def test_tk007_variable_before_cacheable_prefix(analyze):
    static = "Follow these rules carefully. " * 400
    text = f"---\nmodel: claude-sonnet-4-6\ninput:\n  schema:\n    user: string\n---\nHi {{{{user}}}}.\n{static}\n"
    (f,) = find(analyze("a.prompt", text), "TK007")
    assert text[f.span.start:f.span.end] == "user"


def test_md001_unknown_model_did_you_mean(analyze):
    text = DOT_OK.replace("model: gpt-5.2", "model: gpt-4o-mnii")
    (f,) = find(analyze("a.prompt", text), "MD001")
    assert text[f.span.start:f.span.end] == "gpt-4o-mnii"
    assert any(fx.edits[0].new_text == "gpt-4o-mini" for fx in f.fixes)


def test_md002_deprecated_model_successor_keeps_prefix(analyze):
    from promptls.catalog import load_catalog

    cat = load_catalog()
    dep = next(i for i in cat.search("gemini") if i.successor and i.status(TODAY_) == "deprecated")
    text = f"---\nmodel: googleai/{dep.id.rpartition('/')[2]}\n---\nHi\n"
    (f,) = find(analyze("a.prompt", text), "MD002")
    assert f.fixes[0].edits[0].new_text.startswith("googleai/")


def test_md003_retired_model(analyze):
    from promptls.catalog import load_catalog

    cat = load_catalog()
    gone = next(i for i in cat.search("") if i.status(TODAY_) == "retired" and i.provider == "openai")
    (f,) = find(analyze("a.prompt", f"---\nmodel: {gone.id}\n---\nHi\n"), "MD003")
    assert f.severity.label == "error"


def test_sc001_literal_secret_anywhere(analyze):
    key = "sk-proj-" + "A1b2C3d4" * 6
    text = DOT_OK.replace("You are kind.", f"You are kind. key={key}")
    (f,) = find(analyze("a.prompt", text), "SC001")
    assert text[f.span.start:f.span.end] == key
    assert key not in f.message


def test_io001_binary_and_invalid_utf8(tmp_path):
    from promptls.analysis.engine import analyze_path
    from promptls.config import Config

    (tmp_path / "bin.prompt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "bad.prompt").write_bytes(b"---\nmodel: x\n---\n\xff\xfe bad")
    for name in ("bin.prompt", "bad.prompt"):
        r, _ = analyze_path(str(tmp_path / name), Config())
        assert r.skipped and codes(r) == ["IO001"]


def test_select_ignore_severity_and_inline_suppression(analyze):
    text = DOT_OK.replace("Hello {{name}}!", "Hello {{name}} {{a}}\n{{! promptls-ignore VR001 }}\n{{b}}")
    r = analyze("a.prompt", text)
    undefined = [text[f.span.start:f.span.end] for f in find(r, "VR001")]
    assert undefined == ["a"]
    r = analyze("a.prompt", text, config={"ignore": ["VR"]})
    assert not find(r, "VR001")
    r = analyze("a.prompt", text, config={"select": ["VR001"], "severity": {"VR001": "error"}})
    assert set(codes(r)) == {"VR001"} and r.findings[0].severity.label == "error"
    r = analyze("a.prompt", text, config={"per-file-ignores": {"*.prompt": ["undefined-variable"]}})
    assert not find(r, "VR001")


def test_yaml_comment_suppression(analyze):
    text = DOT_OK.replace("  temperature: 0.5", "  temperature: 5  # promptls-ignore FM006")
    assert not find(analyze("a.prompt", text), "FM006")


def test_every_rule_is_documented():
    for r in RULES.values():
        assert r.summary.endswith(".") and len(r.rationale) > 30, r.code


TODAY_ = __import__("tests.conftest", fromlist=["TODAY"]).TODAY
