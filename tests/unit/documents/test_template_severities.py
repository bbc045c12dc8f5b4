"""Severities that match the engine: what Handlebars accepts is never an error. A `}}` outside a tag (such as the
rest of a `{{! }}` comment that contains `}}`) is rendered as text and sent to the model: a warning saying so."""

from __future__ import annotations

from promptls.analysis.engine import analyze_path
from promptls.config import Config
from promptls.documents.templates.render import render_handlebars


def test_stray_close_is_rendered_as_text_by_the_engine() -> None:
    assert render_handlebars("{{! see {{> name }} here }}\nhi }} there", {}) == " here }}\nhi }} there"


def test_dotprompt_partials_example_warns_that_the_text_reaches_the_model(conformance) -> None:
    report, _ = analyze_path(str(conformance / "dotprompt" / "examples" / "partials.prompt"), Config())
    (stray,) = [f for f in report.findings if f.code == "TP004"]
    assert stray.severity.label == "warning" and "reaches the model" in stray.message
    assert "{{!-- --}}" in stray.message
    assert [f for f in report.findings if f.severity.label == "error"] == []


def test_an_unterminated_open_tag_is_still_an_error(tmp_path) -> None:
    path = tmp_path / "a.prompt"
    path.write_text("---\nmodel: gpt-4o\n---\nHello {{name\n", "utf-8")
    report, _ = analyze_path(str(path), Config())
    assert any(f.code in ("TP001", "TP004") and f.severity.label == "error" for f in report.findings)
