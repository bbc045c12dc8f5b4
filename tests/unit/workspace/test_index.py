"""The workspace index over a realistic application repository (tests/fixtures/llmapp): every form of
cross-module client and constant, and every negative (test doubles, look-alikes, Azure deployments, self-hosted
servers)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from promptls import config as cfgmod
from promptls.analysis.engine import analyze_path
from promptls.documents.code.python_sites import extract_python
from promptls.workspace import WorkspaceIndex, list_python_files

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "llmapp"


@pytest.fixture(scope="module")
def index() -> WorkspaceIndex:
    return WorkspaceIndex.build([ROOT])


@pytest.fixture(scope="module")
def config():
    cfg, errors, _ = cfgmod.load(ROOT)
    assert not errors
    return cfg


def findings(index, config, rel: str, *, with_index: bool = True):
    report, _ = analyze_path(str(ROOT / rel), config, workspace=index if with_index else None)
    return report


def by_function(report, text: str) -> dict[str, list[str]]:
    """Finding codes per enclosing function (the nearest `def` above each finding)."""
    out: dict[str, list[str]] = {}
    for f in report.findings:
        defs = re.findall(r"^\s*(?:async )?def (\w+)", text[:f.span.start], re.MULTILINE)
        out.setdefault(defs[-1] if defs else "<module>", []).append(f.code)
    return out


def test_modules_and_imports(index):
    assert {"app", "app.clients", "app.config", "app.service", "app.packaged", "doubles"} <= set(
        index.by_name)
    service = index.module_at(str(ROOT / "app" / "service.py"))
    assert service.imports["claude"] == ("app.clients", "claude")
    assert service.imports["config"] == ("app", "config")
    init = index.module_at(str(ROOT / "app" / "__init__.py"))
    assert init.imports["default_claude"] == ("app.clients", "claude")  # relative import resolved


def test_service_calls_resolve_across_modules(index, config):
    text = (ROOT / "app" / "service.py").read_text()
    report = findings(index, config, "app/service.py")
    codes = by_function(report, text)
    # the module imports no SDK: every client comes from app.clients
    for fn in ("answer", "direct", "from_factory", "from_unannotated_factory", "with_options", "asynchronous",
               "unpacked"):
        assert "SD001" in codes.get(fn, []), (fn, codes)
    assert "MD003" in codes["retired_default"]  # a parameter default holding a retired id
    assert "MD003" in codes["retired_constant"]  # a retired id in another module's constant
    assert "TK003" in codes["over_limit"]  # a limit from another module's constant
    assert "ok" not in codes or "SD001" not in codes["ok"]
    # endpoint-aware: an Azure deployment mapped by [deployments] shows gpt-4o's facts (deprecated), no MD001;
    # self-hosted servers serve their own ids
    assert "MD001" not in codes.get("on_azure", [])
    azure = next(f for f in report.findings if f.code == "MD002" and "Azure deployment" in f.message)
    assert azure.message.startswith("Azure deployment `support-gpt4o-prod` serves `gpt-4o`")
    assert codes.get("on_vllm", []) == [] and codes.get("on_ollama", []) == []
    # the constants' values are known: the system prompt is the dedented f-string of constants
    support = next(e for e in report.calls if e.site.receiver == "self.client")
    assert support.request.system.value == "\nYou are a support agent.\nAnswer briefly.\n"


def test_without_the_index_the_service_module_has_no_calls(config):
    report = findings(None, config, "app/service.py", with_index=False)
    assert report.findings == [] and report.calls == []


def test_related_information_explains_the_chain(index, config):
    report = findings(index, config, "app/service.py")
    sd001 = [f for f in report.findings if f.code == "SD001"]
    messages = [r.message for f in sd001 for r in f.related]
    assert any(m.startswith("client `claude` created in ") and "app/clients.py:7 as `anthropic.Anthropic`" in m
               for m in messages), messages
    assert any("client `async_claude` created in" in m and "`AsyncAnthropic`" in m for m in messages)
    md003 = next(f for f in report.findings if f.code == "MD003" and any("RETIRED_MODEL" in r.message
                                                                       for r in f.related))
    assert md003.fixes == ()  # the id is written in app/config.py: no edit of this file would fix it
    rel = next(r for r in md003.related if "RETIRED_MODEL" in r.message)
    assert rel.path.endswith("app/config.py") and rel.line == 5


def test_packaged_module_import_reexport_and_alias(index, config):
    report = findings(index, config, "app/packaged.py")
    assert [f.code for f in report.findings].count("SD001") == 3


def test_annotated_parameters_are_proven_look_alikes_are_not(index, config):
    text = (ROOT / "app" / "annotated.py").read_text()
    codes = by_function(findings(index, config, "app/annotated.py"), text)
    assert "SD001" in codes["summarize"] and "SD001" in codes["summarize_async"] and "SD001" in codes["ask"]
    assert "anything" not in codes


def test_test_doubles_give_nothing(index, config):
    report = findings(index, config, "tests/doubles.py")
    assert report.findings == [] and report.calls == []
    assert findings(None, config, "tests/doubles.py", with_index=False).findings == []


def test_unmapped_azure_deployment_gives_no_md001(index):
    cfg, _ = cfgmod.from_dict({"today": "2026-06-01"})
    report, _ = analyze_path(str(ROOT / "app" / "service.py"), cfg, workspace=index)
    azure = [e for e in report.calls if e.site.receiver == "azure"]
    assert azure and azure[0].info is None
    assert not any(f.code.startswith("MD") and f.span.start >= azure[0].site.span.start
                   and f.span.end <= azure[0].site.span.end for f in report.findings)


def test_mapped_azure_and_self_hosted_resolve_to_catalog_entries(index, config):
    report = findings(index, config, "app/service.py")
    infos = {e.site.receiver: e.info for e in report.calls}
    assert infos["azure"] is not None and infos["azure"].id.endswith("gpt-4o")
    assert infos["vllm"] is not None and "qwen2.5-7b-instruct" in infos["vllm"].id.lower()
    assert infos["local_ollama"] is not None and "qwen2.5-7b-instruct" in infos["local_ollama"].id.lower()


def test_fingerprints_and_dependents(tmp_path):
    shutil.copytree(ROOT, tmp_path / "repo")
    root = tmp_path / "repo"
    index = WorkspaceIndex.build([root])
    config_py = root / "app" / "config.py"
    deps = {os.path.relpath(p, root) for p in index.transitive_dependents(str(config_py))}
    assert {"app/service.py", os.path.join("app", "__init__.py")} - {"app/__init__.py"} <= deps
    assert "app/service.py" in deps and "app/clients.py" not in deps
    text = config_py.read_text()
    # a comment changes no exported symbol: nothing to re-analyse
    assert index.update(str(config_py), text + "\n# a comment\n") == set()
    # a changed constant does: its importers, directly or through re-exports
    changed = index.update(str(config_py), text.replace('"claude-sonnet-4-5"', '"claude-2.1"'))
    assert str(root / "app" / "service.py") in changed
    env = index.env_for(str(root / "app" / "service.py"))
    assert env.constant("MODEL")[0].value == "claude-2.1"
    # the service module's next analysis sees the new value
    doc = extract_python(str(root / "app" / "service.py"), (root / "app" / "service.py").read_text(), env)
    assert doc.calls[0].args["model"].value == "claude-2.1"


def test_gitignore_is_honoured(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "r"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "clients.py").write_text("import anthropic\nclaude = anthropic.Anthropic(timeout=5)\n")
    (repo / "generated").mkdir()
    (repo / "generated" / "big.py").write_text("X = 1\n")
    (repo / ".gitignore").write_text("generated/\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=60)
    files = {os.path.relpath(f, repo) for f in list_python_files(str(repo))}
    assert files == {"pkg/__init__.py", "pkg/clients.py"}


def test_walk_without_git_skips_tool_folders(tmp_path):
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "y.py").write_text("")
    (tmp_path / "a.py").write_text("")
    files = {os.path.relpath(f, tmp_path) for f in list_python_files(str(tmp_path))}
    assert files == {"a.py"}
