"""`promptls check` as CI runs it: exit codes, formats, selection, config errors; `models`, `schema`, `rules`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLEAN = "---\nmodel: gpt-5.2\ninput:\n  schema:\n    name: string\n  default:\n    name: Ada\n---\nHello {{name}}!\n"
BROKEN = "---\nmodel: gpt-5.2\n---\n{{#if x}}\nunclosed\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "promptls", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "ok.prompt").write_text(CLEAN)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.prompt").write_text(BROKEN)
    (tmp_path / "sub" / "notes.txt").write_text("not a prompt")
    return tmp_path


def test_exit_codes(project):
    assert run("check", "ok.prompt", cwd=project).returncode == 0
    bad = run("check", ".", cwd=project)
    assert bad.returncode == 1
    assert "sub/bad.prompt:4:1: TP002" in bad.stdout.replace(os.sep, "/")
    assert run("check", "missing.prompt", cwd=project).returncode == 2
    # tokens and cost are figures, not findings (issue 16): a clean prompt passes even --fail-on info
    assert run("check", "ok.prompt", "--fail-on", "info", cwd=project).returncode == 0
    assert run("check", ".", "--ignore", "TP002", cwd=project).returncode == 0


def test_json_contract(project):
    res = run("check", ".", "--format", "json", cwd=project)
    data = json.loads(res.stdout)
    assert data["version"] == 4
    files = {f["path"].replace(os.sep, "/"): f for f in data["files"]}
    assert set(files) == {"ok.prompt", "sub/bad.prompt"}
    ok = files["ok.prompt"]
    assert ok["dialect"] == "dotprompt" and ok["model"] == "gpt-5.2" and ok["tokenizer"] == "o200k_base"
    assert ok["exact"] is True and ok["tokens"]["input"] > 0 and isinstance(ok["cost_usd"], float)
    assert [m["role"] for m in ok["tokens"]["messages"]] == ["user"]
    diag = next(d for d in files["sub/bad.prompt"]["diagnostics"] if d["code"] == "TP002")
    assert diag["severity"] == "error" and diag["range"]["start"] == {"line": 3, "character": 0}


def test_select_and_model_override(project):
    res = run("check", ".", "--format", "json", "--select", "VR", "--model", "claude-sonnet-4-6", cwd=project)
    data = json.loads(res.stdout)
    for f in data["files"]:
        assert all(d["code"].startswith("VR") for d in f["diagnostics"])
        assert f["tokens"]["input"] > 0  # the figures stay in the report whatever is selected
        assert f["model"] == "claude-sonnet-4-6" and f["exact"] is False


def test_invalid_config_is_usage_error(project):
    (project / "promptls.toml").write_text('select = ["NOPE999"]\n')
    res = run("check", ".", cwd=project)
    assert res.returncode == 2 and "NOPE999" in res.stderr
    (project / "promptls.toml").write_text("select = [\n")
    res = run("check", ".", cwd=project)
    assert res.returncode == 2 and "invalid TOML" in res.stderr


def test_pyproject_config_is_read(project):
    (project / "pyproject.toml").write_text('[tool.promptls]\nignore = ["TP"]\n')
    assert run("check", ".", cwd=project).returncode == 0


def test_sarif_and_github_formats(project):
    sarif = json.loads(run("check", ".", "--format", "sarif", cwd=project).stdout)
    assert sarif["version"] == "2.1.0"
    assert any(r["ruleId"] == "TP002" for r in sarif["runs"][0]["results"])
    gh = run("check", ".", "--format", "github", cwd=project).stdout
    assert "::error file=sub/bad.prompt,line=4" in gh.replace(os.sep, "/")


def test_models_schema_rules(project):
    res = run("models", "gpt-4o-mini", cwd=project)
    assert res.returncode == 0 and "gpt-4o-mini" in res.stdout
    schema = json.loads(run("schema", cwd=project).stdout)
    assert "select" in schema["properties"]
    rules = json.loads(run("rules", "--json", cwd=project).stdout)
    assert {"VR001", "TK002", "SC001"} <= {r["code"] for r in rules}


def test_bad_inputs_do_not_crash(tmp_path):
    (tmp_path / "huge.prompt").write_text("x" * 20_000_001)
    (tmp_path / "bomb.prompt").write_text(
        "---\na: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "---\nhi\n")
    (tmp_path / "deep.prompt").write_text("---\nmodel: gpt-5.2\n---\n" + "{{#if a}}" * 500 + "x" + "{{/if}}" * 500)
    (tmp_path / "deep.prompty").write_text("---\nmodel: gpt-5.2\n---\nuser:\n" + "{% if a %}" * 500 + "x" +
                                           "{% endif %}" * 500)
    res = run("check", ".", "--format", "json", cwd=tmp_path)
    assert res.returncode in (0, 1), res.stderr
    files = {Path(f["path"]).name: f for f in json.loads(res.stdout)["files"]}
    assert files["huge.prompt"]["skipped"]
    assert any(d["code"] == "FM001" for d in files["bomb.prompt"]["diagnostics"])
    assert "deep.prompt" in files and "deep.prompty" in files
