"""Rendering with sample inputs: Handlebars semantics, Mustache semantics, Jinja sandbox, bounds."""

from __future__ import annotations

import pytest

from promptls.documents.templates.dotprompt_messages import to_messages
from promptls.documents.templates.render import RenderError, RenderLimitError, render_handlebars, render_jinja

DATA = {
    "items": [{"n": "a"}, {"n": "b"}],
    "user": {"name": "Ann", "tags": ["x", "y"]},
    "q": "Q",
    "flag": True,
    "zero": 0,
    "obj": {"k1": 1, "k2": 2.0},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{#each items}}{{@index}}{{n}}{{#if @first}}^{{/if}}{{#if @last}}${{/if}}{{../q}};{{/each}}", "0a^Q;1b$Q;"),
        ("{{#each obj}}{{@key}}={{this}}{{#unless @last}},{{/unless}}{{/each}}", "k1=1,k2=2"),
        ("{{#each items as |it i|}}{{i}}{{it.n}}{{/each}}", "0a1b"),
        ("{{#each missing}}x{{else}}none{{/each}}", "none"),
        ("{{#with user}}{{name}} {{tags.length}} {{tags.[1]}} {{@root.q}}{{/with}}", "Ann 2 y Q"),
        ("{{#with user as |u|}}{{u.name}}{{/with}}{{#with nothing}}x{{else}}-{{/with}}", "Ann-"),
        (
            "{{#user}}{{name}}{{/user}}{{^nothing}}empty{{/nothing}}{{#flag}}[{{q}}]{{/flag}}{{#items}}{{n}}{{/items}}",
            "Annempty[Q]ab",
        ),
        ("{{#if zero}}z{{else}}nz{{/if}} {{#if zero includeZero=true}}z{{/if}}", "nz z"),
        ("{{#if a}}1{{else if flag}}2{{else}}3{{/if}}", "2"),
        ("{{#unless flag}}no{{else}}yes{{/unless}}", "yes"),
        (
            "{{lookup user 'name'}} {{lookup user.tags 0}} {{user.tags}} {{obj}} {{zero}} {{flag}}",
            "Ann x x,y [object Object] 0 true",
        ),
        ("{{#ifEquals q 'Q'}}eq{{/ifEquals}}{{#unlessEquals zero false}}ne{{/unlessEquals}}", "eqne"),
        ("{{{{raw}}}}{{q}}{{{{/raw}}}} \\{{q}} \\\\{{q}}", "{{q}} {{q}} \\Q"),
        ("<b>{{q}}</b> [{{unknownHelper q}}] {{#unknownBlock q}}inner {{q}}{{/unknownBlock}}", "<b>Q</b> [] inner Q"),
        ("{{json obj}} {{json user.tags indent=2}}", '{"k1":1,"k2":2} [\n  "x",\n  "y"\n]'),
        ("a {{! comment }} b {{!-- c --}} c", "a  b  c"),
    ],
)
def test_handlebars_semantics(template: str, expected: str) -> None:
    assert render_handlebars(template, DATA) == expected


def test_whitespace_control_and_standalone_lines() -> None:
    template = "Items:\n{{#each items}}\n  - {{n}}\n{{/each}}\nDone {{~ q ~}} !\n"
    assert render_handlebars(template, DATA) == "Items:\n  - a\n  - b\nDoneQ!\n"


def test_dotprompt_markers_match_the_reference_helpers() -> None:
    template = (
        '{{role "system"}}sys{{role "user"}}u {{media url=img contentType="image/png"}}'
        '{{section "s"}}{{history}}{{media url=img}}'
    )
    out = render_handlebars(template, {"img": "http://x/y.png"})
    assert out == (
        "<<<dotprompt:role:system>>>sys<<<dotprompt:role:user>>>u "
        "<<<dotprompt:media:url http://x/y.png image/png>>><<<dotprompt:section s>>>"
        "<<<dotprompt:history>>><<<dotprompt:media:url http://x/y.png>>>"
    )


def test_partials_with_context_hash_indent_inline_and_blocks() -> None:
    partials = {"p": "[{{name}}|{{extra}}]", "lines": "a {{q}}\nb\n", "layout": "L({{> @partial-block}})"}.get
    assert render_handlebars("{{> p user extra=q}}", DATA, partials=partials) == "[Ann|Q]"
    assert render_handlebars("x\n  {{> lines}}\ny", DATA, partials=partials) == "x\n  a Q\n  b\ny"
    assert render_handlebars('{{#*inline "i"}}<{{q}}>{{/inline}}{{> i}}', DATA) == "<Q>"
    assert render_handlebars("{{#> layout}}in {{q}}{{/layout}}", DATA, partials=partials) == "L(in Q)"
    assert render_handlebars("{{#> nope}}fallback{{/nope}}{{> alsoNope}}", DATA, partials=partials) == "fallback"
    assert render_handlebars("{{> (lookup . 'which')}}", {"which": "p", "name": "N"}, partials=partials) == "[N|]"


def test_context_supplies_data_variables() -> None:
    out = render_handlebars(
        "{{@state.count}} {{@auth.email}} {{@root.q}}",
        {"q": 1},
        context={"state": {"count": 42}, "auth": {"email": "e@x"}},
    )
    assert out == "42 e@x 1"


def test_escape_is_opt_in() -> None:
    assert render_handlebars("{{q}} {{{q}}}", {"q": "<a&b>"}) == "<a&b> <a&b>"
    assert render_handlebars("{{q}} {{{q}}} {{&q}}", {"q": "<a&b>"}, escape=True) == "&lt;a&amp;b&gt; <a&b> <a&b>"


