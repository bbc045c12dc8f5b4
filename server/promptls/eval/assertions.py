"""Assertions over one answer: text (equals, contains..., regex, starts-with), JSON (is-json, contains-json,
json-schema, the prompt's own output schema), metrics (cost, latency, tokens), the safe expression form and
llm-rubric (graded by a judge the runner provides). Each gives a pass, a score in 0..1 and a reason."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from promptls.eval.model import Assertion, Case
from promptls.eval.safe_expr import ExprError, compile_expr, evaluate

Judge = Callable[[Assertion, str, str], Awaitable[tuple[bool, float, str]]]


@dataclass(slots=True)
class Answer:
    """What the assertions see of one call."""

    output: str
    vars: dict[str, Any]
    latency_ms: float | None  # None for a cache hit: no latency was measured
    cost_usd: float | None
    input_tokens: int
    output_tokens: int
    cached: bool

    _json: Any = None
    _json_done: bool = False

    def as_json(self) -> Any:
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.output)
            except ValueError:
                self._json = _NOT_JSON
        return self._json


@dataclass(frozen=True, slots=True)
class AssertResult:
    assertion: Assertion
    passed: bool
    score: float
    reason: str


_NOT_JSON = object()


def _render(value: Any, vars_: dict[str, Any]) -> Any:
    """Assertion values may use the case's vars (`{{ name }}`), as in promptfoo."""
    if isinstance(value, str) and "{{" in value:
        # jinja2 loads only for assertion values that hold a template.
        from jinja2.sandbox import SandboxedEnvironment

        try:
            return SandboxedEnvironment().from_string(value).render(**vars_)
        except Exception:  # a bad template in a value is compared as written
            return value
    if isinstance(value, list):
        return [_render(v, vars_) for v in value]
    return value


def _show(v: Any, n: int = 60) -> str:
    s = v if isinstance(v, str) else json.dumps(v)
    s = s.replace("\n", "\\n")
    return repr(s if len(s) <= n else s[: n - 3] + "...")


def find_json(text: str) -> Any:
    """The first JSON object or array in `text` (fenced code blocks included), or _NOT_JSON."""
    dec = json.JSONDecoder()
    for m in re.finditer(r"[\[{]", text):
        try:
            value, _ = dec.raw_decode(text, m.start())
            return value
        except ValueError:
            continue
    return _NOT_JSON


def schema_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))][:3]


# Assertions on the output text that hold when the test does: (test(output, value), verb if so, verb if not).
_TEXT_TESTS: dict[str, tuple[Callable[[str, str], bool], str, str]] = {
    "contains": (lambda out, v: v in out, "contains", "does not contain"),
    "icontains": (lambda out, v: v.lower() in out.lower(), "contains", "does not contain"),
    "starts-with": (lambda out, v: out.startswith(v), "starts with", "does not start with"),
}


def _text_check(a: Assertion, ans: Answer, value: Any) -> tuple[bool, str]:
    out = ans.output
    t = a.type
    if t == "equals":
        if isinstance(value, dict | list):
            got = ans.as_json()
            return got == value, f"output {'equals' if got == value else 'does not equal'} {_show(value)}"
        ok = out == str(value)
        return ok, f"output {_show(out)} {'equals' if ok else 'does not equal'} {_show(str(value))}"
    if t in _TEXT_TESTS:
        test, holds, fails = _TEXT_TESTS[t]
        ok = test(out, str(value))
        return ok, f"output {holds if ok else fails} {_show(str(value))}"
    if t in ("contains-any", "icontains-any", "contains-all", "icontains-all"):
        fold = t.startswith("i")
        hay = out.lower() if fold else out
        items = [str(v) for v in value]
        hits = [v for v in items if (v.lower() if fold else v) in hay]
        if t.endswith("any"):
            return bool(hits), f"output contains {_show(hits[0]) if hits else 'none of ' + _show(items)}"
        missing = [v for v in items if v not in hits]
        return not missing, ("output contains all of " + _show(items)) if not missing \
            else f"output lacks {_show(missing)}"
    if t == "regex":
        ok = re.search(str(value), out) is not None
        return ok, f"output {'matches' if ok else 'does not match'} /{value}/"
    if t in ("is-json", "contains-json", "json-schema"):
        inside = t == "contains-json"
        got = find_json(out) if inside else ans.as_json()
        if got is _NOT_JSON:
            return False, "output contains no JSON" if inside else "output is not valid JSON"
        schema = value if isinstance(value, dict) else None
        if schema is None:
            return True, "output contains JSON" if inside else "output is valid JSON"
        errors = schema_errors(got, schema)
        return not errors, "output matches the schema" if not errors else "schema: " + "; ".join(errors)
    raise AssertionError(t)


