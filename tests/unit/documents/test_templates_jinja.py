"""Jinja2 analysis: free variables per occurrence (scope-aware), locals, includes, syntax errors with spans."""

from __future__ import annotations

import sys

import pytest

from promptls.documents.templates.jinja import analyze_jinja
from promptls.documents.templates.model import TemplateInfo

PREFIX = "---\nname: x\n---\n"


def analyse(body: str) -> tuple[str, TemplateInfo]:
    doc = PREFIX + body
    return doc, analyze_jinja(body, len(PREFIX))


def refs(body: str) -> list[tuple[str, str, str]]:
    doc, info = analyse(body)
    return [(r.root, r.path, doc[r.span.start : r.span.end]) for r in info.refs]


def issues(body: str) -> list[tuple[str, str]]:
    doc, info = analyse(body)
    return [(i.kind, doc[i.span.start : i.span.end]) for i in info.issues]


def test_importing_the_jinja_api_does_not_import_jinja2() -> None:
    # The analyser module is loaded on first use, so server start-up stays fast.
    import importlib

    mod = importlib.import_module("promptls.documents.templates.jinja")
    assert "jinja2" not in mod.__dict__ and "jinja_analysis" not in mod.__dict__


def test_every_occurrence_of_a_free_variable_has_its_own_span() -> None:
    doc, info = analyse("{{ name }} and {{ name|upper }} and {{name}}")
    spans = [(r.span.start - len(PREFIX), doc[r.span.start : r.span.end]) for r in info.refs]
    assert spans == [(3, "name"), (18, "name"), (38, "name")]


def test_loop_variables_are_not_free_but_the_iterable_is() -> None:
    body = "{% for user in users %}{{ user.name }} {{ loop.index }} {{ title }}{% endfor %}{{ user }}"
    assert refs(body) == [("users", "users", "users"), ("title", "title", "title"), ("user", "user", "user")]


def test_set_at_top_level_goes_to_locals() -> None:
    _, info = analyse("{% set greeting = 'hi' %}{{ greeting }} {{ name }}{% if x %}{% set late = 1 %}{% endif %}")
    assert [r.root for r in info.refs] == ["name", "x"]
    assert info.locals == {"greeting", "late"}


def test_macros_params_are_local_and_macros_are_locals() -> None:
    _, info = analyse("{% macro row(cell) %}{{ cell }} {{ outer }}{% endmacro %}{{ row(value) }}")
    assert [r.root for r in info.refs] == ["outer", "value"]
    assert info.locals == {"row"}


def test_with_block_and_namespace() -> None:
    body = "{% with z = seed %}{{ z }}{% endwith %}{% set ns = namespace(n=0) %}{{ ns.n }} {{ range(3)|list }}"
    assert [r.root for r in analyse(body)[1].refs] == ["seed"]


def test_dotted_paths_from_getattr_and_getitem() -> None:
    assert refs("{{ cfg['model'].name }} {{ items[0] }} {{ a.b.c | upper }} {{ d[key] }}") == [
        ("cfg", "cfg.model.name", "cfg['model'].name"),
        ("items", "items.0", "items[0]"),
        ("a", "a.b.c", "a.b.c"),
        ("d", "d", "d"),
        ("key", "key", "key"),
    ]


def test_root_span_is_the_name_only() -> None:
    doc, info = analyse("{{ user.profile.email }}")
    [ref] = info.refs
    assert ref.root_span is not None
    assert doc[ref.root_span.start : ref.root_span.end] == "user"


def test_crlf_line_endings_keep_offsets_exact() -> None:
    assert refs("line\r\n{{ a }}\r\n\r\n{{ b.c }}\r\n") == [("a", "a", "a"), ("b", "b.c", "b.c")]


def test_whitespace_control_and_raw_blocks_keep_offsets_exact() -> None:
    body = "a  \r\n  {%- if x -%}\r\n   {{- y -}}  {# c #}\n{% raw %}{{ z }}{% endraw %}{{ w.v }}{% endif %}"
    doc, info = analyse(body)
    assert [(r.root, doc[r.span.start : r.span.end]) for r in info.refs] == [("x", "x"), ("y", "y"), ("w", "w.v")]
    assert [doc[s.start : s.end] for s, _ in info.comments] == ["{# c #}"]


