"""Handlebars/Mustache analysis: issue kinds with exact spans, scope-aware variables, partials, helpers."""

from __future__ import annotations

import pytest

from promptls.documents.templates.handlebars import analyze_handlebars
from promptls.documents.templates.hb_parse import MAX_BLOCK_DEPTH
from promptls.documents.templates.model import TemplateInfo

PREFIX = "---\nmodel: x\n---\n"  # the body sits after frontmatter: spans are document offsets


def analyse(body: str, **kw: object) -> tuple[str, TemplateInfo]:
    doc = PREFIX + body
    return doc, analyze_handlebars(body, len(PREFIX), **kw)  # type: ignore[arg-type]


def issues(body: str, **kw: object) -> list[tuple[str, str]]:
    doc, info = analyse(body, **kw)
    return [(i.kind, doc[i.span.start : i.span.end]) for i in info.issues]


def refs(body: str, **kw: object) -> list[tuple[str, str, bool, str]]:
    doc, info = analyse(body, **kw)
    return [(r.root, r.path, r.maybe, doc[r.span.start : r.span.end]) for r in info.refs]


# -- issues -------------------------------------------------------------------------------------


def test_unclosed_block_spans_the_opening_tag() -> None:
    doc, info = analyse("Hi\n{{#if ready}}\nyes\n")
    [issue] = info.issues
    assert issue.kind == "unclosed-block"
    assert issue.span.start == len(PREFIX) + 3
    assert doc[issue.span.start : issue.span.end] == "{{#if ready}}"
    assert issue.message == "Block '{{#if}}' was never closed"


def test_unmatched_close_with_nothing_open() -> None:
    doc, info = analyse("text {{/each}}")
    [issue] = info.issues
    assert (issue.kind, doc[issue.span.start : issue.span.end]) == ("unmatched-close", "{{/each}}")
    assert issue.message == "Found '{{/each}}' but no '{{#each}}' is open"


def test_mismatched_close_names_the_open_block() -> None:
    doc, info = analyse("{{#if a}}x{{/each}}")
    kinds = [(i.kind, doc[i.span.start : i.span.end]) for i in info.issues]
    assert kinds == [("unmatched-close", "{{/each}}"), ("unclosed-block", "{{#if a}}")]
    assert "'{{#if}}'" in info.issues[0].message


def test_close_of_an_outer_block_reports_the_inner_unclosed_one() -> None:
    assert issues("{{#if a}}{{#each b}}x{{/if}}") == [("unclosed-block", "{{#each b}}")]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("Hello name}} there", ["}}"]),
        ("Hello {name}} there", ["}}"]),
        ("{{x", ["{{"]),
        ("{{x {{y}}", ["{{"]),
    ],
)
def test_stray_braces(body: str, found: list[str]) -> None:
    assert issues(body) == [("stray-brace", f) for f in found]


def test_stray_apostrophe_in_a_tag_does_not_swallow_the_rest() -> None:
    doc, info = analyse("Hi {{ user's }} and {{name}}, it's late")
    assert [(i.kind, doc[i.span.start : i.span.end]) for i in info.issues] == [("syntax", "'")]
    assert [r.root for r in info.refs] == ["name"]


def test_stray_brace_positions_are_exact() -> None:
    _doc, info = analyse("a}} {{b}} c}}")
    assert [i.span.start - len(PREFIX) for i in info.issues] == [1, 11]


def test_balanced_json_braces_are_not_stray() -> None:
    assert issues('Reply as {"a": {"b": 1}} or {"c": {{value}} }') == []


