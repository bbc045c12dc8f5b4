"""`promptls eval` end to end: real SDKs over HTTP against the loopback fakes, through the router (cache,
budgets, ledger), from case files to the table, JSON and JUnit reports and the exit code."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tests.e2e.eval.conftest import script_capitals

RESULT_KEYS = {"prompt", "provider", "model", "case", "pass", "score", "cost_usd", "latency_ms", "tokens", "cached",
               "failures"}
MODEL_KEYS = {"provider", "model", "pass_rate", "cost_per_request_usd", "monthly_usd", "p50_latency_ms"}


def test_capital_example_passes_then_is_served_from_the_cache(ws, fakes, capsys):
    ws.copy_example("capital.prompt")
    ws.copy_example("capital.tests.yaml")
    script_capitals(fakes)
    code, doc, err = ws.run_json("capital.tests.yaml", capsys=capsys)
    assert code == 0, err
    assert set(doc) == {"version", "results", "summary"} and doc["version"] == 1
    assert [r["case"] for r in doc["results"]] == ["France", "Japan", "Peru, graded by the judge chain"]
    for r in doc["results"]:
        assert set(r) == RESULT_KEYS
        assert r["pass"] and r["failures"] == [] and not r["cached"]
        assert (r["provider"], r["model"]) == ("openai", "gpt-4o-mini")
        assert r["tokens"] > 0 and r["cost_usd"] > 0
    assert set(doc["summary"]) == {"models", "recommended"}
    (m,) = doc["summary"]["models"]
    assert set(m) == MODEL_KEYS
    assert m["pass_rate"] == 1.0 and m["p50_latency_ms"] > 0
    assert abs(m["monthly_usd"] - m["cost_per_request_usd"] * 100_000) < 1e-3
    assert doc["summary"]["recommended"] == {"provider": "openai", "model": "gpt-4o-mini"}
    assert len(fakes["openai"].calls) == 3
    assert len(fakes["anthropic"].calls) == 1  # the llm-rubric went to the judge (action) chain
    judged = fakes["anthropic"].calls[0].json()
    assert "names Lima as the capital" in json.dumps(judged)
    # temperature 0 and max tokens come from the prompt, rendered as `promptls run` renders it
    sent = fakes["openai"].calls[0].json()
    assert sent["temperature"] == 0 and sent["model"] == "gpt-4o-mini"

    code, doc, err = ws.run_json("capital.tests.yaml", capsys=capsys)
    assert code == 0, err
    assert all(r["cached"] and r["pass"] for r in doc["results"])
    assert len(fakes["openai"].calls) == 3 and len(fakes["anthropic"].calls) == 1  # nothing new was sent
    code, out, _ = ws.run("capital.tests.yaml", capsys=capsys)
    assert code == 0 and "hit" in out and "3 from cache" in out and "recommended: openai gpt-4o-mini" in out


ECHO_PROMPT = """---
model: gpt-4o-mini
input:
  schema:
    who: string
---
Describe {{who}} as JSON.
"""

REPLY = '{"name": "Ada", "born": 1815, "tags": ["math", "poetry"]}'

PASSING = """
      - type: equals
        value: {"name": "Ada", "born": 1815, "tags": ["math", "poetry"]}
      - type: contains
        value: '"Ada"'
      - type: icontains
        value: ADA
      - type: contains-any
        value: [nobody, Ada]
      - type: contains-all
        value: [Ada, math]
      - type: icontains-all
        value: [ADA, POETRY]
      - type: icontains-any
        value: [MATH]
      - type: regex
        value: '"born":\\s*18\\d\\d'
      - type: starts-with
        value: '{"name"'
      - type: is-json
      - type: contains-json
      - type: json-schema
        value: {type: object, required: [name, born], properties: {born: {type: integer}}}
      - type: expr
        value: json["born"] < 1900 and "math" in json["tags"] and len(output) > 10
      - type: python
        value: output.lower().count("ada") == 1
      - type: cost
        threshold: 0.01
      - type: latency
        threshold: 60000
      - type: tokens
        threshold: 1000
      - type: not-contains
        value: Babbage
      - type: not-regex
        value: '\\d{5}'
      - type: not-is-json
        weight: 0
      - type: llm-rubric
        value: describes a mathematician
