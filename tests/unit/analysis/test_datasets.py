"""Tests for promptls.analysis.datasets: every DS rule on realistic JSONL, exact spans, the streaming file path agreeing
with the in-memory one, the summary figures against an independent tiktoken computation, sniffing, caps."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from promptls.analysis.datasets import DatasetSettings, check_file, check_text, looks_like_dataset
from promptls.analysis.datasets import check as check_module
from promptls.core.positions import LineIndex
from promptls.tokens import get_encoding

SYSTEM = "You are Acme Cloud's support assistant. Answer briefly and link the relevant docs page."
QUESTIONS = [
    ("How do I rotate an API key?", "Open Settings → API keys, click Rotate, then update your deployments."),
    ("Why was my card declined?", "Usually the bank blocked a foreign charge; retry or use another card."),
    ("Can I move a bucket to eu-west-1?", "Not in place: create a bucket there and copy objects with `acme cp`."),
    ("What does error 403 mean?", "The service account lacks a role on the resource; grant storage.reader."),
    ("How do I cancel my plan?", "Billing → Plan → Cancel. You keep access until the end of the cycle."),
    ("Is there an SLA?", "Yes, 99.95% monthly uptime on the Business plan; see /docs/sla."),
    ("Where are invoices?", "Billing → Invoices; each one can be downloaded as PDF."),
    ("How do I add a teammate?", "Team → Invite, enter their e-mail and pick a role."),
    ("Can I get a refund?", "Within 14 days of purchase, yes — write to billing@acme.example."),
    ("Which regions do you support?", "us-east-1, us-west-2, eu-west-1 and ap-southeast-1."),
    ("Does the CLI support Windows?", "Yes, install it with `winget install acme.cli`."),
]


def chat(question: str, answer: str, system: str = SYSTEM) -> dict:
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": question},
                         {"role": "assistant", "content": answer}]}


def tool_example() -> dict:
    return {
        "tools": [{"type": "function", "function": {"name": "get_invoice", "parameters": {
            "type": "object", "properties": {"invoice_id": {"type": "string"}}}}}],
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": [{"type": "text", "text": "Show me invoice INV-0042."}]},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {
                "name": "get_invoice", "arguments": "{\"invoice_id\": \"INV-0042\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"total\": 120.5, \"status\": \"paid\"}"},
            {"role": "assistant", "content": "Invoice INV-0042 is paid: $120.50.", "weight": 1},
        ],
    }


def clean_examples() -> list[dict]:
    examples = [chat(q, a) for q, a in QUESTIONS]
    examples.append(tool_example())
    multi = chat("Hi", "Hello! How can I help?")
    multi["messages"][2]["weight"] = 0
    multi["messages"] += [{"role": "user", "content": "Reset 2FA", "name": "dana"},
                          {"role": "assistant", "content": "Use Account → Security → Reset 2FA."}]
    examples.append(multi)
    return examples


def jsonl(rows: list[dict | str], newline: str = "\n") -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + newline for row in rows)


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


def only(result, code: str):
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, [(f.code, f.message) for f in result.findings]
    return found[0]


# -- clean files ---------------------------------------------------------------------------------------------------
PREFERENCE_ROWS = [
    {"input": {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]},
     "preferred_output": [{"role": "assistant", "content": a}],
     "non_preferred_output": [{"role": "assistant", "content": "I don't know, check the website."}]}
    for q, a in QUESTIONS
]
PROMPT_ROWS = [{"prompt": f"Q: {q}\nA:", "completion": f" {a}"} for q, a in QUESTIONS]
ALPACA_ROWS = [{"instruction": "Answer the customer's question.", "input": q, "output": a} for q, a in QUESTIONS]


@pytest.mark.parametrize(("rows", "fmt"), [
    (clean_examples(), "chat"),
    (PREFERENCE_ROWS, "preference"),
    (PROMPT_ROWS, "prompt-completion"),
    (ALPACA_ROWS, "alpaca"),
])
def test_clean_files_have_no_findings(rows, fmt):
    result = check_text(jsonl(rows) + "\n\n", DatasetSettings())  # blank lines are allowed
    assert result.findings == []
    assert result.summary.format == fmt
    assert result.summary.examples == len(rows)
    assert result.summary.invalid_lines == 0


# -- every rule fires, with the span on the offending text -----------------------------------------------------------
def _bad_message(**message) -> dict:
    example = chat("Where is my data stored?", "In the region you picked when creating the project.")
    example["messages"].insert(2, message)
    return example


CASES = [
    ("DS001", '{"messages": [{"role": "user", "content": "Hi"}', None),
    ("DS001", '[{"role": "user", "content": "Hi"}]', None),
    ("DS001", '{"messages": [], "score": NaN}', None),
    ("DS002", _bad_message(role="user", content=42), "42"),
    ("DS002", _bad_message(role="assistant", content="Sure.", weight=2), "2"),
    ("DS003", _bad_message(content="No role here"), '{"content": "No role here"}'),
    ("DS004", dict(chat("Hi", "Hello!"), metadata={"source": "zendesk"}), '"metadata"'),
    ("DS005", _bad_message(role="bot", content="Beep."), '"bot"'),
    ("DS006", _bad_message(role="user"), '{"role": "user"}'),
    ("DS007", {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hello?"}]},
     '"messages"'),
    ("DS010", _bad_message(role="user", content="   "), '"   "'),
    ("DS012", {"prompt": "Q: Hi\nA:", "completion": " Hello!"}, None),
]


@pytest.mark.parametrize(("code", "row", "expected"), CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_each_rule_fires_with_exact_span(code, row, expected):
    rows = [*clean_examples(), row]
    text = jsonl(rows)
    result = check_text(text, DatasetSettings())
    finding = only(result, code)
    line = text.splitlines()[-1]
    line_start = text.rindex(line)
    assert text[finding.span.start:finding.span.end] == (line if expected is None else expected)
    assert line_start <= finding.span.start <= finding.span.end <= line_start + len(line)
    assert set(codes(result)) == {code}
    assert result.locator.pos(finding.span.start).line == len(rows) - 1


def test_missing_completion_and_unknown_format_line():
    rows = [*PROMPT_ROWS, {"prompt": "Q: Ping?\nA:"}, {"text": "free-form line"}]
    result = check_text(jsonl(rows), DatasetSettings())
    # A line with no known key is checked as the file's format: its keys are wrong, and it lacks the required ones.
    assert [(f.code, f.message) for f in result.findings] == [
        ("DS003", "Missing required field `completion`."),
        ("DS003", "Missing required field `prompt`."),
        ("DS003", "Missing required field `completion`."),
        ("DS004", "Unknown key 'text' in a prompt/completion example."),
    ]


def test_ds008_example_longer_than_the_training_context():
    long_answer = " ".join(["The deployment failed because the bucket policy denies the service account."] * 20)
    rows = [*clean_examples(), chat("Why did the deploy fail?", long_answer)]
    text = jsonl(rows)
    result = check_text(text, DatasetSettings(max_example_tokens=200))
    finding = only(result, "DS008")
    assert text[finding.span.start:finding.span.end] == text.splitlines()[-1]
    assert "200-token training limit" in finding.message
    assert result.summary.over_limit == 1
    assert check_text(text, DatasetSettings()).findings == []  # 65,536 for gpt-4o-mini


def test_ds009_duplicate_names_the_first_line_even_when_written_differently():
    rows = clean_examples()
    first = rows[3]
    reordered = {"messages": [{"content": m["content"], "role": m["role"]} for m in first["messages"]]}
    text = jsonl(rows) + json.dumps(reordered, indent=None, separators=(" ,", " : ")) + "\n"
    result = check_text(text, DatasetSettings())
    finding = only(result, "DS009")
    assert finding.message == "Duplicate of the example on line 4."
    assert text[finding.span.start:finding.span.end] == text.splitlines()[-1]
    assert result.summary.duplicates == 1


def test_ds011_once_per_file_on_the_first_differing_system_prompt():
    rows = clean_examples()
    rows.insert(2, chat("Ahoy?", "Arr, ye be welcome.", system="You are a pirate."))
    rows.append(chat("Ahoy again?", "Arr.", system="You are a parrot."))
    rows.append(chat("Ahoy once more?", "Arr!", system="You are a pirate."))
    text = jsonl(rows)
    result = check_text(text, DatasetSettings())
    finding = only(result, "DS011")
    assert text[finding.span.start:finding.span.end] == '"You are a pirate."'
    assert result.locator.pos(finding.span.start).line == 2
    assert finding.message == "System prompt differs from the one on line 1; 3 variants in this file."
    assert result.summary.system_prompt_variants == 3


def test_ds013_too_few_examples_at_the_start_of_the_file():
    text = "\n" + jsonl([chat(q, a) for q, a in QUESTIONS[:3]])
    result = check_text(text, DatasetSettings())
    finding = only(result, "DS013")
    assert finding.message.startswith("Only 3 examples")
    assert text[finding.span.start:finding.span.end] == text.splitlines()[1]
    empty = check_text("", DatasetSettings())
    assert [(f.code, f.span.start, f.span.end) for f in empty.findings] == [("DS013", 0, 0)]
    assert empty.locator.pos(0).line == 0


def test_tool_and_function_messages_need_their_ids_and_names():
    example = tool_example()
    del example["messages"][3]["tool_call_id"]
    legacy = chat("Weather?", "Sunny.")
    legacy["messages"].insert(2, {"role": "function", "content": "{\"temp\": 21}"})
    text = jsonl([*clean_examples(), example, legacy])
    result = check_text(text, DatasetSettings())
    messages = sorted(f.message for f in result.findings)
    assert messages == ["Function message without `name`.", "Missing required field `tool_call_id`."]


def test_assistant_only_fields_on_user_messages_and_weight_zero_without_content():
    example = chat("Hi", "Hello!")
    example["messages"][1]["weight"] = 1
    silent = chat("Ping", "Pong")
    silent["messages"].insert(2, {"role": "assistant", "weight": 0})
    text = jsonl([*clean_examples(), example, silent])
    result = check_text(text, DatasetSettings())
    assert [(f.code, text[f.span.start:f.span.end]) for f in result.findings] == [
        ("DS004", '"weight"'),
        ("DS006", '{"role": "assistant", "weight": 0}'),
    ]


def test_preference_outputs_must_be_assistant_messages():
    bad = json.loads(json.dumps(PREFERENCE_ROWS[0]))
    bad["non_preferred_output"][0]["role"] = "user"
    missing = {"preferred_output": [{"role": "assistant", "content": "Yes."}],
               "non_preferred_output": [{"role": "assistant", "content": "No."}]}
    text = jsonl([*PREFERENCE_ROWS, bad, missing])
    result = check_text(text, DatasetSettings())
    ds007 = only(result, "DS007")
    assert text[ds007.span.start:ds007.span.end] == '"user"'
    assert only(result, "DS003").message == "Missing required field `input`."


def test_messages_never_carry_a_secret():
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
    row = chat("Hi", "Hello!")
    row[key] = True
    result = check_text(jsonl([*clean_examples(), row]), DatasetSettings())
    finding = only(result, "DS004")
    assert key not in finding.message and key[:12] not in finding.message
    assert "REDACTED" in finding.message


# -- the streaming file path agrees with the in-memory one -----------------------------------------------------------
def _mixed_bytes() -> bytes:
    rows: list[dict | str] = [*clean_examples()]
    rows.insert(1, chat("¿Dónde están mis facturas? 请帮忙 🙏", "En Facturación → Facturas 📄."))
    rows.insert(4, _bad_message(role="bot", content="Ça va? 日本語 🚀"))
    rows.insert(6, '{"messages": [{"role": "user", "content": "Schön"}')
    rows.insert(8, dict(chat("Ünïcödé?", "Ja 👍"), source="crm"))
    rows.append(rows[1])
    return ("\ufeff" + jsonl(rows, newline="\r\n") + "\r\n").encode("utf-8")


def _view(result) -> list[tuple[str, int, int, str]]:
    return [(f.code, f.span.start, f.span.end, f.message) for f in result.findings]


def test_check_file_agrees_with_check_text_on_non_ascii_crlf_and_bom(tmp_path: Path):
    data = _mixed_bytes()
    path = tmp_path / "train.jsonl"
    path.write_bytes(data)
    text = data.decode("utf-8-sig")  # what the engine and editors hand over: BOM removed
    from_file, from_text = check_file(str(path), DatasetSettings()), check_text(text, DatasetSettings())
    assert _view(from_file) == _view(from_text)
    assert {f.code for f in from_file.findings} == {"DS001", "DS004", "DS005", "DS009"}
    assert from_file.summary.to_json() == from_text.summary.to_json()
    index = LineIndex(text)
    for finding in from_file.findings:
        assert from_file.locator.range(finding.span) == index.range(finding.span)
        assert from_file.locator.client_range(finding.span) == index.client_range(finding.span)
    bot = only(from_file, "DS005")
    assert text[bot.span.start:bot.span.end] == '"bot"'


def test_lone_cr_inside_a_line_counts_as_a_line_break_like_lsp(tmp_path: Path):
    rows = jsonl([*clean_examples()[:10], chat("Hi", "Hello!")]).splitlines()
    rows[4] = rows[4].replace(', "content"', ',\r"content"', 1)  # JSON whitespace, a line break for LSP
    rows.append('{"messages": [{"role": "robot", "content": "Beep"}, {"role": "assistant", "content": "Hm"}]}')
    text = "\n".join(rows) + "\n"
    path = tmp_path / "cr.jsonl"
    path.write_bytes(text.encode())
    result = check_file(str(path), DatasetSettings())
    finding = only(result, "DS005")
    assert result.locator.range(finding.span) == LineIndex(text).range(finding.span)
    assert result.locator.pos(finding.span.start).line == len(rows)  # one more than the JSONL line index
    assert _view(result) == _view(check_text(text, DatasetSettings()))


def test_invalid_utf8_line_is_a_finding_not_a_crash(tmp_path: Path):
    good = jsonl([*clean_examples(), _bad_message(role="bot", content="Beep")]).encode()
    lines = good.split(b"\n")
    lines.insert(2, b'{"messages": [{"role": "user", "content": "caf\xe9 \xff"}]}')
    data = b"\n".join(lines)
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(data)
    result = check_file(str(path), DatasetSettings())
    bad = [f for f in result.findings if f.code == "DS001"]
    assert len(bad) == 1 and "not valid UTF-8 (byte 47)" in bad[0].message
    assert result.locator.pos(bad[0].span.start).line == 2
    # Offsets after the bad line count it as an editor shows it: with replacement characters.
    shown = data.decode("utf-8", "replace")
    later = only(result, "DS005")
    assert shown[later.span.start:later.span.end] == '"bot"'
    assert result.summary.invalid_lines == 1
    assert result.summary.examples == len(clean_examples()) + 1


@pytest.mark.parametrize("split_crlf", [False, True])
def test_oversized_line_is_reported_and_skipped(tmp_path: Path, monkeypatch, split_crlf: bool):
    def dataset(padding: int) -> str:
        long_row = chat("Long question " * 80 + "x" * padding, "Long answer é" * 80)
        return jsonl([*clean_examples(), long_row, _bad_message(role="bot", content="Beep")], newline="\r\n")

    text = dataset(0)
    limit = max(len(line.encode()) for line in text.split("\r\n") if "Long" not in line) + 2
    long_bytes = len(next(line for line in text.split("\r\n") if "Long" in line).encode())
    if split_crlf:  # make a piece end between the line's '\r' and its '\n'
        text = dataset((limit - (long_bytes + 1) % limit) % limit)
        long_bytes = len(next(line for line in text.split("\r\n") if "Long" in line).encode())
        assert (long_bytes + 1) % limit == 0
    assert long_bytes > 3 * limit  # read in several pieces
    monkeypatch.setattr(check_module, "MAX_LINE_BYTES", limit)
    path = tmp_path / "long.jsonl"
    path.write_bytes(text.encode())
    result = check_file(str(path), DatasetSettings())
    too_long = [f for f in result.findings if f.code == "DS001"]
    assert len(too_long) == 1 and "was not analysed" in too_long[0].message
    lines = text.split("\r\n")
    assert text[too_long[0].span.start:too_long[0].span.end] == lines[len(clean_examples())]
    bot = only(result, "DS005")
    assert text[bot.span.start:bot.span.end] == '"bot"'
    assert result.locator.pos(bot.span.start).line == len(clean_examples()) + 1


# -- summary figures against an independent computation ----------------------------------------------------------
def test_summary_matches_independent_tiktoken_count():
    rows = [chat(q, a) for q, a in QUESTIONS]
    encoding = get_encoding("o200k_base")

    def n(text: str) -> int:
        return len(encoding.encode_ordinary(text))

    # OpenAI Cookbook: 3 tokens per message + role + content, and 3 to prime the reply.
    expected = [sum(3 + n(m["role"]) + n(m["content"]) for m in row["messages"]) + 3 for row in rows]
    result = check_text(jsonl(rows), DatasetSettings(epochs=2))
    s = result.summary
    assert (s.examples, s.tokens_min, s.tokens_max, s.total_tokens) == (
        len(rows), min(expected), max(expected), sum(expected))
    assert s.tokens_mean == pytest.approx(sum(expected) / len(rows))
    assert s.tokens_p95 == sorted(expected)[math.ceil(0.95 * len(expected)) - 1]
    assert s.billed_tokens == sum(expected) * 2
    assert s.training_cost_usd == pytest.approx(sum(expected) * 2 / 1e6 * 3.0)  # gpt-4o-mini: $3 per Mtok
    assert (s.model, s.tokenizer, s.exact, s.max_example_tokens) == ("gpt-4o-mini-2024-07-18", "o200k_base",
                                                                     True, 65536)
    assert s.training_price_source.startswith("https://platform.openai.com/docs/pricing")
    assert json.loads(json.dumps(s.to_json()))["billed_tokens"] == s.billed_tokens


def test_prompt_completion_and_alpaca_are_counted_as_concatenated_text():
    encoding = get_encoding("cl100k_base")
    settings = DatasetSettings(model="gpt-3.5-turbo")
    s = check_text(jsonl(PROMPT_ROWS), settings).summary
    assert s.total_tokens == sum(len(encoding.encode_ordinary(r["prompt"] + r["completion"])) for r in PROMPT_ROWS)
    assert (s.model, s.tokenizer, s.max_example_tokens) == ("gpt-3.5-turbo-0125", "cl100k_base", 16385)
    a = check_text(jsonl(ALPACA_ROWS), settings).summary
    assert a.total_tokens == sum(len(encoding.encode_ordinary("\n".join((r["instruction"], r["input"], r["output"]))))
                                 for r in ALPACA_ROWS)


def test_tool_definitions_and_images_make_the_count_approximate():
    rows = [*[chat(q, a) for q, a in QUESTIONS], tool_example()]
    assert check_text(jsonl(rows), DatasetSettings()).summary.exact is False
    assert check_text(jsonl(rows[:-1]), DatasetSettings()).summary.exact is True


def test_reservoir_p95_is_exact_below_its_size_and_bounded_above():
    reservoir = check_module.Reservoir(size=100)
    for value in range(1, 1001):
        reservoir.add(value)
    assert len(reservoir.values) == 100
    assert 850 <= reservoir.percentile(95) <= 1000
    small = check_module.Reservoir(size=100)
    for value in (5, 1, 4, 2, 3):
        small.add(value)
    assert small.percentile(95) == 5 and small.percentile(50) == 3


def test_limit_lines_analyses_only_the_visible_part():
    rows = [chat(q, a) for q, a in QUESTIONS] + [_bad_message(role="bot", content="Beep")]
    result = check_text(jsonl(rows), DatasetSettings(), limit_lines=4)
    assert result.summary.examples == 4 and result.summary.complete is False
    assert result.findings == []  # neither DS013 (not the whole file) nor the DS005 further down


# -- caps, sniffing, settings ----------------------------------------------------------------------------------------
def test_findings_are_capped_per_code_with_the_rest_counted():
    cap = check_module.MAX_FINDINGS_PER_CODE
    rows = [dict(chat(f"Question {i}?", f"Answer {i}."), source="crm") for i in range(cap + 37)]
    result = check_text(jsonl(rows), DatasetSettings())
    ds004 = [f for f in result.findings if f.code == "DS004"]
    assert len(ds004) == cap
    assert ds004[-1].message.endswith("(and 37 more DS004 findings not shown)")
    assert not ds004[0].message.endswith("not shown)")


@pytest.mark.parametrize(("lines", "expected"), [
    ([json.dumps(r) for r in clean_examples()[:5]], True),
    (["", json.dumps(PREFERENCE_ROWS[0]), "  "], True),
    ([json.dumps(PROMPT_ROWS[0]), "{broken", json.dumps(PROMPT_ROWS[1])], True),
    (["\ufeff" + json.dumps(ALPACA_ROWS[0])], True),
    (['{"level": "info", "msg": "started"}', '{"level": "warn", "msg": "slow"}'], False),
    (["# Release notes", "- fixed a crash"], False),
    (["{broken", "[1, 2]", json.dumps(PROMPT_ROWS[0])], False),
    (["", "   "], False),
    ([], False),
])
def test_looks_like_dataset(lines, expected):
    assert looks_like_dataset(lines) is expected


def test_price_and_limit_overrides_come_from_settings():
    rows = [chat(q, a) for q, a in QUESTIONS]
    s = check_text(jsonl(rows), DatasetSettings(training_price_per_mtok=10.0, max_example_tokens=1000)).summary
    assert s.training_cost_usd == pytest.approx(s.billed_tokens / 1e6 * 10.0)
    assert s.training_price_source == "settings" and s.max_example_tokens == 1000


def test_unknown_model_has_no_price_and_the_catalog_limit():
    s = check_text(jsonl([chat(q, a) for q, a in QUESTIONS]), DatasetSettings(model="gpt-4o-2024-05-13")).summary
    assert s.training_cost_usd is None
    assert s.max_example_tokens == 128000  # the catalog's context window
    assert "not a fine-tunable model" in (s.training_price_source or "")


def test_arbitrary_json_shapes_never_crash_and_spans_stay_on_their_line(tmp_path: Path):
    import copy
    import random

    rng = random.Random(7)
    odd = [None, True, 0, 2, 1.5, "", " ", "bot", "assistant", [], {}, [1], {"a": 1}, {"type": []},
           [{"type": "image_url"}], {"name": 3}]

    def mutate(value):
        if isinstance(value, dict) and value:
            value = dict(value)
            key = rng.choice(list(value))
            value[key] = mutate(value[key]) if rng.random() < 0.6 else rng.choice(odd)
            if rng.random() < 0.15:
                extra = rng.choice(["weight", "name", "tool_calls", "function_call", "refusal", "type"])
                value[extra] = rng.choice(odd)
            return value
        if isinstance(value, list) and value:
            value = list(value)
            i = rng.randrange(len(value))
            value[i] = mutate(value[i]) if rng.random() < 0.7 else rng.choice(odd)
            return value
        return rng.choice(odd)

    base = [*clean_examples(), *PREFERENCE_ROWS[:2], *PROMPT_ROWS[:2], *ALPACA_ROWS[:2]]
    text = jsonl([mutate(copy.deepcopy(rng.choice(base))) for _ in range(400)])
    result = check_text(text, DatasetSettings())
    assert len({f.code for f in result.findings}) >= 8
    index = LineIndex(text)
    for finding in result.findings:
        assert "\n" not in text[finding.span.start:finding.span.end]
        assert result.locator.range(finding.span) == index.range(finding.span)
    path = tmp_path / "odd.jsonl"
    path.write_text(text, "utf-8")
    assert _view(check_file(str(path), DatasetSettings())) == _view(result)


def test_an_oversized_line_in_the_editor_is_a_finding_not_parsed(monkeypatch):
    """The editor's in-memory path reports a line over MAX_LINE_BYTES like check_file does, without parsing or
    tokenising it (a 50 MB line took a minute and 2.6 GB before), and both paths agree."""
    from promptls.analysis.datasets.check import check_text

    rows = clean_examples()
    long_row = chat("é" * 3000, "ok")  # 2 bytes per é: over the limit in bytes though under it in characters
    text = jsonl([*rows[:3], long_row, *rows[3:]])
    long_line = text.splitlines()[3]
    limit = len(long_line) + 100
    assert len(long_line.encode()) > limit and all(len(line.encode()) < limit for line in text.splitlines()[4:])
    monkeypatch.setattr(check_module, "MAX_LINE_BYTES", limit)
    result = check_text(text, DatasetSettings())
    too_long = [f for f in result.findings if f.code == "DS001"]
    assert len(too_long) == 1 and "was not analysed" in too_long[0].message
    assert text[too_long[0].span.start:too_long[0].span.end] == text.splitlines()[3]
    assert result.summary.examples == len(rows)