def test_triple_close_after_double_open_is_a_syntax_error() -> None:
    # Handlebars lexes `}}}` as the close of `{{{`: `{"a": {{x}}}` fails in Handlebars.js.
    assert issues('{"a": {{x}}}') == [("syntax", "}}}")]
    assert issues("{{{x}}") == [("syntax", "{{{x}}")]


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ("{{else}}", "{{else}}"),
        ("{{#if a}}{{else}}{{else}}{{/if}}", "{{else}}"),
        ("{{foo(bar)}}", "foo("),
        ('{{x "unterminated}}', '"unterminated'),
        ("{{#each xs as ||}}{{/each}}", "|"),
        ("{{a.this}}", "a.this"),
        ("{{!-- never closed", "{{!--"),
    ],
)
def test_syntax_errors(body: str, bad: str) -> None:
    assert issues(body) == [("syntax", bad)]


def test_jinja_syntax_in_handlebars_is_wrong_engine() -> None:
    assert issues("{% if x %}{{y}}{% endif %} {# note #}") == [
        ("wrong-engine", "{% if x %}"),
        ("wrong-engine", "{% endif %}"),
        ("wrong-engine", "{# note #}"),
    ]
    assert issues("{{ name | upper }}") == [("wrong-engine", "|")]


def test_too_deep_nesting_is_reported_once_and_stays_linear() -> None:
    depth = 500
    body = "{{#if a}}" * depth + "{{x}}" + "{{/if}}" * depth
    _doc, info = analyse(body)
    [issue] = info.issues
    assert issue.kind == "too-deep"
    assert issue.span.start == len(PREFIX) + MAX_BLOCK_DEPTH * len("{{#if a}}")
    assert [r.root for r in info.refs] == ["a"] * MAX_BLOCK_DEPTH


def test_too_deep_unclosed_nesting_does_not_crash() -> None:
    kinds = {i.kind for i in analyse("{{#each a}}" * 1000)[1].issues}
    assert kinds == {"too-deep", "unclosed-block"}


def test_deep_subexpressions_are_too_deep() -> None:
    body = "{{f " + "(f " * 300 + "x" + ")" * 300 + "}}"
    assert [i.kind for i in analyse(body)[1].issues] == ["too-deep"]


# -- clean constructs -----------------------------------------------------------------------------

CLEAN = [
    "{{x}} {{{x}}} {{&x}} {{~x~}} {{~{x}~}}",
    "{{! short }} {{!-- long with }} inside --}}",
    "{{#if a}}1{{else if b}}2{{else}}3{{/if}}",
    "{{^x}}none{{/x}} {{#each xs}}{{else}}empty{{/each}} {{#each xs}}{{^}}empty{{/each}}",
    "{{> name}} {{> (dyn x)}} {{> name ctx key=value}} {{> 'quoted'}}",
    "{{{{raw}}}} {{not parsed}} }} {{{{/raw}}}}",
    "\\{{escaped}} }} {{real}}",
    "{{helper 'str' \"s2\" 42 -1.5 true false null undefined key=value k=(sub x)}}",
    "{{#each items as |item idx|}}{{item}}{{idx}}{{/each}}",
    "{{a.b}} {{a/b}} {{this}} {{this.x}} {{./x}} {{../x}} {{@root.x}} {{@index}} {{[weird key]}}",
    '{{#*inline "p"}}x{{/inline}}{{> p}} {{#> layout}}fallback{{/layout}}',
]


@pytest.mark.parametrize("body", CLEAN)
def test_valid_constructs_have_no_issues(body: str) -> None:
    assert analyse(body)[1].issues == []


# -- variables and scope ------------------------------------------------------------------------


def test_top_level_names_are_root_refs_with_exact_spans() -> None:
    doc, info = analyse("Hi {{user.name}}, {{ greeting }}!")
    assert [(r.root, r.path, doc[r.span.start : r.span.end]) for r in info.refs] == [
        ("user", "user.name", "user.name"),
        ("greeting", "greeting", "greeting"),
    ]
    first = info.refs[0]
    assert first.root_span is not None and doc[first.root_span.start : first.root_span.end] == "user"
    assert not any(r.maybe for r in info.refs)


def test_each_changes_context() -> None:
    assert refs("{{#each items}}{{name}} {{this.x}} {{../title}} {{@root.site.url}}{{/each}}") == [
        ("items", "items", False, "items"),
        ("title", "title", False, "../title"),
        ("site", "site.url", False, "@root.site.url"),
    ]