async def check(a: Assertion, ans: Answer, judge: Judge) -> AssertResult:
    value = _render(a.value, ans.vars)
    t = a.type
    if t == "cost":
        if ans.cost_usd is None:
            return AssertResult(a, False, 0.0, "cost unknown (the catalog has no price for this model)")
        return _at_most(a, ans.cost_usd, lambda got, cmp: f"cost ${got:.6f} {cmp} ${a.threshold}")
    if t == "latency":
        if ans.latency_ms is None:
            return AssertResult(a, True, 1.0, "latency not measured (cache hit); not checked")
        return _at_most(a, ans.latency_ms, lambda got, cmp: f"latency {got:.0f} ms {cmp} {a.threshold:.0f} ms")
    if t == "tokens":
        limits = dict(value) if isinstance(value, dict) else {"total": value if a.threshold is None else a.threshold}
        got = {"input": ans.input_tokens, "output": ans.output_tokens, "total": ans.input_tokens + ans.output_tokens}
        over = [f"{k} {got[k]} > {v}" for k, v in limits.items() if k in got and v is not None and got[k] > v]
        return AssertResult(a, not over, 0.0 if over else 1.0,
                            "; ".join(over) or "tokens " + ", ".join(f"{k} {got[k]}" for k in limits if k in got))
    if t in ("python", "expr"):
        try:
            result = evaluate(compile_expr(str(value)), {
                "output": ans.output, "json": None if ans.as_json() is _NOT_JSON else ans.as_json(),
                "vars": ans.vars, "latency_ms": ans.latency_ms, "cost_usd": ans.cost_usd,
                "tokens": ans.input_tokens + ans.output_tokens, "cached": ans.cached,
            })
        except ExprError as exc:
            return _flip(AssertResult(a, False, 0.0, f"expression: {exc}"), a)
        except Exception as exc:  # the expression failed on this output (a KeyError, a TypeError...)
            return _flip(AssertResult(a, False, 0.0, f"expression raised {type(exc).__name__}: {exc}"), a)
        if isinstance(result, int | float) and not isinstance(result, bool) and 0 <= result <= 1:
            score = float(result)
            ok = score >= (a.threshold if a.threshold is not None else 0.5) if 0 < score < 1 else bool(result)
        else:
            ok, score = bool(result), 1.0 if result else 0.0
        return _flip(AssertResult(a, ok, score, f"expression is {_show(result, 40)}"), a)
    if t == "llm-rubric":
        ok, score, reason = await judge(a, str(value), ans.output)
        if a.threshold is not None:
            ok = score >= a.threshold
        return _flip(AssertResult(a, ok, score, f"judge: {reason}"), a)
    ok, reason = _text_check(a, ans, value)
    return _flip(AssertResult(a, ok, 1.0 if ok else 0.0, reason), a)


def _at_most(a: Assertion, got: float, says: Callable[[float, str], str]) -> AssertResult:
    """A measure that must not exceed the assertion's threshold; `says(got, '<=' or '>')` words it."""
    ok = got <= (a.threshold or 0.0)
    return AssertResult(a, ok, 1.0 if ok else 0.0, says(got, "<=" if ok else ">"))


def _flip(r: AssertResult, a: Assertion) -> AssertResult:
    if not a.negate:
        return r
    return AssertResult(a, not r.passed, 1.0 - r.score, ("not: " if r.passed else "") + r.reason)


def output_schema_check(schema: dict[str, Any], ans: Answer, path: str) -> AssertResult:
    """The prompt's own output schema (Dotprompt `output.schema`, Prompty `outputs`), on every answer."""
    a = Assertion(type="output-schema", value=schema, line=1, path=path)
    got = ans.as_json()
    if got is _NOT_JSON:
        got = find_json(ans.output)  # models often fence their JSON
    if got is _NOT_JSON:
        return AssertResult(a, False, 0.0, "the prompt declares a JSON output but the answer is not JSON")
    errors = schema_errors(got, schema) if schema else []
    return AssertResult(a, not errors, 0.0 if errors else 1.0,
                        "answer matches the prompt's output schema" if not errors
                        else "output schema: " + "; ".join(errors))


def score_case(case: Case, results: list[AssertResult]) -> tuple[bool, float]:
    """promptfoo's scoring: the weighted mean of the scores (weight 0: reported, not counted). With a
    threshold the case passes when the score reaches it; without, when every weighted assertion passes."""
    weighted = [r for r in results if r.assertion.weight > 0]
    if not weighted:
        return True, 1.0
    total = sum(r.assertion.weight for r in weighted)
    score = sum(r.score * r.assertion.weight for r in weighted) / total
    if case.threshold is not None:
        return score >= case.threshold, score
    return all(r.passed for r in weighted), score