"""

FAILING = """
      - type: equals
        value: Ada
      - type: contains
        value: Babbage
      - type: icontains
        value: babbage
      - type: contains-any
        value: [Babbage, Turing]
      - type: contains-all
        value: [Ada, Babbage]
      - type: icontains-all
        value: [ada, turing]
      - type: icontains-any
        value: [TURING]
      - type: regex
        value: '^Ada'
      - type: starts-with
        value: Ada
      - type: json-schema
        value: {type: object, required: [died]}
      - type: contains-json
        value: {type: object, properties: {born: {type: string}}}
      - type: expr
        value: json["born"] > 1900
      - type: python
        value: vars["who"] == "Grace"
      - type: cost
        threshold: 0.0000000001
      - type: tokens
        value: {output: 1}
      - type: not-contains
        value: Ada
      - type: not-is-json
      - type: llm-rubric
        value: describes a ship
"""


def _kinds_file(body_pass: str, body_fail: str) -> str:
    return f"""tests:
  - description: all pass
    vars: {{who: Ada}}
    assert:{body_pass}
  - description: all fail
    vars: {{who: Ada}}
    assert:{body_fail}
"""


def test_every_assertion_kind_passes_and_fails(ws, fakes, capsys):
    ws.write("kinds.prompt", ECHO_PROMPT)
    ws.write("kinds.tests.yaml", _kinds_file(PASSING, FAILING))
    fakes["openai"].reply(None, "Ada", REPLY)
    fakes["anthropic"].reply(None, "describes a ship", '{"reason": "no ship", "pass": false, "score": 0}')
    fakes["anthropic"].reply(None, "<rubric>", '{"reason": "a mathematician", "pass": true, "score": 0.9}')
    code, doc, err = ws.run_json("kinds.tests.yaml", capsys=capsys)
    assert code == 1, err
    ok, bad = doc["results"]
    assert ok["pass"] and ok["failures"] == [], ok["failures"]
    assert not bad["pass"] and bad["score"] == 0.0
    failed = [f["type"] for f in bad["failures"]]
    assert failed == ["equals", "contains", "icontains", "contains-any", "contains-all", "icontains-all",
                      "icontains-any", "regex", "starts-with", "json-schema", "contains-json", "expr", "python",
                      "cost", "tokens", "not-contains", "not-is-json", "llm-rubric"]
    lines = (ws.root / "kinds.tests.yaml").read_text().splitlines()
    for f in bad["failures"]:
        assert f["file"].endswith("kinds.tests.yaml")
        assert lines[f["line"] - 1].strip() == f"- type: {f['type']}"  # each failure points at its assertion
    reasons = {f["type"]: f["message"] for f in bad["failures"]}
    assert "Babbage" in reasons["contains"] and "died" in reasons["json-schema"]
    assert reasons["llm-rubric"] == "judge: no ship"


def test_weights_and_threshold(ws, fakes, capsys):
    ws.write("w.prompt", ECHO_PROMPT)
    ws.write("w.tests.yaml", """tests:
  - description: heavy pass outweighs a light failure
    vars: {who: Ada}
    threshold: 0.7
    assert:
      - {type: contains, value: Ada, weight: 3}
      - {type: contains, value: Babbage, weight: 1}
  - description: below the threshold
    vars: {who: Ada}
    threshold: 0.8
    assert:
      - {type: contains, value: Ada, weight: 3}
      - {type: contains, value: Babbage, weight: 1}
""")
    fakes["openai"].reply(None, "Ada", REPLY)
    code, doc, _ = ws.run_json("w.tests.yaml", capsys=capsys)
    a, b = doc["results"]
    assert a["pass"] and a["score"] == 0.75
    assert not b["pass"] and b["score"] == 0.75
    assert code == 1


def test_prompts_own_output_schema_is_checked(ws, fakes, capsys):
    ws.write("person.prompt", """---
model: gpt-4o-mini
output:
  format: json
  schema:
    name: string
    born: integer
    tags?: string[]
---
Describe {{who}}.
""")
    ws.write("person.tests.yaml", "tests:\n  - vars: {who: Ada}\n  - vars: {who: Grace}\n")
    ws.write("ticket.prompty", """---
name: ticket
model:
  id: gpt-4o-mini
inputs:
  - name: who
    kind: string
outputs:
  - name: priority
    kind: integer