def test_with_and_block_params() -> None:
    assert refs("{{#with user as |u|}}{{u.name}} {{name}} {{../top}}{{/with}}") == [
        ("user", "user", False, "user"),
        ("top", "top", False, "../top"),
    ]
    assert refs("{{#each xs as |x i|}}{{x.n}} {{i}} {{lookup ../m i}}{{/each}}") == [
        ("xs", "xs", False, "xs"),
        ("m", "m", False, "../m"),
    ]


def test_nested_each_needs_two_levels_to_reach_root() -> None:
    assert refs("{{#each a}}{{#each b}}{{c}}{{../d}}{{../../e}}{{/each}}{{/each}}") == [
        ("a", "a", False, "a"),
        ("e", "e", False, "../../e"),
    ]


def test_if_and_if_equals_keep_the_context() -> None:
    assert refs("{{#if a}}{{b}}{{else if c}}{{d}}{{else}}{{e}}{{/if}}{{#ifEquals f 'x'}}{{g}}{{/ifEquals}}") == [
        ("a", "a", False, "a"),
        ("b", "b", False, "b"),
        ("c", "c", False, "c"),
        ("d", "d", False, "d"),
        ("e", "e", False, "e"),
        ("f", "f", False, "f"),
        ("g", "g", False, "g"),
    ]


def test_else_of_each_is_in_the_outer_context() -> None:
    assert refs("{{#each xs}}{{inner}}{{else}}{{outer}}{{/each}}") == [
        ("xs", "xs", False, "xs"),
        ("outer", "outer", False, "outer"),
    ]


def test_sections_on_values_may_change_context() -> None:
    assert refs("{{#user}}{{name}}{{/user}}{{^user}}{{guest}}{{/user}}") == [
        ("user", "user", False, "user"),
        ("name", "name", True, "name"),
        ("user", "user", False, "user"),
        ("guest", "guest", False, "guest"),
    ]


def test_helper_names_are_not_variables_but_their_arguments_are() -> None:
    doc, info = analyse('{{role "system"}}{{history}}{{json data indent=2}}{{media url=img}}{{section "s"}}')
    assert [r.root for r in info.refs] == ["data", "img"]
    calls = [(h.name, h.args, h.hash, doc[h.name_span.start : h.name_span.end]) for h in info.helpers]
    assert calls == [
        ("role", ["system"], {}, "role"),
        ("history", [], {}, "history"),
        ("json", [], {"indent": 2}, "json"),
        ("media", [], {}, "media"),
        ("section", ["s"], {}, "section"),
    ]


def test_unknown_helper_with_args_and_known_helpers_override() -> None:
    _, info = analyse("{{shout name}} {{custom}}")
    assert [r.root for r in info.refs] == ["name", "custom"]
    assert [h.name for h in info.helpers] == ["shout"]
    _, info = analyse("{{custom}}", known_helpers=frozenset({"custom"}))
    assert info.refs == [] and [h.name for h in info.helpers] == ["custom"]


def test_dotprompt_helpers_used_as_blocks_keep_the_context() -> None:
    assert refs('{{#role "system"}}{{x}}{{/role}}') == [("x", "x", False, "x")]


def test_unknown_block_helper_content_refs_are_maybe() -> None:
    assert refs("{{#myLoop xs}}{{y}}{{/myLoop}}") == [("xs", "xs", False, "xs"), ("y", "y", True, "y")]


def test_subexpressions_and_hash_values() -> None:
    assert [r.root for r in analyse("{{h (sub a (subsub b)) 'lit' key=(k c) k2=d}}")[1].refs] == ["a", "b", "c", "d"]


def test_literal_segments_and_slash_paths() -> None:
    assert refs("{{[my key].x}} {{a/b}}") == [
        ("my key", "my key.x", False, "[my key].x"),
        ("a", "a.b", False, "a/b"),
    ]


