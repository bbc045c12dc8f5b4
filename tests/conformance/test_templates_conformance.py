"""The Dotprompt spec suites (google/dotprompt `spec/*.yaml`): every template analyses cleanly and the
Handlebars renderer reproduces the expected messages (text, media and section parts, roles)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import yaml
from tests.conftest import conformance_dir

from promptls.documents.prompt.frontmatter import split
from promptls.documents.templates.dotprompt_messages import Message, to_messages
from promptls.documents.templates.handlebars import analyze_handlebars
from promptls.documents.templates.render import render_handlebars

# Located as tests/conftest.py does (the `conformance` fixture cannot feed parametrize).
SPEC_DIR = conformance_dir() / "dotprompt" / "spec"


def _suites() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if not SPEC_DIR.is_dir():
        return out
    for path in sorted(SPEC_DIR.rglob("*.yaml")):
        for suite in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            out.append((f"{path.relative_to(SPEC_DIR).with_suffix('')}/{suite['name']}", suite))
    return out


SUITES = _suites()
CASES = [
    pytest.param(suite, test, id=f"{sid}/{test.get('desc', i)}")
    for sid, suite in SUITES
    for i, test in enumerate(suite.get("tests", []))
]


def _body(template: str) -> tuple[str, int]:
    fm = split(template)
    if fm.present:
        # Dotprompt trims the body of a template that has frontmatter (parse.ts parseDocument).
        body = template[fm.body_start :]
        return body.strip(), fm.body_start + (len(body) - len(body.lstrip()))
    return template, 0


def test_spec_suites_found() -> None:
    if not SPEC_DIR.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Dotprompt spec suites missing at {SPEC_DIR} (required under CI=true)")
        pytest.skip(f"Dotprompt spec suites not found at {SPEC_DIR}")
    assert len(SUITES) >= 40
    assert len(CASES) >= 60


@pytest.mark.parametrize(("sid", "suite"), SUITES, ids=[s for s, _ in SUITES])
def test_spec_template_analyses_without_issues(sid: str, suite: dict[str, Any]) -> None:
    body, base = _body(suite["template"])
    info = analyze_handlebars(body, base)
    assert info.issues == []
    for ref in info.refs:
        assert suite["template"][ref.span.start : ref.span.end].endswith(ref.path.split(".")[-1])
    for name, partial in (suite.get("partials") or {}).items():
        assert analyze_handlebars(partial).issues == [], name
    for name, partial in (suite.get("resolverPartials") or {}).items():
        assert analyze_handlebars(partial).issues == [], name


def _expected(expect_messages: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    out = []
    for msg in expect_messages:
        parts = []
        for part in msg["content"]:
            if "text" in part:
                parts.append(("text", part["text"]))
            elif "media" in part:
                parts.append(("media", part["media"]))
            elif "metadata" in part and part["metadata"].get("pending"):
                parts.append(("section", part["metadata"]["purpose"]))
            else:
                parts.append(("other", part))
        out.append((msg["role"], parts))
    return out


def _actual(messages: list[Message]) -> list[tuple[str, list[Any]]]:
    out = []
    for msg in messages:
        if msg.history is not None:
            out.append((msg.role, _expected([msg.history])[0][1]))
            continue
        parts: list[Any] = []
        for part in msg.parts:
            if part.text is not None:
                parts.append(("text", part.text))
            elif part.media is not None:
                parts.append(("media", part.media))
            else:
                parts.append(("section", part.section))
        out.append((msg.role, parts))
    return out


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_spec_render_matches_expected_messages(suite: dict[str, Any], case: dict[str, Any]) -> None:
    expect = case.get("expect", {})
    if "messages" not in expect:
        pytest.skip("the case checks metadata only")
    data = {**(suite.get("data") or {}), **(case.get("data") or {})}
    defaults = ((case.get("options") or {}).get("input") or {}).get("default") or {}
    inputs = {**defaults, **(data.get("input") or {})}
    partials = {**(suite.get("resolverPartials") or {}), **(suite.get("partials") or {})}
    body, _ = _body(suite["template"])

    rendered = render_handlebars(body, inputs, partials=partials.get, context=data.get("context"))
    history = data.get("messages")
    expected = expect["messages"]
    if history:
        # History messages come back with `metadata.purpose: history`; compare their content only.
        expected = [{k: v for k, v in m.items() if k != "metadata"} for m in expected]
    assert _actual(to_messages(rendered, history)) == _expected(expected)