---
user:
Triage a ticket from {{who}}.
""")
    ws.write("ticket.tests.yaml", "tests:\n  - vars: {who: Ada}\n")
    fakes["openai"].reply(None, "Ada", REPLY)
    fakes["openai"].reply(None, "Grace", '```json\n{"name": "Grace", "born": "1906"}\n```')
    code, doc, _ = ws.run_json(".", capsys=capsys)
    by = {(r["prompt"], r["case"]): r for r in doc["results"]}
    assert by[("person.prompt", "who=Ada")]["pass"]
    grace = by[("person.prompt", "who=Grace")]
    assert not grace["pass"] and grace["failures"][0]["type"] == "output-schema"
    assert "born" in grace["failures"][0]["message"]
    ticket = by[("ticket.prompty", "who=Ada")]
    assert not ticket["pass"] and "priority" in ticket["failures"][0]["message"]
    assert code == 1


def test_model_comparison_recommends_the_cheapest_meeting_the_targets(ws, fakes, capsys):
    ws.copy_example("capital.prompt")
    ws.write("capital.tests.yaml", """tests:
  - {description: France, vars: {country: France}, assert: [{type: icontains, value: paris}]}
  - {description: Japan, vars: {country: Japan}, assert: [{type: icontains, value: tokyo}]}
""")
    script_capitals(fakes, mini_wrong_on_japan=True)
    ws.config('[eval]\naccuracy-target = 0.5\nlatency-target-ms = 60000\nconcurrency = 2\n')
    code, doc, _ = ws.run_json("capital.tests.yaml", "--models", "gpt-4o-mini,openai/gpt-4o", capsys=capsys)
    models = {(m["provider"], m["model"]): m for m in doc["summary"]["models"]}
    mini, big = models[("openai", "gpt-4o-mini")], models[("openai", "gpt-4o")]
    assert mini["pass_rate"] == 0.5 and big["pass_rate"] == 1.0
    assert mini["cost_per_request_usd"] < big["cost_per_request_usd"]
    assert doc["summary"]["recommended"] == {"provider": "openai", "model": "gpt-4o-mini"}
    assert code == 1  # a case failed
    assert {c.json()["model"] for c in fakes["openai"].calls} == {"gpt-4o-mini", "gpt-4o"}

    ws.config('[eval]\naccuracy-target = 1.0\n')
    code, doc, _ = ws.run_json("capital.tests.yaml", "--models", "gpt-4o-mini,openai/gpt-4o", capsys=capsys)
    assert doc["summary"]["recommended"] == {"provider": "openai", "model": "gpt-4o"}
    assert all(r["cached"] for r in doc["results"])

    code, out, _ = ws.run("capital.tests.yaml", "--models", "gpt-4o-mini,openai/gpt-4o", capsys=capsys)
    assert "recommended: openai gpt-4o " in out and "missed" in out


def test_max_cost_refuses_before_any_call_and_counts_cached_answers_as_free(ws, fakes, capsys):
    ws.copy_example("capital.prompt")
    ws.copy_example("capital.tests.yaml")
    script_capitals(fakes)
    code, _, err = ws.run("capital.tests.yaml", "--max-cost", "0.0000001", capsys=capsys)
    assert code == 2 and "refusing to start: 4 call(s)" in err  # 3 cases and 1 judge call
    assert fakes["openai"].calls == [] and fakes["anthropic"].calls == []
    code, _, err = ws.run("capital.tests.yaml", "--max-cost", "1", capsys=capsys)
    assert code == 0, err
    ws.write("capital.tests.yaml", "tests:\n  - {vars: {country: France}, assert: [{type: icontains, value: paris}]}\n")
    code, _, err = ws.run("capital.tests.yaml", "--max-cost", "0", capsys=capsys)
    assert code == 0, err  # the answer is in the router's cache: the run costs nothing
    assert len(fakes["openai"].calls) == 3


def test_repeat_bypasses_the_cache_after_the_first_run(ws, fakes, capsys):
    ws.copy_example("capital.prompt")
    ws.write("capital.tests.yaml", "tests:\n  - {vars: {country: France}, assert: [{type: icontains, value: paris}]}\n")
    script_capitals(fakes)
    code, doc, _ = ws.run_json("capital.tests.yaml", "--repeat", "3", capsys=capsys)
    assert code == 0 and len(doc["results"]) == 3
    assert len(fakes["openai"].calls) == 3
    code, doc, _ = ws.run_json("capital.tests.yaml", "--repeat", "3", capsys=capsys)
    assert [r["cached"] for r in doc["results"]] == [True, False, False]


def test_budget_refusal_fails_the_cases(ws, fakes, capsys):
    ws.copy_example("capital.prompt")
    ws.write("capital.tests.yaml", "tests:\n  - {vars: {country: France}, assert: [{type: icontains, value: paris}]}\n")
    ws.config("[budget]\ndaily_usd = 0.0000000001\nledger_path = \"" + str(ws.root / "l2.sqlite3") + "\"\n"
              .replace("[budget]", "[budget]"))
    toml = (ws.root / "promptls.toml").read_text()
    toml = toml.replace(f'[budget]\nledger_path = "{ws.root / "state" / "ledger.sqlite3"}"\n', "")
    (ws.root / "promptls.toml").write_text(toml)
    code, doc, err = ws.run_json("capital.tests.yaml", capsys=capsys)
    assert code == 1, err
    (r,) = doc["results"]
    assert not r["pass"] and "budget" in r["failures"][0]["message"].lower()
    assert fakes["openai"].calls == []


def test_junit_one_testcase_per_model_and_case(ws, fakes, capsys):
    ws.copy_example("capital.prompt")
    ws.write("capital.tests.yaml", """tests:
  - {description: France, vars: {country: France}, assert: [{type: icontains, value: paris}]}
  - {description: Japan, vars: {country: Japan}, assert: [{type: icontains, value: tokyo}]}
