"""Deadlines a person at a terminal accepts (a stalled provider fails after the configured connect or idle
deadline, and the error says which), `doctor` showing them, `run` marking a cut answer, and a missing SDK
naming the pip command that puts it back."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from tests.fakes.http import Fault

from promptls.cli import main
from promptls.providers import ErrorKind, NoProviderAvailable, ProviderError
from promptls.router import LLMRequest
from promptls.router.settings import DEFAULT_DEADLINES, Deadlines

SMALL = Deadlines(first_token_s=5.0, idle_s=0.4, total_s=30.0, connect_s=0.3)


def ask() -> LLMRequest:
    return LLMRequest(purpose="completion", messages=[{"role": "user", "content": "hi"}], cache=False)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_stall_before_headers_fails_after_the_connect_deadline_without_retrying(fakes, make_router, kind):
    fakes[kind].push(Fault(kind="stall_head"))
    router = make_router([kind, "ollama"], deadlines=SMALL)
    t0 = time.monotonic()
    result = await router.complete(ask())
    assert time.monotonic() - t0 < 10  # generous: the old default took 92 s
    assert result.outcome.provider == "ollama"  # failed over at once
    assert len(fakes[kind].calls) == 1  # not retried on the host that did not answer
    assert any("timeout" in s and "0.3s (connect_s" in s for s in result.outcome.skipped)


async def test_stall_mid_stream_fails_after_the_idle_deadline(fakes, make_router):
    fakes["openai"].push(Fault(kind="stall", after=2))
    router = make_router(["openai", "ollama"], deadlines=SMALL)
    t0 = time.monotonic()
    with pytest.raises(ProviderError) as info:
        await router.complete(ask())
    assert time.monotonic() - t0 < 10
    assert info.value.kind is ErrorKind.TIMEOUT and info.value.after_first_token
    assert "no chunk for 0.4s (idle_s)" in str(info.value)


def test_default_deadlines_fit_a_terminal():
    run = DEFAULT_DEADLINES["run"]
    assert run.connect_s <= 10 and run.idle_s <= 15 and run.total_s <= 300


PROMPT = "---\nmodel: openai/gpt-4o-mini\n---\nSay hello.\n"


@pytest.fixture
def workspace(fakes, keys, tmp_path, monkeypatch):
    (tmp_path / "promptls.toml").write_text(f"""
[providers.fast]
kind = "openai"
base_url = "{fakes.url('openai')}"
api_key_env = "PLS_TEST_OPENAI_KEY"

[router]
run = ["fast"]
max_attempts = 1

[router.deadlines.run]
connect_s = 0.3
idle_s = 0.4

[cache]
enabled = false

[budget]
ledger_path = "{tmp_path / 'ledger.sqlite3'}"
""")
    (tmp_path / "hello.prompt").write_text(PROMPT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_doctor_shows_the_deadlines(workspace, capsys):
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["deadlines"]["run"]["connect_s"] == 0.3 and report["deadlines"]["run"]["idle_s"] == 0.4
    assert report["deadlines"]["action"]["connect_s"] == DEFAULT_DEADLINES["action"].connect_s
    assert report["retries"]["max_attempts"] == 1 and report["providers"]["fast"]["timeout_s"] == 30
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "deadlines" in out and "connect 0.3" in out and "idle 0.4" in out


def test_run_applies_the_configured_connect_deadline(workspace, fakes, capsys):
    fakes["openai"].push(Fault(kind="stall_head"))
    t0 = time.monotonic()
    assert main(["run", "hello.prompt"]) == 1
    assert time.monotonic() - t0 < 10
    err = capsys.readouterr().err
    assert "timeout" in err and "0.3s (connect_s" in err


@pytest.mark.parametrize("fault", [Fault(kind="stall", after=2), Fault(kind="reset", after=2),
                                   Fault(tokens=["Hel", "lo"], terminal_frames=1)])
def test_run_marks_a_cut_answer(workspace, fakes, capsys, fault):
    fakes["openai"].push(fault)
    assert main(["run", "hello.prompt"]) == 1
    out, err = capsys.readouterr()
    partial, marker = out.rstrip("\n").rsplit("\n", 1)
    assert partial in ("Hello", "Hello,")
    assert marker.startswith("[truncated: ")
    assert "incomplete" in err
    fakes["openai"].push(fault)
    assert main(["run", "hello.prompt", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["truncated"] is True and doc["text"] in ("Hello", "Hello,") and doc["truncated_reason"]


def test_run_of_a_whole_answer_is_not_marked(workspace, fakes, capsys):
    assert main(["run", "hello.prompt", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["truncated"] is False
    assert main(["run", "hello.prompt"]) == 0
    assert "[truncated" not in capsys.readouterr().out


def test_a_missing_sdk_names_the_pip_command(workspace):
    # A fresh interpreter in which `openai` cannot be imported (as after `pip uninstall openai`).
    code = ("import sys; sys.modules['openai'] = None\n"
            "from promptls.cli import main\n"
            "sys.exit(main(['run', 'hello.prompt']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "the openai package is not installed: pip install 'openai>=3.51.0'" in proc.stderr
    assert "No module named" not in proc.stderr


async def test_a_missing_local_runtime_names_the_pip_commands(make_router):
    from promptls.providers.local_llama import LOCAL_INSTALL

    router = make_router(["nolocal"], providers={"nolocal": {"kind": "local", "model_path": "/nonexistent.gguf"}})
    with pytest.raises(NoProviderAvailable) as info:
        await router.complete(ask())
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        assert LOCAL_INSTALL in str(info.value)
    else:
        assert "model file not found" in str(info.value)
