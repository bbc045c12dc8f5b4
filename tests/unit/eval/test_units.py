"""Units of the eval package that need no provider: the safe expression evaluator, Picoschema conversion,
provider ids, scoring and the config keys."""

from __future__ import annotations

import pytest

from promptls.config import from_dict, json_schema
from promptls.eval.assertions import AssertResult, score_case
from promptls.eval.cases import parse_provider_id
from promptls.eval.model import Assertion, Case
from promptls.eval.safe_expr import ExprError, compile_expr, evaluate
from promptls.eval.schema import picoschema


def run(src: str, **names):
    return evaluate(compile_expr(src), {"output": "Hello world", "json": {"a": [1, 2]}, **names})


def test_expressions_evaluate():
    assert run('output.lower().startswith("hello") and len(output) == 11')
    assert run('json["a"][-1] * 2') == 4
    assert run("all(x > 0 for x in json['a'])")
    assert run("[w.upper() for w in output.split() if w != 'world']") == ["HELLO"]
    assert run("re_search(r'w.rld', output)")
    assert run("isinstance(json, 'dict') and 1 if json else 0") == 1


@pytest.mark.parametrize("src", [
    "__import__('os')", "output.__class__", "(lambda: 1)()", "open('/etc/passwd')", "'x' * 10**7",
    "[].append(1)", "getattr(output, 'lower')", "{**json}", "output.format_map({})", "9 ** 9999",
])
def test_unsafe_expressions_never_run(src):
    with pytest.raises(ExprError):
        run(src)


def test_picoschema_to_json_schema():
    s = picoschema({"name": "string, the name", "age?": "integer", "tags(array, labels)": "string",
                    "kind(enum)": ["a", "b"], "address(object)": {"city": "string"}})
    assert s["required"] == ["name", "tags", "kind", "address"]
    assert s["properties"]["tags"] == {"type": "array", "items": {"type": "string"}, "description": "labels"}
    assert s["properties"]["kind"] == {"enum": ["a", "b"]}
    assert s["properties"]["address"]["properties"]["city"] == {"type": "string"}
    assert s["additionalProperties"] is False


def test_provider_ids():
    assert parse_provider_id("openai:chat:gpt-4o-mini") == ("openai", "gpt-4o-mini", None)
    assert parse_provider_id("openai:gpt-4o") == ("openai", "gpt-4o", None)
    assert parse_provider_id("anthropic:messages:claude-haiku-4-5") == ("anthropic", "claude-haiku-4-5", None)
    assert parse_provider_id("ollama:chat:llama3.2:1b") == ("ollama", "llama3.2:1b", None)
    assert parse_provider_id("openai") == (None, None, None)
    assert parse_provider_id("anthropic:completion:claude-2")[2]
    assert parse_provider_id("bedrock:x")[2]


def test_scoring_follows_weights_and_threshold():
    a, b, info = Assertion("contains", weight=3), Assertion("contains"), Assertion("regex", weight=0)
    results = [AssertResult(a, True, 1.0, ""), AssertResult(b, False, 0.0, ""), AssertResult(info, False, 0.0, "")]
    assert score_case(Case("c", {}, [a, b, info]), results) == (False, 0.75)
    assert score_case(Case("c", {}, [a, b, info], threshold=0.75), results) == (True, 0.75)


def test_config_keys():
    cfg, errs = from_dict({"cost": {"calls-per-month": 5000}, "eval": {"accuracy-target": 0.9, "judge": ["x"]}})
    assert cfg.calls_per_month == 5000 and errs == []
    _, errs = from_dict({"cost": {"calls-per-month": -1}, "eval": {"latency-target-ms": "fast", "bogus": 1}})
    assert len(errs) == 3
    schema = json_schema()["properties"]
    assert "calls-per-month" in schema["cost"]["properties"] and "accuracy-target" in schema["eval"]["properties"]
