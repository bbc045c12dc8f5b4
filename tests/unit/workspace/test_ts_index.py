"""TS/JS modules in the workspace index (tests/fixtures/tsapp): named, default and namespace imports,
re-exports (`export { x as y } from`, `export *`), CommonJS `require` (whole module and destructured) and tsconfig
`paths`; and a test double that proves nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promptls import config as cfgmod
from promptls.analysis.engine import analyze_path
from promptls.workspace import WorkspaceIndex

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "tsapp"


@pytest.fixture(scope="module")
def index() -> WorkspaceIndex:
    return WorkspaceIndex.build([ROOT])


@pytest.fixture(scope="module")
def config():
    return cfgmod.from_dict({"today": "2026-06-01", "deployments": {"support-gpt4o-prod": "gpt-4o"}})[0]


def codes_by_function(index, config, rel: str) -> dict[str, list[str]]:
    path = ROOT / rel
    text = path.read_text()
    report, _ = analyze_path(str(path), config, workspace=index)
    out: dict[str, list[str]] = {}
    for f in report.findings:
        names = re.findall(r"function (\w+)", text[:f.span.start])
        out.setdefault(names[-1] if names else "<module>", []).append(f.code)
    return out


def test_specifiers_resolve(index):
    service = str(ROOT / "src" / "service.ts")
    clients = str(ROOT / "src" / "lib" / "clients.ts")
    assert index.resolve_specifier(service, "@/lib/clients") == clients  # tsconfig paths
    assert index.resolve_specifier(service, "./lib/clients") == clients
    assert index.resolve_specifier(service, "./lib") == str(ROOT / "src" / "lib" / "index.ts")
    assert index.resolve_specifier(service, "./lib/clients.js") == clients  # the compiled name
    assert index.resolve_specifier(service, "openai") is None


def test_every_import_form_reaches_the_client(index, config):
    codes = codes_by_function(index, config, "src/service.ts")
    for fn in ("named", "viaDefault", "viaNamespace"):
        assert "SD001" in codes[fn] and "MD002" in codes[fn], (fn, codes)  # MODEL from config.ts: deprecated
    assert "MD003" in codes["viaReexport"] and "SD001" not in codes["viaReexport"]  # `export *` constant
    assert codes["onAzure"] == ["MD002"]  # the deployment maps to gpt-4o; never MD001


def test_commonjs_require(index, config):
    codes = codes_by_function(index, config, "src/legacy.js")
    assert codes["answer"] == ["SD001", "MD002"]


def test_a_test_double_is_not_a_client(index, config):
    report, _ = analyze_path(str(ROOT / "src" / "service.test.ts"), config, workspace=index)
    assert report.findings == [] and report.calls == []


def test_related_and_dependents(index, config):
    report, _ = analyze_path(str(ROOT / "src" / "service.ts"), config, workspace=index)
    related = {r.message for f in report.findings for r in f.related}
    assert any(m.startswith("client `claude` created in") and "lib/clients.ts:4 as `Anthropic`" in m
               for m in related), related
    deps = index.transitive_dependents(str(ROOT / "src" / "lib" / "config.ts"))
    assert {str(ROOT / "src" / "service.ts"), str(ROOT / "src" / "legacy.js"),
            str(ROOT / "src" / "lib" / "index.ts")} <= deps
