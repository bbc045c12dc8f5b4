"""Unit tests of the assist building blocks: settings, post-filtering, prefix cache, context budget, status."""

from __future__ import annotations

from promptls.assist.context import build_context, take_prefix
from promptls.assist.postfilter import postfilter, wants_multiline
from promptls.assist.prefix_cache import PrefixCache
from promptls.assist.service import Assist
from promptls.assist.settings import parse_assist_settings
from promptls.config import from_dict


def words(text: str) -> int:
    return len(text.split())


def test_settings_accept_camel_case_and_report_bad_values():
    s, errors = parse_assist_settings({"assist": {"debounceMs": 40, "prefixShare": 2, "inline": "yes",
                                                  "actions": [{"title": "T", "prompt": "{selection} {oops}"}],
                                                  "bogus": 1}})
    assert s.debounce_ms == 40
    assert s.prefix_share == 0.75 and s.inline is True  # bad values keep defaults
    joined = " | ".join(errors)
    assert "'assist.prefixShare' must be a number between 0 and 1" in joined
    assert "'assist.inline' must be true or false" in joined
    assert "{oops}" in joined and "unknown key 'bogus'" in joined
    assert s.actions == []


def test_postfilter_strips_fences_echo_and_suffix_repeats():
    kw = {"prev_line": "", "suffix": ")\n", "multiline": False, "max_lines": 5}
    assert postfilter("```python\nfoo(a, b)\n```", line_prefix="x = ", line_suffix="", **{**kw, "suffix": ""}) \
        == "foo(a, b)"
    assert postfilter("print(value)", line_prefix="print(", line_suffix=")", **kw) == "value"
    assert postfilter("x = compute()", line_prefix="x = ", line_suffix="", **{**kw, "suffix": ""}) == "compute()"
    assert postfilter("   \n ", line_prefix="x = ", line_suffix="", **kw) is None


def test_postfilter_multiline_stops_at_repeated_and_suffix_lines():
    raw = "a = 1\nb = 2\nb = 2\nc = 3"
    assert postfilter(raw, line_prefix="", line_suffix="", prev_line="def f():", suffix="", multiline=True,
                      max_lines=10) == "a = 1\nb = 2"
    raw = "a = 1\nreturn a\nmore"
    assert postfilter(raw, line_prefix="", line_suffix="", prev_line="def f():", suffix="\n    return a\n",
                      multiline=True, max_lines=10) == "a = 1"


def test_postfilter_keeps_brackets_balanced_against_the_line():
    assert postfilter("a, b))", line_prefix="f(g(", line_suffix="))", prev_line="", suffix="))",
                      multiline=False, max_lines=3) == "a, b"


def test_single_or_multi_line_by_context():
    assert wants_multiline("def f():", "", "") is True
    assert wants_multiline("x = ", "", "") is False
    assert wants_multiline("    ", "", "def f():") is True
    assert wants_multiline("foo(", ")", "") is False


def test_prefix_cache_retype_backspace_and_mismatch():
    c = PrefixCache(8)
    c.put("doc", "x = ", "", "compute()")
    assert c.get("doc", "x = comp", "") == "ute()"
    assert c.get("doc", "x ", "") == "= compute()"
    assert c.get("doc", "x = z", "") is None
    assert c.get("doc", "x = ", "other suffix") is None
    assert c.get("other", "x = ", "") is None


def test_context_respects_budget_and_split():
    prefix = "\n".join(f"line {i} alpha beta" for i in range(200)) + "\ncur"
    suffix = "\n".join(f"after {i} gamma" for i in range(200))
    ctx = build_context(path="/a.py", prefix=prefix, suffix=suffix, open_docs={}, recent=[], budget=200,
                        prefix_share=0.75, snippet_share=0.0, count=words, privacy_excludes=[])
    assert ctx.prefix.endswith("cur") and ctx.suffix.startswith("after 0")
    assert ctx.prefix_tokens <= 150 and ctx.suffix_tokens <= 50
    assert ctx.prefix_tokens > 100  # the budget is used, not wasted
    text, used = take_prefix("a b\nc d e\nf", 3, words)
    assert text == "c d e\nf" or used <= 3


def test_context_snippets_skip_excluded_files():
    docs = {"/w/util.py": "def parse_order(order):\n    return order.total\n",
            "/w/secrets.py": "def parse_order(order):\n    return order.secret_key\n"}
    ctx = build_context(path="/w/main.py", prefix="x = parse_order(order)\n", suffix="", open_docs=docs,
                        recent=[], budget=400, prefix_share=0.75, snippet_share=0.5, count=words,
                        privacy_excludes=["secrets.*"])
    assert [s.path for s in ctx.snippets] == ["/w/util.py"]


def test_status_fields_follow_calls():
    seen = []
    a = Assist(on_status=lambda: seen.append(a.status()))
    assert a.status() == {"state": "idle", "provider": None, "sessionCostUsd": 0.0}
    a.busy += 1
    a._status()
    assert seen[-1]["state"] == "busy"


def test_debounce_stretches_to_the_typing_rhythm_and_respects_off():
    from promptls.assist.inline import InlineEngine
    from promptls.assist.service import Assist

    assist = Assist()
    assist.sync(from_dict({"assist": {"debounce_ms": 75, "debounce_max_ms": 400}})[0])
    engine = InlineEngine(assist)
    assert engine.debounce_s() == 0.075  # no rhythm known yet
    engine._gaps.extend([0.12, 0.2, 0.15, 0.25, 0.1, 0.18])
    stretched = engine.debounce_s()
    assert 0.2 < stretched <= 0.4  # longer than most key gaps: fires when the user pauses
    engine._gaps.extend([0.03] * 16)  # a fast burst: never below the configured floor
    assert engine.debounce_s() == 0.075
    assist.sync(from_dict({"assist": {"debounce_ms": 0}})[0])
    engine._gaps.extend([0.2] * 16)
    assert engine.debounce_s() == 0  # 0 means off, whatever the rhythm
    assist.sync(from_dict({"assist": {"debounce_ms": 75, "adaptive_debounce": False}})[0])
    assert engine.debounce_s() == 0.075