""")
    script_capitals(fakes, mini_wrong_on_japan=True)
    out_file = ws.root / "report.xml"
    code, out, _ = ws.run("capital.tests.yaml", "--models", "gpt-4o-mini,openai/gpt-4o", "--format", "junit",
                          "-o", str(out_file), capsys=capsys)
    assert code == 1 and out == ""
    root = ET.fromstring(out_file.read_text())
    assert root.tag == "testsuites" and root.get("tests") == "4" and root.get("failures") == "1"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 4
    failing = [c for c in cases if c.find("failure") is not None]
    assert len(failing) == 1 and failing[0].get("name") == "Japan"
    assert "gpt-4o-mini" in failing[0].get("classname")
    assert "tokyo" in failing[0].find("failure").get("message")


def test_exit_codes_for_usage_and_configuration_errors(ws, fakes, capsys):
    assert ws.run("missing.tests.yaml", capsys=capsys)[0] == 2
    ws.write("bad.tests.yaml", "tests: [\n")
    code, _, err = ws.run("bad.tests.yaml", capsys=capsys)
    assert code == 2 and "bad.tests.yaml:" in err and "invalid YAML" in err
    ws.write("orphan.tests.yaml", "tests:\n  - vars: {a: 1}\n")
    code, _, err = ws.run("orphan.tests.yaml", capsys=capsys)
    assert code == 2 and "no prompt file beside" in err
    ws.copy_example("capital.prompt")
    ws.write("capital.tests.yaml", "tests:\n  - vars: {country: France}\n    assert:\n      - type: javascript\n"
                                   "        value: output.length > 2\n")
    code, _, err = ws.run("capital.tests.yaml", capsys=capsys)
    assert code == 2 and "capital.tests.yaml:4: error: assertion type 'javascript' is not supported" in err
    assert ws.run("capital.tests.yaml", "--repeat", "0", capsys=capsys)[0] == 2
    ws.config("[eval]\naccuracy-target = 3\n")
    code, _, err = ws.run("capital.tests.yaml", capsys=capsys)
    assert code == 2 and "accuracy-target" in err
    assert fakes["openai"].calls == []


def test_unsafe_expressions_are_rejected_with_their_line(ws, fakes, capsys):
    ws.copy_example("capital.prompt")
    ws.write("capital.tests.yaml", """tests:
  - vars: {country: France}
    assert:
      - type: expr
        value: __import__("os").system("true")
      - type: python
        value: output.__class__
      - type: expr
        value: '(lambda: 1)()'
