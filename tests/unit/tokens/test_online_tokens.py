"""Online exact token counts (providers/counting.py) against the loopback fakes of the counting endpoints, through
the real SDKs: counts come from the endpoint, a second run is served from the persistent cache, a failing endpoint
leaves the estimate with one info line, throttling is bounded, no key reaches the cache file; and end to end through
`promptls check --online-tokens`."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakes.anthropic_fake import AnthropicFake  # noqa: E402
from tests.fakes.gemini_fake import GeminiFake  # noqa: E402
from tests.fakes.http import FakeProvider, FakeServer, Fault  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402

from promptls.router.counting import LABEL, CountRequest, OnlineCounter, kind_for  # noqa: E402
from promptls.router.settings import parse_router_settings  # noqa: E402

ENVS = {"anthropic": "PLS_COUNT_ANTHROPIC_KEY", "openai": "PLS_COUNT_OPENAI_KEY", "gemini": "PLS_COUNT_GEMINI_KEY"}
MODELS = {"anthropic": "claude-haiku-4-5", "openai": "gpt-4o-mini", "gemini": "gemini-2.5-flash"}
MESSAGES = (("system", "You are terse."), ("user", "Count the tokens of this sentence, please."))


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, tuple[FakeProvider, FakeServer]]]:
    import anthropic  # noqa: F401  (imported once, outside any request)
    import openai  # noqa: F401
    from google import genai  # noqa: F401

    apps: dict[str, FakeProvider] = {"anthropic": AnthropicFake(), "openai": OpenAIFake(), "gemini": GeminiFake()}
    servers = {k: FakeServer(a) for k, a in apps.items()}
    for s in servers.values():
        s.start()
    yield {k: (apps[k], servers[k]) for k in apps}
    for s in servers.values():
        s.stop()


@pytest.fixture(autouse=True)
def _reset(request: pytest.FixtureRequest) -> None:
    if "fakes" in request.fixturenames:
        for app, _ in request.getfixturevalue("fakes").values():
            app.reset()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    made = {"anthropic": "sk-ant-api03-" + secrets.token_urlsafe(40), "openai": "sk-proj-" + secrets.token_urlsafe(30),
            "gemini": "AIza" + secrets.token_urlsafe(26)[:35].ljust(35, "x")}
    for kind, env in ENVS.items():
        monkeypatch.setenv(env, made[kind])
    return made


def _tables(fakes) -> dict:
    out = {}
    for kind, (_, server) in fakes.items():
        url = server.url + "/v1" if kind == "openai" else server.url
        out[kind] = {"kind": kind, "model": MODELS[kind], "base_url": url, "api_key_env": ENVS[kind], "timeout_s": 10}
    return {"providers": out}


def _counter(fakes, tmp_path: Path, **kw) -> OnlineCounter:
    settings, errors = parse_router_settings(_tables(fakes))
    assert errors == []
    return OnlineCounter(settings, cache_path=tmp_path / "counts.sqlite3", **kw)


@pytest.mark.parametrize("kind", ["anthropic", "gemini", "openai"])
def test_counts_come_from_the_endpoint_then_from_the_cache(fakes, keys, tmp_path: Path, kind: str) -> None:
    app = fakes[kind][0]
    req = CountRequest(kind, MODELS[kind], MESSAGES)
    counter = _counter(fakes, tmp_path)
    try:
        got = counter.count(req)
    finally:
        counter.close()
    assert len(app.count_calls) == 1
    sent = app.count_calls[0]
    expected = app.count_response(sent)
    assert got is not None and not got.cached and got.label == LABEL
    assert got.tokens == expected.get("input_tokens", expected.get("totalTokens"))
    body = json.dumps(sent.json())
    assert "Count the tokens of this sentence" in body and "You are terse." in body  # system text counted too

    again = _counter(fakes, tmp_path)  # a new process' counter: the persistent cache answers
    try:
        second = again.count(req)
    finally:
        again.close()
    assert second is not None and second.cached and second.tokens == got.tokens
    assert len(app.count_calls) == 1
    assert "1 from cache" in (again.summary() or "")


def test_changed_prompt_is_counted_again(fakes, keys, tmp_path: Path) -> None:
    counter = _counter(fakes, tmp_path)
    try:
        counter.count(CountRequest("anthropic", MODELS["anthropic"], MESSAGES))
        counter.count(CountRequest("anthropic", MODELS["anthropic"], (*MESSAGES[:1], ("user", "Other text."))))
        counter.count(CountRequest("anthropic", "claude-sonnet-4-5", MESSAGES))  # another model, another key
    finally:
        counter.close()
    assert len(fakes["anthropic"][0].count_calls) == 3


def test_failing_endpoint_keeps_the_estimate_with_one_reason(fakes, keys, tmp_path: Path) -> None:
    app = fakes["anthropic"][0]
    app.push_count(Fault(kind="status", status=529), Fault(kind="status", status=529))
    counter = _counter(fakes, tmp_path)
    try:
        first = counter.count(CountRequest("anthropic", MODELS["anthropic"], MESSAGES))
        second = counter.count(CountRequest("anthropic", MODELS["anthropic"], (("user", "b"),)))
    finally:
        counter.close()
    assert first is None and second is None
    assert len(app.count_calls) == 2  # the SDK's own retries are off: one request each
    summary = counter.summary()
    assert summary is not None and "\n" not in summary
    assert "2 kept the offline estimate" in summary and "anthropic:" in summary and "verload" in summary
    # nothing cached for a failure: the next run asks again
    again = _counter(fakes, tmp_path)
    try:
        assert again.lookup(CountRequest("anthropic", MODELS["anthropic"], MESSAGES)) is None
    finally:
        again.close()


def test_missing_key_sends_nothing(fakes, keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENVS["gemini"])
    counter = _counter(fakes, tmp_path)
    try:
        assert counter.count(CountRequest("gemini", MODELS["gemini"], MESSAGES)) is None
    finally:
        counter.close()
    assert fakes["gemini"][0].count_calls == []
    assert ENVS["gemini"] in (counter.summary() or "")


def test_throttling_is_bounded(fakes, keys, tmp_path: Path) -> None:
    counter = _counter(fakes, tmp_path, rate_per_s=0.0, burst=2, max_wait_s=0.0)
    try:
        results = [counter.count(CountRequest("openai", MODELS["openai"], (("user", f"prompt {i}"),)))
                   for i in range(6)]
    finally:
        counter.close()
    assert len(fakes["openai"][0].count_calls) == 2
    assert sum(r is not None for r in results) == 2
    assert "throttled" in (counter.summary() or "")


def test_no_key_and_no_prompt_in_the_cache_file(fakes, keys, tmp_path: Path) -> None:
    counter = _counter(fakes, tmp_path)
    try:
        for kind in ("anthropic", "gemini", "openai"):
            assert counter.count(CountRequest(kind, MODELS[kind], MESSAGES)) is not None
    finally:
        counter.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("counts.sqlite3"))
    assert raw
    for key in keys.values():
        assert key.encode() not in raw and key[-12:].encode() not in raw
    assert b"Count the tokens" not in raw


def test_kind_for() -> None:
    assert kind_for("claude-haiku-4-5", "anthropic", "estimate:claude") == "anthropic"
    assert kind_for("gemini-2.5-flash", "vertex_ai", "estimate:gemini") == "gemini"
    assert kind_for("gpt-4o", "openai", "o200k_base") == "openai"
    assert kind_for("llama3.1-8b", "ollama", "llama3") is None


def _check(tmp_path: Path, fakes, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMPTLS_STATE_DIR": str(tmp_path / "state")}
    return subprocess.run([sys.executable, "-m", "promptls", "check", "--format", "json", *args, "p.prompt"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)


def _write_project(tmp_path: Path, fakes) -> None:
    (tmp_path / "p.prompt").write_text("---\nmodel: anthropic/claude-haiku-4-5\n---\n{{role \"system\"}}\n"
                                       "You are terse.\n{{role \"user\"}}\nSay hello to the world.\n", "utf-8")
    lines = []
    for kind, table in _tables(fakes)["providers"].items():
        lines.append(f"[providers.{kind}]")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in table.items())
    (tmp_path / "promptls.toml").write_text("\n".join(lines) + "\n", "utf-8")


def test_check_online_tokens_end_to_end(fakes, keys, tmp_path: Path) -> None:
    _write_project(tmp_path, fakes)
    app = fakes["anthropic"][0]

    offline = _check(tmp_path, fakes)
    assert app.count_calls == [], offline.stderr
    est = json.loads(offline.stdout)["files"][0]
    assert est["tokenizer"] == "estimate:claude" and not est["exact"]
    assert "online token counts" not in offline.stderr

    online = _check(tmp_path, fakes, "--online-tokens")
    assert len(app.count_calls) == 1, online.stderr
    got = json.loads(online.stdout)["files"][0]
    expected = app.count_response(app.count_calls[0])["input_tokens"]
    assert got["tokenizer"] == LABEL and got["exact"] and got["tokens"]["input"] == expected
    assert got["tokens"]["error_pct"] is None
    assert online.stderr.count("online token counts") == 1

    cached = _check(tmp_path, fakes, "--online-tokens")  # unchanged file: no request
    assert len(app.count_calls) == 1
    assert json.loads(cached.stdout)["files"][0]["tokens"]["input"] == expected

    (tmp_path / "p.prompt").write_text((tmp_path / "p.prompt").read_text("utf-8") + "And goodbye.\n", "utf-8")
    app.push_count(Fault(kind="status", status=500))
    failed = _check(tmp_path, fakes, "--online-tokens")
    assert len(app.count_calls) == 2
    kept = json.loads(failed.stdout)["files"][0]
    assert kept["tokenizer"] == "estimate:claude" and not kept["exact"]
    info = [line for line in failed.stderr.splitlines() if "online token counts" in line]
    assert len(info) == 1 and "kept the offline estimate" in info[0]
    for key in keys.values():
        assert key not in failed.stderr and key not in failed.stdout


def test_tools_reach_the_counting_endpoint_in_the_providers_shape(fakes, keys, tmp_path: Path) -> None:
    tool = {"name": "get_weather", "description": "Weather for a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
    counter = _counter(fakes, tmp_path)
    try:
        hook = counter.engine_hook()
        got = hook("claude-haiku-4-5", "anthropic", "estimate:claude", list(MESSAGES), [tool])
        openai_got = hook("gpt-4o-mini", "openai", "o200k_base", list(MESSAGES), [tool])
        gemini_got = hook("gemini-2.5-flash", "vertex_ai", "estimate:gemini", list(MESSAGES), [tool])
    finally:
        counter.close()
    sent = fakes["anthropic"][0].count_calls[0].json()
    assert sent["tools"] == [{"name": "get_weather", "description": "Weather for a city.",
                              "input_schema": tool["parameters"]}]
    assert got is not None and got[0] == fakes["anthropic"][0].count_response(fakes["anthropic"][0].count_calls[0])[
        "input_tokens"]
    sent_openai = fakes["openai"][0].count_calls[0].json()
    assert sent_openai["tools"][0]["type"] == "function" and sent_openai["tools"][0]["name"] == "get_weather"
    assert sent_openai["instructions"] == "You are terse." and openai_got is not None
    # Gemini's countTokens takes no tools: no request, the estimate stays, and the reason says so
    assert gemini_got is None and fakes["gemini"][0].count_calls == []
    assert "does not count tool definitions" in (counter.summary() or "")


def test_privacy_excluded_files_and_secrets_never_reach_a_counting_endpoint(fakes, keys, tmp_path: Path) -> None:
    """The router's privacy rules hold for counting too: a prompt made from an excluded file (the prompt itself or a
    partial it renders) is not sent, nor is a prompt holding a secret-shaped string; the estimate stays, and the
    one info line says why. The same prompt from an ordinary file is counted."""
    counter = _counter(fakes, tmp_path)
    try:
        hook = counter.engine_hook()
        excluded = hook("claude-haiku-4-5", "anthropic", "estimate:claude", list(MESSAGES),
                        paths=["/repo/prompts/ask.prompt", "/repo/conf/secrets.prompt"])
        leaked = hook("claude-haiku-4-5", "anthropic", "estimate:claude",
                      [("user", "Use the key " + keys["openai"] + " to call the API.")], paths=["/repo/a.prompt"])
        assert excluded is None and leaked is None
        assert fakes["anthropic"][0].count_calls == []
        assert "privacy-excluded" in (counter.summary() or "")
        ordinary = hook("claude-haiku-4-5", "anthropic", "estimate:claude", list(MESSAGES),
                        paths=["/repo/prompts/ask.prompt"])
    finally:
        counter.close()
    assert ordinary is not None and len(fakes["anthropic"][0].count_calls) == 1
    assert keys["openai"] not in json.dumps(fakes["anthropic"][0].count_calls[0].json())
