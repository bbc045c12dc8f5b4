"""The providers' lifecycle table (data/model_lifecycle.json) merged with LiteLLM's list: retired ids stay known,
provider dates win, a date only LiteLLM gives warns but never makes a model retired, the files are verified."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from promptls.catalog import load_catalog
from promptls.catalog.data_file import CatalogDataError, parse_catalog, verify_lifecycle

REPO = Path(__file__).resolve().parents[3]
TODAY = date(2026, 12, 7)


def _lifecycle() -> dict:
    return json.loads(resources.files("promptls").joinpath("data", "model_lifecycle.json").read_text("utf-8"))


def _prompt(model: str) -> str:
    return f"---\nmodel: {model}\n---\nHello.\n"


def _md(report) -> list:
    return [f for f in report.findings if f.code.startswith("MD")]


def _analyze(tmp_path: Path, text: str, today: date = TODAY, config: dict | None = None):
    from promptls.analysis.engine import analyze_path
    from promptls.config import Config, from_dict

    path = tmp_path / "a.prompt"
    path.write_text(text, "utf-8")
    cfg, errs = from_dict(config) if config else (Config(), [])
    assert not errs
    return analyze_path(str(path), cfg, today=today)[0]


@pytest.mark.parametrize(
    ("model", "day", "use"),
    [
        ("claude-3-opus-20240229", "2026-01-05", None),  # its successor (Opus 4.1) is gone too: said, not offered
        ("claude-3-opus-latest", "2026-01-05", None),
        ("gpt-4-32k", "2025-06-06", "gpt-4o"),
        ("text-davinci-003", "2024-01-04", "gpt-3.5-turbo-instruct"),
        ("vertexai/gemini-1.0-pro", "2025-04-09", "vertexai/gemini-2.5-pro"),
        ("claude-opus-4-0", "2026-06-15", "claude-opus-4-8"),
        ("azure/gpt-35-turbo-0613", "2025-02-13", "azure/gpt-4o-mini"),
    ],
)
def test_retired_ids_litellm_dropped_stay_known(tmp_path: Path, model: str, day: str, use: str | None) -> None:
    (finding,) = _md(_analyze(tmp_path, _prompt(model)))
    assert finding.code == "MD003" and finding.severity.label == "error"
    assert f"was retired on {day}" in finding.message and "Unknown model" not in finding.message
    if use is None:
        assert "was retired too" in finding.message and not finding.fixes
    else:
        assert f"use `{use}`" in finding.message
        assert finding.fixes[0].edits[0].new_text == use


def test_claude_3_opus_names_its_successor(tmp_path: Path) -> None:
    (finding,) = _md(_analyze(tmp_path, _prompt("claude-3-opus-20240229")))
    assert "`claude-opus-4-1-20250805` was retired too on 2026-08-05" in finding.message


def test_today_pin_before_the_shutdown_makes_it_deprecated(tmp_path: Path) -> None:
    report = _analyze(tmp_path, _prompt("claude-3-opus-20240229"), config={"today": "2025-12-01"})
    (finding,) = _md(report)
    assert finding.code == "MD002" and "shuts down on 2026-01-05" in finding.message
    assert finding.fixes[0].edits[0].new_text == "claude-opus-4-1-20250805"  # still serving on that day


def test_a_date_only_litellm_gives_is_a_warning_never_retired(tmp_path: Path) -> None:
    info = load_catalog().get("gpt-4o")
    assert info is not None and info.date_source == "litellm" and info.deprecation_date is not None
    after = date.fromordinal(info.deprecation_date.toordinal() + 30)
    (finding,) = _md(_analyze(tmp_path, _prompt("gpt-4o"), today=after))
    assert finding.code == "MD002" and finding.severity.label == "warning"
    assert "deprecated per LiteLLM" in finding.message and info.deprecation_date.isoformat() in finding.message


def test_provider_date_beats_litellm_on_the_bundled_catalog() -> None:
    # LiteLLM 1.110.2 dates gpt-4 too; OpenAI's page (in the lifecycle table) is what the catalog carries.
    info = load_catalog().get("gpt-4")
    assert info is not None and info.date_source == "provider"
    assert info.lifecycle_url == "https://developers.openai.com/api/docs/deprecations"


def test_lifecycle_table_is_well_formed_and_fully_merged() -> None:
    doc = _lifecycle()
    ids = [m["id"] for m in doc["models"]]
    assert len(ids) == len(set(ids)) and isinstance(doc["meta"]["version"], int)
    cat = load_catalog()
    for entry in doc["models"]:
        assert entry["url"].startswith("https://") and date.fromisoformat(entry["read"]) <= date.today()
        assert entry["evidence"] in doc["meta"]["evidence"]
        for key in (entry["id"], *entry["aliases"]):
            info = cat.resolve(key).info
            assert info is not None and info.id == entry["id"], key
            if entry["shutdown"]:
                assert info.deprecation_date == date.fromisoformat(entry["shutdown"]) and info.date_confirmed
    must = {"claude-3-opus-20240229", "gpt-4-32k", "text-davinci-003", "gemini-1.0-pro"}
    assert must <= set(ids)
    assert {m["provider"] for m in doc["models"]} >= {"anthropic", "openai", "gemini", "vertex_ai", "azure", "mistral"}


def test_bundled_catalog_was_built_from_this_lifecycle_table() -> None:
    data = resources.files("promptls").joinpath("data")
    meta = json.loads(data.joinpath("model_catalog.json").read_text("utf-8"))["meta"]
    raw = data.joinpath("model_lifecycle.json").read_bytes()
    assert meta["lifecycle_sha256"] == hashlib.sha256(raw).hexdigest()
    assert meta["lifecycle_version"] == _lifecycle()["meta"]["version"]
    assert load_catalog().source.lifecycle_sha256 == meta["lifecycle_sha256"]
    verify_lifecycle(meta, raw)
    with pytest.raises(CatalogDataError, match=r"rebuild with scripts/build_catalog\.py"):
        verify_lifecycle(meta, raw + b"\n")


def _build_script():
    spec = importlib.util.spec_from_file_location("build_catalog", REPO / "scripts" / "build_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_merge_rule_provider_wins_on_small_inputs(tmp_path: Path) -> None:
    litellm = {
        "claude-x-1": {"litellm_provider": "anthropic", "mode": "chat", "max_input_tokens": 200000,
                       "deprecation_date": "2026-05-01", "successor_model": "claude-x-2"},
        "claude-x-2": {"litellm_provider": "anthropic", "mode": "chat", "deprecation_date": "2027-01-01"},
        "claude-x-3": {"litellm_provider": "anthropic", "mode": "chat"},
        "claude-x-2-latest": {"alias_of": "claude-x-2"},
    }
    url = "https://example.invalid/deprecations"
    lifecycle = {"meta": {"version": 7}, "models": [
        {"id": "claude-x-1", "provider": "anthropic", "aliases": [], "deprecated": "2025-06-30",
         "shutdown": "2026-01-05", "successor": "claude-x-3", "url": url, "read": "2026-12-07", "evidence": "page"},
        {"id": "claude-x-0", "provider": "anthropic", "aliases": ["claude-x-0-latest"], "deprecated": None,
         "shutdown": "2025-01-01", "successor": "claude-x-1", "url": url, "read": "2026-12-07", "evidence": "page"},
        {"id": "claude-x-2", "provider": "anthropic", "aliases": [], "deprecated": None, "shutdown": None,
         "successor": None, "url": url, "read": "2026-12-07", "evidence": "page"},
    ]}
    src, lc, out = tmp_path / "prices.json", tmp_path / "lc.json", tmp_path / "catalog.json"
    src.write_text(json.dumps(litellm))
    lc.write_text(json.dumps(lifecycle))
    script = _build_script()
    assert script.main([str(src), "--source-version", "1.0.0", "--out", str(out), "--lifecycle", str(lc)]) == 0
    document = json.loads(out.read_text())
    assert document["meta"]["lifecycle_version"] == 7
    assert document["meta"]["lifecycle_sha256"] == hashlib.sha256(lc.read_bytes()).hexdigest()
    data = parse_catalog(document)
    one = data.models["claude-x-1"]
    # The provider's date and successor win over LiteLLM's; LiteLLM's limits stay.
    assert (one.deprecation_date, one.successor, one.date_source) == (date(2026, 1, 5), "claude-x-3", "provider")
    assert one.deprecated_on == date(2025, 6, 30) and one.context_window == 200000 and one.lifecycle_url == url
    # A provider entry without a date keeps LiteLLM's, still marked as LiteLLM's.
    two = data.models["claude-x-2"]
    assert (two.deprecation_date, two.date_source) == (date(2027, 1, 1), "litellm")
    assert two.status(date(2028, 1, 1)) == "deprecated"
    # An id LiteLLM does not have becomes a row; its alias resolves to it.
    zero = data.models["claude-x-0"]
    assert zero.status(date(2026, 1, 1)) == "retired" and zero.context_window is None
    assert document["aliases"]["claude-x-0-latest"] == "claude-x-0"
    assert data.models["claude-x-3"].deprecation_date is None


def test_merge_reports_a_disagreement(tmp_path: Path) -> None:
    models = {"m": ["openai", "chat", None, None, None, None, None, None, "2026-05-01", None, 0, None, None,
                    "litellm", None]}
    warnings: list[str] = []
    lifecycle = {"models": [{"id": "m", "provider": "openai", "aliases": [], "shutdown": "2026-01-05",
                             "successor": None, "url": "https://example.invalid", "read": "2026-12-07"}]}
    assert _build_script().merge_lifecycle(models, {}, lifecycle, warnings) == 0
    assert models["m"][8] == "2026-01-05" and models["m"][13] == "provider"
    assert warnings == ["m: LiteLLM says 2026-05-01, the provider 2026-01-05; provider wins"]


def test_models_retired_command_honours_the_today_pin(tmp_path: Path) -> None:
    def models(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "promptls", "models", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    res = models("--retired", "claude-3-opus")
    assert res.returncode == 0 and "claude-3-opus-20240229" in res.stdout and "retired 2026-01-05" in res.stdout
    assert "bedrock" not in res.stdout  # Bedrock's own ids keep their own schedule
    (tmp_path / "promptls.toml").write_text('today = "2025-12-01"\n')
    res = models("--retired", "claude-3-opus")
    assert res.returncode == 1 and "claude-3-opus-20240229" not in res.stdout
    rows = json.loads(models("--retired", "--json", "gpt-4-32k").stdout)
    assert {r["id"] for r in rows} >= {"gpt-4-32k", "gpt-4-32k-0613"} and {r["status"] for r in rows} == {"retired"}