""")
    code, _, err = ws.run("capital.tests.yaml", capsys=capsys)
    assert code == 2
    assert "capital.tests.yaml:5: error: expression: " in err
    assert "capital.tests.yaml:7: error: expression: attribute '__class__' is not allowed" in err
    assert "capital.tests.yaml:9: error: expression: Lambda is not allowed" in err
    assert fakes["openai"].calls == []


def test_promptfoo_config_as_its_documentation_writes_it(ws, fakes, capsys):
    ws.copy_example("promptfoo")
    fakes["openai"].reply(None, "French", "Bonjour le monde")
    fakes["openai"].reply(None, "German", "Guten Morgen")
    fakes["anthropic"].reply(None, "French", "Bonjour, monde")
    fakes["anthropic"].reply(None, "German", "Hello in German is Guten Morgen")
    code, doc, err = ws.run_json("promptfoo", capsys=capsys)
    assert err == ""
    got = {(r["provider"], r["model"], r["case"]): r for r in doc["results"]}
    assert set(got) == {(p, m, c) for p, m in (("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku-4-5"))
                        for c in ("French greeting", "German greeting")}
    assert all(r["prompt"] == "promptfoo/prompts/translate.txt" for r in doc["results"])
    bad = got[("anthropic", "claude-haiku-4-5", "German greeting")]
    assert not bad["pass"] and [f["type"] for f in bad["failures"]] == ["not-icontains"]
    assert sum(r["pass"] for r in doc["results"]) == 3 and code == 1
    (sent,) = fakes["anthropic"].calls[:1]
    body = sent.json()
    assert body["max_tokens"] == 200  # the provider's config (its temperature is the adapter's to send)
    assert "Translate the following text to French" in json.dumps(body) or \
        "Translate the following text to German" in json.dumps(body)


def test_promptfoo_provider_config_maps_onto_promptls_providers(ws, fakes, capsys):
    # no providers in promptls.toml: apiBaseUrl and apiKeyEnvar alone reach the fake
    (ws.root / "promptls.toml").write_text(f'[cache]\npath = "{ws.root / "c.sqlite3"}"\n'
                                           f'[budget]\nledger_path = "{ws.root / "l.sqlite3"}"\n')
    ws.write("promptfooconfig.yaml", f"""
description: inline prompt, providers with config, vars from a file
prompts:
  - 'Summarize in one word: {{{{topic}}}}'
providers:
  - id: openai:chat:gpt-4o
    label: big
    config:
      apiBaseUrl: {fakes.url('openai')}
      apiKeyEnvar: PLS_EVAL_OPENAI_KEY
      temperature: 0.2
      max_tokens: 33
      top_p: 0.9
  - id: ollama:chat:llama3.2:1b
    config:
      apiBaseUrl: {fakes.url('ollama')}
tests:
  - vars:
      topic: file://topic.txt
    assert:
      - type: icontains
        value: "{{{{expected}}}}"
    options:
      transformVars: whatever
defaultTest:
  vars:
    expected: cats
outputPath: results.html
""")
    ws.write("topic.txt", "all about cats")
    fakes["openai"].reply(None, "cats", "Cats")
    fakes["ollama"].reply(None, "cats", "Felines")
    code, doc, err = ws.run_json(".", capsys=capsys)
    lines = err.splitlines()
    assert "promptfooconfig.yaml:13: warning: provider config key 'top_p' is not supported" in lines[0] \
        or any("promptfooconfig.yaml:13: warning: provider config key 'top_p'" in x for x in lines)
    assert any("promptfooconfig.yaml:24: warning: test option key 'transformVars'" in x for x in lines)
    assert any("promptfooconfig.yaml:28: warning: config key 'outputPath'" in x for x in lines)
    by = {r["provider"]: r for r in doc["results"]}
    assert by["big"]["pass"] and by["big"]["model"] == "gpt-4o"
    assert not by["ollama"]["pass"] and by["ollama"]["model"] == "llama3.2:1b"
    assert by["ollama"]["cost_usd"] == 0.0  # local backends are free
    (sent,) = fakes["openai"].calls
    body = sent.json()
    assert body["model"] == "gpt-4o" and body["max_tokens"] == 33 and body["temperature"] == 0.2
    assert body["messages"] == [{"role": "user", "content": "Summarize in one word: all about cats"}]
    assert fakes["ollama"].calls[0].json()["model"] == "llama3.2:1b"
    assert code == 1


def test_promptfoo_unsupported_parts_are_errors_with_lines(ws, fakes, capsys):
    ws.write("promptfooconfig.yaml", """prompts:
  - file://make_prompt.py:build
providers:
  - bedrock:anthropic.claude-3
  - id: openai:chat:gpt-4o
    config:
      apiKey: sk-not-a-real-key
tests: file://cases.csv
""")
    code, _, err = ws.run("promptfooconfig.yaml", capsys=capsys)
    assert code == 2
    assert "promptfooconfig.yaml:2: error: prompt file://make_prompt.py:build: prompts generated by code" in err
    assert "promptfooconfig.yaml:4: error: provider 'bedrock:anthropic.claude-3'" in err
    assert "promptfooconfig.yaml:7: error: keys never go in a file" in err
    assert "promptfooconfig.yaml:8: error: tests 'file://cases.csv'" in err
    assert fakes["openai"].calls == []
