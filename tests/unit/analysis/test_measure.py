"""Measure, then rule: the tokens and cost of every call are computed once, before the rules, and the rules
only read them; a failed measurement is said (IO001 and a log line), never a silently missing figure."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest

from promptls.analysis import engine, measure
from promptls.analysis.context import Context
from promptls.analysis.engine import analyze
from promptls.analysis.measure import Measurement, PromptMeasure
from promptls.analysis.rules import tokens as token_rules
from promptls.config import Config
from promptls.core.findings import TokenReport
from promptls.core.positions import LineIndex
from promptls.documents.load import parse_document

CFG = Config(today=dt.date(2026, 11, 25))

# A long static tail after an early variable (TK007), an undefined variable (VR001), a budget crossed (TK005).
PROMPT = """---
model: anthropic/claude-sonnet-4-5
config:
  maxOutputTokens: 100000
input:
  schema:
    topic: string
---
{{topic}}
""" + "Answer in the house style: short sentences, active voice, no jargon, one idea per line.\n" * 400 + "{{nope}}\n"

CODE = '''import anthropic

client = anthropic.Anthropic(timeout=30)
client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "Hi"}])
client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": "Yo"}])
'''


def _codes(report) -> list[str]:
    return [f.code for f in report.findings]


def _budget(cfg: Config = CFG) -> Config:
    return dataclasses.replace(cfg, per_call_budget_usd=0.001)


def test_context_has_no_side_channel():
    assert not hasattr(Context(CFG), "extra")
    assert Context(CFG).measurement == Measurement()


def test_prompt_is_measured_once_before_the_rules(monkeypatch):
    calls = []
    real = measure._prompt

    def counted(doc, ctx):
        calls.append(doc.path)
        return real(doc, ctx)

    monkeypatch.setattr(measure, "_prompt", counted)
    _, report = analyze("p.prompt", PROMPT, _budget())
    assert calls == ["p.prompt"]
    assert report.tokens is not None and report.tokens.cost_usd is not None
    assert {"TK005", "TK007", "VR001"} <= set(_codes(report))


def test_rule_order_does_not_matter(monkeypatch):
    _, forward = analyze("p.prompt", PROMPT, _budget())
    monkeypatch.setattr(engine, "ALL_CHECKS", tuple(reversed(engine.ALL_CHECKS)))
    _, backward = analyze("p.prompt", PROMPT, _budget())
    assert [(f.code, f.message, f.span) for f in backward.findings] == \
           [(f.code, f.message, f.span) for f in forward.findings]
    assert backward.tokens == forward.tokens


def test_token_rules_only_read_the_measurement():
    doc = parse_document("p.prompt", PROMPT, CFG)
    ctx = Context(_budget())
    info = ctx.catalog.resolve("claude-sonnet-4-5").info
    report = TokenReport("o200k_base", True, 10, 0, [], 5.0)
    ctx.measurement = Measurement(prompt=PromptMeasure(report, info, "o200k_base", "input of many tokens", None))
    found = list(token_rules.check(doc, ctx))
    assert [f.code for f in found if f.code in ("TK005", "TK006")] == ["TK005", "TK006"]
    assert ctx.measurement.prompt.report is report  # untouched


def test_a_failed_prompt_measurement_is_reported_not_dropped(monkeypatch, caplog):
    monkeypatch.delenv("PROMPTLS_STRICT", raising=False)

    def broken(doc, ctx):
        raise RuntimeError("tokenizer exploded")

    monkeypatch.setattr(measure, "_prompt", broken)
    with caplog.at_level(logging.ERROR, logger="promptls.analysis.measure"):
        _, report = analyze("p.prompt", PROMPT, _budget())
    assert report.tokens is None
    (failure,) = [f for f in report.findings if f.code == "IO001"]
    assert failure.message == "Not measured: tokens and cost (internal error: RuntimeError)."
    assert "VR001" in _codes(report)  # every other rule still ran
    assert any("measuring tokens and cost failed on p.prompt" in r.getMessage() for r in caplog.records)


def test_a_failed_prompt_measurement_raises_when_strict(monkeypatch):
    monkeypatch.setenv("PROMPTLS_STRICT", "1")
    monkeypatch.setattr(measure, "_prompt", lambda doc, ctx: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        analyze("p.prompt", PROMPT, CFG)


def test_code_calls_are_measured_once_each_and_a_failure_costs_only_its_call(monkeypatch, caplog):
    _, whole = analyze("bot.py", CODE, CFG)
    assert [e.model for e in whole.calls] == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    assert whole.model == "claude-haiku-4-5, claude-sonnet-4-5"
    assert all(e.cost_usd for e in whole.calls)

    monkeypatch.delenv("PROMPTLS_STRICT", raising=False)
    real, seen = measure.estimate, []

    def flaky(site, catalog, **kw):
        seen.append(site.args["model"].value)
        if site.args["model"].value == "claude-sonnet-4-5":
            raise ValueError("bad site")
        return real(site, catalog, **kw)

    monkeypatch.setattr(measure, "estimate", flaky)
    with caplog.at_level(logging.ERROR, logger="promptls.analysis.measure"):
        _, report = analyze("bot.py", CODE, CFG)
    assert seen == ["claude-sonnet-4-5", "claude-haiku-4-5"]
    assert [e.model for e in report.calls] == ["claude-haiku-4-5"]
    (failure,) = [f for f in report.findings if f.code == "IO001"]
    assert failure.message == "Not measured: this call's tokens and cost (internal error: ValueError)."
    assert CODE[failure.span.start:failure.span.end] == "client.messages.create"
    assert caplog.records


def test_analyze_reuses_the_callers_line_index(monkeypatch):
    text = "---\nmodel: openai/gpt-4o\n---\nHello {{nope}} {{! promptls-ignore VR001 }}\n"
    index = LineIndex(text)

    class Forbidden(LineIndex):
        def __init__(self, *a, **k):
            raise AssertionError("a second LineIndex was built")

    monkeypatch.setattr(engine, "LineIndex", Forbidden)
    _, report = analyze("p.prompt", text, CFG, index=index)
    assert "VR001" not in _codes(report)
    _, code_report = analyze("bot.py", CODE + 'anthropic.Anthropic()  # promptls-ignore SD003\n', CFG, index=LineIndex(
        CODE + 'anthropic.Anthropic()  # promptls-ignore SD003\n'))
    assert "SD003" not in _codes(code_report)