def test_mustache_semantics() -> None:
    data = {"name": "N", "list": [{"x": 1}, {"x": 2}], "outer": {"inner": "I"}, "top": "T", "f": False, "e": []}
    template = (
        "{{name}} {{#list}}{{x}}{{top}};{{/list}} {{#outer}}{{inner}}{{name}}{{/outer}} "
        "{{^f}}not-f{{/f}}{{#f}}never{{/f}} {{^e}}empty{{/e}} {{outer.inner}} {{#list}}{{.}}{{/list}}"
    )
    assert render_handlebars(template, data, mustache=True) == (
        "N 1T;2T; IN not-f empty I [object Object][object Object]"
    )
    assert render_handlebars("{{=<% %>=}}<% name %>{{name}}", data, mustache=True) == "N{{name}}"
    assert (
        render_handlebars("{{> p}}", {"n": [1, 2]}, mustache=True, partials={"p": "{{#n}}<{{.}}>{{/n}}"}.get)
        == "<1><2>"
    )


# -- bounds ---------------------------------------------------------------------------------------


def test_output_is_capped() -> None:
    with pytest.raises(RenderLimitError) as exc:
        render_handlebars(
            "{{#each a}}{{../b}}{{/each}}", {"a": list(range(1000)), "b": "x" * 1000}, max_output_chars=10_000
        )
    assert len(exc.value.output) == 10_000


def test_loops_are_bounded_even_without_output() -> None:
    with pytest.raises(RenderLimitError, match="iterations"):
        render_handlebars(
            "{{#each a}}{{#each ../a}}{{#each ../../a}}{{/each}}{{/each}}{{/each}}", {"a": list(range(100))}
        )


def test_recursive_partials_are_bounded() -> None:
    with pytest.raises(RenderLimitError, match="partials"):
        render_handlebars("{{> p}}", {}, partials={"p": "x{{> p}}"}.get)


def test_too_deep_templates_refuse_to_render() -> None:
    with pytest.raises(RenderLimitError, match="too deep"):
        render_handlebars("{{#if a}}" * 500 + "x" + "{{/if}}" * 500, {"a": True})


# -- Jinja ----------------------------------------------------------------------------------------


def test_jinja_renders_leniently() -> None:
    template = (
        "Hi {{ name }}!{{ missing.x.y }}{{ missing + 1 }}{% for i in items %}[{{ loop.index }}:{{ i }}]{% endfor %}"
    )
    assert render_jinja(template, {"name": "Bo", "items": [1, 2]}) == "Hi Bo![1:1][2:2]"


def test_jinja_includes_resolve_through_the_callback() -> None:
    partials = {"p": "P{{ n }}{% for i in range(2) %}{{ i }}{% endfor %}"}.get
    assert render_jinja('{% include "p" %}!', {"n": 3}, partials=partials) == "P301!"


def test_jinja_errors_are_render_errors() -> None:
    with pytest.raises(RenderError, match="line 1"):
        render_jinja("{% for x in y %}", {})
    with pytest.raises(RenderError):
        render_jinja('{% include "absent" %}', {})
    # The sandbox turns unsafe attributes into (lenient) undefined values: nothing leaks.
    assert render_jinja("{{ x.__class__.__mro__[1].__subclasses__() }}", {"x": 1}) == ""


@pytest.mark.parametrize(
    "template",
    [
        '{{ "x" * 10**9 }}',
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        '{{ "%999999999d" % 1 }}',
        '{{ "{:999999999}".format(1) }}',
        '{{ "a"|center(999999999) }}',
        '{{ ("a" * 1000000)|replace("a", "aaaaaaaaaa") }}',
        "{{ 10 ** 100000 }}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        '{% for i in range(99999) %}{{ "x" * 100 }}{% endfor %}',
    ],
)
def test_hostile_jinja_is_bounded(template: str) -> None:
    with pytest.raises(RenderLimitError):
        render_jinja(template, {})


def test_jinja_output_cap_keeps_what_was_rendered() -> None:
    with pytest.raises(RenderLimitError) as exc:
        render_jinja("{% for i in range(1000) %}{{ 'x' * 100 }}{% endfor %}", {}, max_output_chars=5000)
    assert exc.value.output == "x" * 5000


# -- Dotprompt message splitting ---------------------------------------------------------------------


def test_to_messages_splits_roles_history_media_and_sections() -> None:
    rendered = render_handlebars(
        '{{role "system"}}Be brief.\n{{history}}\n{{role "user"}}Look {{media url=u}} {{section "s"}}now\n',
        {"u": "http://i/x.png"},
    )
    history = [{"role": "user", "content": [{"text": "hi"}]}, {"role": "model", "content": [{"text": "yo"}]}]
    msgs = to_messages(rendered, history)
    assert [(m.role, m.history is not None) for m in msgs] == [
        ("system", False),
        ("user", True),
        ("model", True),
        ("user", False),
    ]
    assert msgs[0].text == "Be brief.\n"
    parts = msgs[3].parts
    assert [(p.text, p.media, p.section) for p in parts] == [
        ("Look ", None, None),
        (None, {"url": "http://i/x.png"}, None),
        (None, None, "s"),
        ("now\n", None, None),
    ]


def test_to_messages_inserts_history_before_the_last_user_message() -> None:
    msgs = to_messages("<<<dotprompt:role:system>>>S<<<dotprompt:role:user>>>U", [{"role": "user", "content": []}])
    assert [(m.role, m.history is not None) for m in msgs] == [("system", False), ("user", True), ("user", False)]
