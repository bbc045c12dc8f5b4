"""A key echoed in a provider's 401 body never reaches stdout, stderr, `--json` or a log file (doctor and run),
for the default variable (OPENAI_API_KEY) and a custom `api_key_env` holding a token of no known shape."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import pytest

from promptls.cli import main
from promptls.core.secrets import RedactingFilter, redact_text, register_key_envs

PROMPT = "---\nmodel: openai/gpt-4o-mini\n---\nSay hello.\n"


@pytest.fixture
def echoing(fakes, tmp_path, monkeypatch):
    keys = {
        "OPENAI_API_KEY": "sk-proj-" + secrets.token_urlsafe(40),
        "MY_GATEWAY_TOKEN": "gw." + secrets.token_hex(24),  # no known key shape: only its literal value tells
    }
    for env, value in keys.items():
        monkeypatch.setenv(env, value)
    (tmp_path / "promptls.toml").write_text(f"""
[providers.fast]
kind = "openai"
base_url = "{fakes.url('openai')}"

[providers.gateway]
kind = "openai"
base_url = "{fakes.url('openai')}"
api_key_env = "MY_GATEWAY_TOKEN"

[router]
run = ["fast", "gateway"]
max_attempts = 1

[cache]
enabled = false

[budget]
ledger_path = "{tmp_path / 'ledger.sqlite3'}"
""")
    (tmp_path / "hello.prompt").write_text(PROMPT)
    monkeypatch.chdir(tmp_path)
    fakes["openai"].echo_key_401 = True
    log_file = tmp_path / "promptls.log"
    handler = logging.FileHandler(log_file)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield keys, log_file
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def _assert_clean(keys: dict[str, str], *texts: str) -> None:
    for text in texts:
        for value in keys.values():
            assert value not in text
            assert value[:16] not in text and value[-16:] not in text  # nor a fragment long enough to matter


@pytest.mark.parametrize("as_json", [False, True])
def test_doctor_never_prints_an_echoed_key(echoing, fakes, capsys, as_json):
    keys, log_file = echoing
    code = main(["doctor", *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert code == 1  # both providers refuse the key
    assert len(fakes["openai"].requests) >= 2  # the fake was asked, and echoed each key
    assert "auth" in out and "[REDACTED]" in out
    if as_json:
        report = json.loads(out)
        assert report["providers"]["gateway"]["ok"] is False
    _assert_clean(keys, out, err, log_file.read_text())


@pytest.mark.parametrize("as_json", [False, True])
def test_run_never_prints_or_logs_an_echoed_key(echoing, fakes, capsys, as_json):
    keys, log_file = echoing
    code = main(["run", "hello.prompt", *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert code == 1
    assert len(fakes["openai"].calls) == 2
    shown = json.loads(out)["error"] if as_json else err
    assert "auth" in shown and "[REDACTED]" in shown
    logged = log_file.read_text()
    assert "fast" in logged  # the failures were logged, redacted
    _assert_clean(keys, out, err, logged, *(p.read_bytes().decode("latin-1") for p in Path.cwd().glob("ledger*")))


def test_redact_text_covers_literals_fragments_and_shapes(monkeypatch):
    token = "tok_" + secrets.token_hex(20)
    monkeypatch.setenv("PLS_TEST_CUSTOM_TOKEN", token)
    register_key_envs(["PLS_TEST_CUSTOM_TOKEN"])
    shaped = "sk-ant-api03-" + secrets.token_urlsafe(40)
    text = f"a {token} b {token[:20]}… c ***{token[-14:]} d {shaped}"
    clean = redact_text(text)
    assert token[:12] not in clean and token[-12:] not in clean and shaped not in clean
    assert clean.startswith("a [REDACTED] b [REDACTED]… c ***[REDACTED] d [REDACTED:anthropic]")


def test_log_filter_redacts_arguments_and_tracebacks(monkeypatch):
    token = "tok_" + secrets.token_hex(20)
    monkeypatch.setenv("PLS_TEST_CUSTOM_TOKEN", token)
    register_key_envs(["PLS_TEST_CUSTOM_TOKEN"])
    try:
        raise RuntimeError(f"refused {token}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "body: %s", (token,), sys.exc_info())
    assert RedactingFilter().filter(record)
    assert token not in record.getMessage() and token not in (record.exc_text or "")
    assert "[REDACTED]" in record.getMessage()