def test_includes_imports_and_comments() -> None:
    doc, info = analyse('{# keep #}{% include "header.j2" %}{% from "m.j2" import f as g %}{{ g() }}')
    assert [(p.name, doc[p.span.start : p.span.end]) for p in info.partials] == [
        ("header.j2", '"header.j2"'),
        ("m.j2", '"m.j2"'),
    ]
    assert [(doc[s.start : s.end], t) for s, t in info.comments] == [("{# keep #}", " keep ")]
    assert info.locals == {"g"} and info.refs == []


# -- syntax errors with exact spans ----------------------------------------------------------------


def test_unexpected_char_points_at_the_char() -> None:
    doc, info = analyse("line one\nhello {{ x $ }}")
    [issue] = info.issues
    assert issue.kind == "syntax"
    assert issue.span.start == len(PREFIX) + len("line one\nhello {{ x ")
    assert doc[issue.span.start : issue.span.end] == "$"


def test_unbalanced_brace_points_at_the_brace() -> None:
    assert issues("{% for x in xs %}\n  {{ x }\n{% endfor %}") == [("syntax", "}")]


def test_unclosed_block_points_at_the_innermost_open_tag() -> None:
    doc, info = analyse("{% if a %}\n{% for x in xs %}\n{{ x }}\n")
    [issue] = info.issues
    assert (issue.kind, doc[issue.span.start : issue.span.end]) == ("unclosed-block", "{% for x in xs %}")
    assert "endfor" in issue.message


def test_unknown_end_tag_is_unmatched_close() -> None:
    doc, info = analyse("{% if a %}x{% endfor %}")
    [issue] = info.issues
    assert (issue.kind, doc[issue.span.start : issue.span.end]) == ("unmatched-close", "{% endfor %}")
    assert "'{% if %}'" in issue.message
    assert issues("{% endif %}") == [("unmatched-close", "{% endif %}")]


def test_parser_error_points_at_the_offending_token() -> None:
    assert issues("{{ a }}\n{% for x on xs %}{% endfor %}") == [("syntax", "on")]
    assert issues("{% if %}{% endif %}") == [("syntax", "%}")]


def test_comments_after_a_syntax_error_are_still_found() -> None:
    _doc, info = analyse("{% if %}{% endif %}{# later #}")
    assert [t for _, t in info.comments] == [" later "]


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ("{{#if x}}yes{{/if}}", ["{{#if x}}", "{{/if}}"]),
        ("{% if a %}{{else}}{% endif %}", ["{{else}}"]),
        ("{{> header}}", ["{{> header}}"]),
        ("{{! note }}", ["{{! note }}"]),
        ("{{{raw}}}", ["{{{raw}}}"]),
    ],
)
def test_handlebars_constructs_are_wrong_engine(body: str, bad: list[str]) -> None:
    assert issues(body) == [("wrong-engine", b) for b in bad]


def test_wrong_engine_does_not_hide_real_jinja_refs() -> None:
    _doc, info = analyse("{{#if x}}{{ name }}{{/if}}")
    assert [r.root for r in info.refs] == ["name"]


def test_handlebars_looking_text_in_raw_and_comments_is_fine() -> None:
    assert analyse("{% raw %}{{#if x}}{% endraw %}{# {{/if}} #}")[1].issues == []


def test_valid_jinja_has_no_issues() -> None:
    body = (
        "{% extends 'base.j2' %}{% block content %}{% for m in messages if m.role != 'system' %}"
        "{{ m.content | trim }}{% else %}none{% endfor %}{% endblock %}"
    )
    _doc, info = analyse(body)
    assert info.issues == []
    assert [r.root for r in info.refs] == ["messages"]
    assert [p.name for p in info.partials] == ["base.j2"]


# -- nesting ---------------------------------------------------------------------------------------


def test_500_deep_blocks_finish_with_too_deep() -> None:
    body = "{% if a %}" * 500 + "x" + "{% endif %}" * 500
    doc, info = analyse(body)
    [issue] = info.issues
    assert issue.kind == "too-deep"
    assert doc[issue.span.start : issue.span.end] == "{% if a %}"


def test_500_deep_parentheses_finish_with_too_deep() -> None:
    body = "{{ " + "(" * 500 + "x" + ")" * 500 + " }}"
    doc, info = analyse(body)
    [issue] = info.issues
    assert issue.kind == "too-deep"
    assert doc[issue.span.start : issue.span.end] == "("
    assert sys.getrecursionlimit() >= 1000  # the guard did not change the interpreter's limit