def test_this_and_data_variables_are_not_refs() -> None:
    assert refs("{{this}} {{.}} {{@index}} {{@key}} {{@first}} {{@last}} {{@state.x}}") == []


def test_escaped_mustache_and_raw_blocks_hold_no_refs() -> None:
    assert [r.root for r in analyse("\\{{a}} {{{{raw}}}}{{b}}{{{{/raw}}}} {{c}}")[1].refs] == ["c"]


def test_partials_and_inline_partials() -> None:
    doc, info = analyse('{{#*inline "row"}}{{cell}}{{/inline}}{{> row}} {{> header title=t}} {{> (pick kind)}}')
    assert [(p.name, doc[p.span.start : p.span.end], p.inline) for p in info.partials] == [
        ("row", "row", True),
        ("header", "header", False),
    ]
    assert [(r.root, r.maybe) for r in info.refs] == [("cell", True), ("t", False), ("kind", False)]


def test_comments_are_listed_with_spans() -> None:
    doc, info = analyse("a {{! promptls-disable PL001 }} b {{!-- x }} y --}}")
    assert [(doc[s.start : s.end], text) for s, text in info.comments] == [
        ("{{! promptls-disable PL001 }}", " promptls-disable PL001 "),
        ("{{!-- x }} y --}}", " x }} y "),
    ]


# -- Mustache -------------------------------------------------------------------------------------


def test_mustache_names_inside_sections_are_maybe_refs() -> None:
    assert refs("{{name}} {{#items}}{{label}} {{title}}{{/items}} {{^items}}{{empty}}{{/items}}", mustache=True) == [
        ("name", "name", False, "name"),
        ("items", "items", False, "items"),
        ("label", "label", True, "label"),
        ("title", "title", True, "title"),
        ("items", "items", False, "items"),
        ("empty", "empty", False, "empty"),
    ]


def test_mustache_handlebars_helpers_are_wrong_engine() -> None:
    doc, info = analyse("{{#each items}}{{name}}{{/each}}", mustache=True)
    assert [(i.kind, doc[i.span.start : i.span.end]) for i in info.issues] == [("wrong-engine", "{{#each items}}")]
    assert [(r.root, r.maybe) for r in info.refs] == [("name", True)]


def test_mustache_set_delimiters() -> None:
    doc, info = analyse("{{=<% %>=}}<% name %> {{literal}} <%#s%><%x%><%/s%>", mustache=True)
    assert info.issues == []
    assert [(r.root, doc[r.span.start : r.span.end]) for r in info.refs] == [("name", "name"), ("s", "s"), ("x", "x")]


def test_mustache_mismatched_section() -> None:
    assert issues("{{#a}}x{{/b}}", mustache=True) == [("unmatched-close", "{{/b}}"), ("unclosed-block", "{{#a}}")]


def test_unicode_offsets_are_code_points() -> None:
    doc, info = analyse("héllo 🌍 {{名前}}")
    [ref] = info.refs
    assert doc[ref.span.start : ref.span.end] == "名前"


def test_operators_are_explained() -> None:
    # Handlebars lexes `>`, `<`, `!` as INVALID and `==` as two EQUALS: Handlebars.js cannot compile these.
    for body, op in [
        ("{{#if age >= 18}}x{{/if}}", ">="),
        ("{{#if a == b}}x{{/if}}", "=="),
        ("{{#if a && b}}x{{/if}}", "&&"),
        ("{{#if !a}}x{{/if}}", "!"),
    ]:
        doc, info = analyse(body)
        [issue] = info.issues
        assert (issue.kind, doc[issue.span.start : issue.span.end]) == ("operator", op)
        assert "no operators" in issue.message


def test_short_comment_holding_a_tag_ends_early() -> None:
    _doc, info = analyse("{{! see {{> name }} for details }}\nHi")
    [issue] = info.issues
    assert issue.kind == "stray-brace" and issue.span.start == len(PREFIX) + len("{{! see {{> name }} for details ")
    assert "{{!-- --}}" in issue.message
