"""Team state on a real redis-server: shared budget across processes, shared cache and ledger, cross-process
coalescing, Redis killed and restarted mid-run, nothing secret in Redis, and the Lua reserve hammered."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.http import Fault
from tests.unit.router.helpers import KEY_ENVS, KINDS, REPO, provider_table
from tests.unit.router.redis_server import RedisServer

from promptls.providers import BudgetExceeded, Usage
from promptls.router import LLMRequest, Router, parse_router_settings
from promptls.router.pricing import estimate_prompt_tokens, price_usd
from promptls.router.state import namespace
from promptls.router.state_redis import NANO

MAX_TOKENS = 20
NS = "team-test"

pytestmark = pytest.mark.skipif(not any(
    os.access(os.path.join(p, "redis-server"), os.X_OK) for p in os.environ.get("PATH", "").split(os.pathsep)
), reason="redis-server not installed (scripts/bootstrap.sh installs it)")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis-durable", durable=True).start()
    yield server
    server.stop()


def per_call(prompt: str = "m0 call 00") -> float:
    tokens = estimate_prompt_tokens(len(prompt), 1)
    cost = price_usd("openai", "gpt-4o-mini", Usage(input_tokens=tokens, output_tokens=MAX_TOKENS))
    assert cost is not None and cost > 0, "the catalog must price gpt-4o-mini for this test"
    return cost


def config(fakes: Any, folder: Path, url: str, *, budget: dict[str, Any] | None = None,
           state: dict[str, Any] | None = None) -> dict[str, Any]:
    """A machine's config: its own state folder, the shared Redis."""
    tables = {k: provider_table(fakes, k) for k in KINDS}
    tables["ollama"]["remote"] = False
    return {
        "providers": tables,
        "router": {"run": ["openai"], "completion": ["openai"], "action": ["openai"], "max_attempts": 1},
        "cache": {"path": str(folder / "cache.sqlite3")},
        "budget": {"ledger_path": str(folder / "ledger.sqlite3"), **(budget or {})},
        "state": {"backend": "redis", "url": url, "namespace": NS, "timeout_s": 1.0, **(state or {})},
    }


def run_machine(job: dict[str, Any], folder: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "job.json"
    path.write_text(json.dumps(job))
    return subprocess.Popen([sys.executable, "-m", "tests.unit.router.state_machine", str(path)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def start_together(procs: list[subprocess.Popen[str]], go: Path) -> None:
    """Let the machines' calls begin at once (each waits, bounded, for `go` after building its router)."""
    import time

    time.sleep(1.0)  # most of their start-up; a late one still waits on the file, not on us
    go.write_text("go")


def results(proc: subprocess.Popen[str]) -> Any:
    out, err = proc.communicate(timeout=100)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def key_env(keys: dict[str, str]) -> dict[str, str]:
    return {env: keys[kind] for kind, env in KEY_ENVS.items()}


def counters(server: RedisServer) -> dict[str, int]:
    r = server.client()
    day, month = datetime.now().strftime("%Y-%m-%d"), datetime.now().strftime("%Y-%m")
    p = f"promptls:{NS}:"
    return {name: int(r.get(p + key) or 0) for name, key in (
        ("spent_d", f"b:spent:d:{day}"), ("spent_m", f"b:spent:m:{month}"),
        ("held_d", f"b:held:d:{day}"), ("held_m", f"b:held:m:{month}"))} | {"calls": r.llen(p + "calls")}


def test_two_machines_x_25_concurrent_calls_never_overshoot_one_daily_budget(fakes, keys, redis_server, tmp_path):
    budget = per_call() * 10.5  # room for 10 reservations at once
    tokens = [f"t{i}" for i in range(MAX_TOKENS)]
    fakes["openai"].push(*[Fault(tokens=tokens, token_delay_s=0.02) for _ in range(50)])
    procs = []
    for m in (0, 1):
        folder = tmp_path / f"machine{m}"
        job = {"mode": "calls", "max_tokens": MAX_TOKENS, "prompts": [f"m{m} call {i:02d}" for i in range(25)],
               "config": config(fakes, folder, redis_server.url, budget={"daily_usd": budget}),
               "go_file": str(tmp_path / "go")}
        procs.append(run_machine(job, folder, key_env(keys)))
    start_together(procs, tmp_path / "go")
    outs = [results(p) for p in procs]
    done = [r for out in outs for r in out]
    ok = sum(r["ok"] for r in done)
    refused = sum(bool(r.get("refused")) for r in done)
    assert ok + refused == 50, [r for r in done if not r["ok"] and not r.get("refused")]
    assert 1 <= ok < 50 and refused >= 1
    assert len(fakes["openai"].calls) == ok  # a refused call never reached the provider
    c = counters(redis_server)
    assert 0 < c["spent_d"] <= round(budget * NANO)  # settled costs of both machines stay inside the one budget
    assert c["held_d"] == 0 and c["held_m"] == 0  # every reservation settled
    assert c["calls"] == ok == len(fakes["openai"].calls)  # the team ledger counts every provider request


def test_a_cache_filled_by_one_machine_serves_the_other_and_usage_reads_the_team_ledger(
        fakes, keys, redis_server, tmp_path):
    prompts = [f"shared question {i}" for i in range(3)]
    outs = []
    for m in (0, 1):
        folder = tmp_path / f"machine{m}"
        job = {"mode": "calls", "temperature": 0, "prompts": prompts,
               "config": config(fakes, folder, redis_server.url)}
        outs.append(results(run_machine(job, folder, key_env(keys))))
    assert [r["cached"] for r in outs[0]] == [False] * 3
    assert [r["cached"] for r in outs[1]] == [True] * 3  # machine 1 never called the provider
    assert [r["text"] for r in outs[1]] == [r["text"] for r in outs[0]]
    assert len(fakes["openai"].calls) == 3
    # `promptls usage` in a third folder (another machine, no ledger file of its own) reads the team's ledger.
    other = tmp_path / "machine2"
    other.mkdir()
    toml = "\n".join(
        ["[state]", 'backend = "redis"', f'url = "{redis_server.url}"', f'namespace = "{NS}"',
         "[budget]", f'ledger_path = "{other / "ledger.sqlite3"}"'])
    (other / "promptls.toml").write_text(toml + "\n")
    usage = subprocess.run([sys.executable, "-m", "promptls", "usage", "--json"], cwd=other, capture_output=True,
                           text=True, timeout=60)
    assert usage.returncode == 0, usage.stderr
    rows = json.loads(usage.stdout)["rows"]
    assert sum(r["calls"] for r in rows) == 6 and sum(r["cache_hits"] for r in rows) == 3
    assert json.loads(usage.stdout)["ledger"] == redis_server.url


def test_identical_requests_in_flight_on_two_machines_reach_the_provider_once(fakes, keys, redis_server, tmp_path):
    tokens = [f"t{i}" for i in range(10)]
    fakes["openai"].push(Fault(tokens=tokens, token_delay_s=0.1), Fault(tokens=tokens, token_delay_s=0.1))
    procs = []
    for m in (0, 1):
        folder = tmp_path / f"machine{m}"
        job = {"mode": "calls", "temperature": 0, "prompts": ["the same question"],
               "config": config(fakes, folder, redis_server.url), "go_file": str(tmp_path / "go")}
        procs.append(run_machine(job, folder, key_env(keys)))
    start_together(procs, tmp_path / "go")
    outs = [results(p)[0] for p in procs]
    assert all(r["ok"] for r in outs)
    assert outs[0]["text"] == outs[1]["text"] == "".join(tokens)
    assert len(fakes["openai"].calls) == 1  # the lock holder called; the other waited for its cached answer
    assert sorted(r["cached"] for r in outs) == [False, True]
    assert not any(redis_server.client().keys(f"promptls:{NS}:lock:*"))  # released by its holder


def _router(fakes: Any, folder: Path, url: str, **kw: Any) -> Router:
    settings, errors = parse_router_settings(config(fakes, folder, url, **kw))
    assert errors == [], errors
    return Router(settings)


def _ask(i: int, prompt: str = "m0 call") -> LLMRequest:
    return LLMRequest(purpose="run", messages=[{"role": "user", "content": f"{prompt} {i:02d}"}],
                      max_tokens=MAX_TOKENS)


def _redis_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "Redis" in r.getMessage()]


async def test_redis_absent_at_start_the_call_answers_with_one_warning(fakes, keys, tmp_path, caplog):
    from tests.unit.router.redis_server import free_port

    router = _router(fakes, tmp_path, f"redis://127.0.0.1:{free_port()}/0", budget={"daily_usd": 1.0})
    caplog.set_level(logging.INFO)
    try:
        for i in range(3):
            c = await router.complete(_ask(i))
            assert c.text == "Hello, world!"
        await router.flush()
    finally:
        await router.aclose()
    warnings = _redis_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "127.0.0.1" in warnings[0] and "SQLite" in warnings[0]


async def test_a_frozen_redis_costs_one_timeout_then_calls_go_on_locally(fakes, keys, redis_server, tmp_path, caplog):
    import signal

    router = _router(fakes, tmp_path, redis_server.url, budget={"daily_usd": 1.0},
                     state={"timeout_s": 0.3, "retry_s": 60})
    caplog.set_level(logging.INFO)
    assert redis_server.proc is not None
    try:
        await router.complete(_ask(0))  # connects while Redis is up
        redis_server.proc.send_signal(signal.SIGSTOP)  # accepts nothing, answers nothing: a hung server
        try:
            for i in range(1, 4):  # without the socket timeout these would hang (and pytest-timeout fail)
                c = await router.complete(_ask(i))
                assert c.text == "Hello, world!"
            await router.flush()
        finally:
            redis_server.proc.send_signal(signal.SIGCONT)
    finally:
        await router.aclose()
    assert len(_redis_warnings(caplog)) == 1
    assert "Timeout" in _redis_warnings(caplog)[0]


async def test_redis_killed_mid_run_and_restarted_calls_answer_and_budgets_reconcile(
        fakes, keys, durable_redis, tmp_path, caplog):
    budget = per_call() * 12.5
    router = _router(fakes, tmp_path, durable_redis.url, budget={"daily_usd": budget},
                     state={"retry_s": 0.1, "timeout_s": 0.5})
    caplog.set_level(logging.INFO)
    answered = refused = 0

    async def phase(start: int, n: int) -> None:
        nonlocal answered, refused
        for i in range(start, start + n):
            try:
                c = await router.complete(_ask(i))
                assert c.text == "Hello, world!"
                answered += 1
            except BudgetExceeded:
                refused += 1
        await router.flush()

    try:
        await phase(0, 5)  # Redis up
        assert counters(durable_redis)["calls"] == 5
        durable_redis.kill()
        await phase(5, 5)  # Redis gone: local reservations, outbox
        assert answered == 10  # every call answered on local state
        ledger = router.ledger
        outbox = ledger._db.execute("SELECT COUNT(*) FROM redis_outbox").fetchone()[0]  # type: ignore[union-attr]
        assert outbox == 5
        durable_redis.start()  # same port, its append-only file brings the first five back
        await asyncio.sleep(0.15)  # past retry_s
        await phase(10, 10)  # Redis back: the first call reconciles the outbox; the budget now binds
    finally:
        await router.aclose()
    warnings = _redis_warnings(caplog)
    assert len(warnings) == 1, warnings  # one warning for the outage, none for the recovery
    assert any("reconciled 5 call(s)" in r.getMessage() for r in caplog.records)
    c = counters(durable_redis)
    assert c["calls"] == answered == len(fakes["openai"].calls)  # nothing lost, nothing counted twice
    assert refused >= 1 and answered + refused == 20
    assert c["spent_d"] <= round(budget * NANO) and c["held_d"] == 0
    from promptls.router.ledger import Ledger  # the local SQLite copy agrees with Redis on the spend

    book = Ledger(tmp_path / "ledger.sqlite3")
    try:
        assert round(book.spent(day=datetime.now().strftime("%Y-%m-%d")) * NANO) == c["spent_d"]
        assert book._db.execute("SELECT COUNT(*) FROM redis_outbox").fetchone()[0] == 0
    finally:
        book.close()


async def test_no_key_secret_or_excluded_prompt_text_is_ever_written_to_redis(fakes, keys, redis_server, tmp_path):
    marker = "EXCLUDED-FILE-TEXT-" + os.urandom(6).hex()
    secret = "sk-proj-" + os.urandom(24).hex()
    settings, errors = parse_router_settings({
        **config(fakes, tmp_path, redis_server.url, budget={"daily_usd": 5.0}),
        "router": {"run": ["openai", "ollama"], "max_attempts": 1},
    })
    assert errors == []
    router = Router(settings)
    try:
        # An ordinary cached call, and one whose prompt carries a literal secret (redacted before it leaves).
        await router.complete(LLMRequest(purpose="run", messages=[{"role": "user", "content": "hello"}],
                                         temperature=0))
        await router.complete(LLMRequest(purpose="run", temperature=0,
                                         messages=[{"role": "user", "content": f"my key is {secret}"}]))
        # An answer echoing a key-shaped string: cached on this machine only.
        fakes["openai"].push(Fault(tokens=["here: ", keys["openai"]]))
        await router.complete(LLMRequest(purpose="run", temperature=0, messages=[{"role": "user", "content": "x"}]))
        # A prompt with an excluded file's text goes to the local provider; its answer is not shared either.
        fakes["ollama"].push(Fault(tokens=["echo ", marker]))
        c = await router.complete(LLMRequest(purpose="run", temperature=0, source_paths=["conf/.env"],
                                             messages=[{"role": "user", "content": f"the file: {marker}"}]))
        assert c.outcome.provider == "ollama"
        await router.flush()
    finally:
        await router.aclose()
    r = redis_server.client()
    dump = []
    for k in r.scan_iter(count=1000):
        assert k.startswith(f"promptls:{NS}:".encode())  # everything in the project's namespace
        t = r.type(k).decode()
        value = (r.get(k) if t == "string" else r.lrange(k, 0, -1) if t == "list" else r.hgetall(k) if t == "hash"
                 else r.zrange(k, 0, -1) if t == "zset" else b"")
        dump.append(k + b"=" + repr(value).encode())
    blob = b"\n".join(dump)
    assert b"c:" in blob and b"calls" in blob  # the scan saw the cache and the ledger
    for needle in (*keys.values(), secret, marker, "my key is", "the file:"):
        assert needle.encode() not in blob, needle
    assert len(r.keys(f"promptls:{NS}:c:*")) == 2  # only the two shareable answers


@pytest.mark.parametrize("settle", [False, True], ids=["reserve-only", "reserve-settle"])
def test_lua_reserve_hammered_from_processes_and_threads_grants_exactly_what_fits(redis_server, tmp_path, settle):
    amount = 0.001
    limit = 0.0375  # 37 reservations of 0.001 fit, the 38th does not
    procs = [run_machine({"mode": "hammer", "url": redis_server.url, "ns": f"promptls:{NS}:", "threads": 8,
                          "per_thread": 10, "amount_usd": amount, "limit_usd": limit, "settle": settle,
                          "ledger_path": str(tmp_path / f"p{p}" / "ledger.sqlite3")}, tmp_path / f"p{p}")
             for p in range(3)]
    granted = [g for p in procs for g in results(p)]
    # 240 attempts from 24 threads in 3 processes: every interleaving grants exactly floor(limit / amount).
    assert len(granted) == 37
    c = counters(redis_server)
    if settle:
        assert c["spent_d"] == sum(granted) and c["held_d"] == 0 and c["calls"] == 37
    else:
        assert c["held_d"] == sum(granted) and c["spent_d"] == 0


def test_namespace_is_the_projects_origin_or_its_folder(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        (d / ".git").mkdir(parents=True)
        (d / ".git" / "config").write_text('[remote "origin"]\n\turl = git@example.com:team/app.git\n')
    assert namespace(None, a) == namespace(None, b / "sub")  # two clones of one project share their keys
    (b / ".git" / "config").write_text("")
    assert namespace(None, a) != namespace(None, b)
    assert namespace("mine") == "promptls:mine:"


def test_state_settings_are_validated():
    _, errors = parse_router_settings({"state": {"backend": "mongo", "url": "redis://u:pw@h:1/0",
                                                 "password": "x", "timeout_s": 0}})
    text = " ".join(errors)
    assert "state.backend" in text and "passwords never go in a file" in text and "timeout_s" in text
    settings, errors = parse_router_settings({"state": {"backend": "redis", "url": "rediss://h:6380/2",
                                                        "password-env": "REDIS_PASSWORD"}})
    assert errors == [] and settings.state.password_env == "REDIS_PASSWORD"


def test_doctor_reports_the_redis_state_backend(fakes, keys, redis_server, tmp_path):
    from tests.unit.router.redis_server import free_port

    for url, ok in ((redis_server.url, True), (f"redis://127.0.0.1:{free_port()}/0", False)):
        folder = tmp_path / ("up" if ok else "down")
        folder.mkdir()
        (folder / "promptls.toml").write_text(
            f'[providers.openai]\nkind = "openai"\nbase_url = "{fakes.url("openai")}"\n'
            f'api_key_env = "{KEY_ENVS["openai"]}"\n[state]\nbackend = "redis"\nurl = "{url}"\n')
        run = subprocess.run([sys.executable, "-m", "promptls", "doctor", "--json"], cwd=folder, capture_output=True,
                             text=True, timeout=60, env={**os.environ, **key_env(keys)})
        state = json.loads(run.stdout)["state"]
        assert state["ok"] is ok and state["url"] == url, state
        expected = f"Redis {redis_server.version()}" if ok else "local SQLite"
        assert expected in state["detail"], state


async def test_the_password_comes_from_the_environment_variable_named_in_config(
        fakes, keys, tmp_path, monkeypatch, caplog):
    password = os.urandom(12).hex()
    server = RedisServer(tmp_path / "redis-auth", password=password).start()
    caplog.set_level(logging.INFO)
    try:
        for with_env in (True, False):
            if with_env:
                monkeypatch.setenv("PLS_TEST_REDIS_PASSWORD", password)
            else:
                monkeypatch.delenv("PLS_TEST_REDIS_PASSWORD")
            folder = tmp_path / f"env-{with_env}"
            router = _router(fakes, folder, server.url, state={"password_env": "PLS_TEST_REDIS_PASSWORD"})
            try:
                c = await router.complete(LLMRequest(purpose="run", temperature=0,
                                                     messages=[{"role": "user", "content": f"q {with_env}"}]))
                assert c.text == "Hello, world!"
                await router.flush()
            finally:
                await router.aclose()
            if with_env:
                assert len(server.client().keys(f"promptls:{NS}:c:*")) == 1 and not _redis_warnings(caplog)
        warnings = _redis_warnings(caplog)
        assert len(warnings) == 1 and "Authentication" in warnings[0], warnings  # without it: refused, local
        assert password not in " ".join(r.getMessage() for r in caplog.records)
    finally:
        server.stop()


def test_a_local_reservation_still_in_flight_when_redis_returns_is_moved_to_redis(redis_server, tmp_path):
    import time

    from promptls.router.settings import StateSettings
    from promptls.router.state_redis import RedisLedger, RedisLink, SharedReservation

    link = RedisLink(StateSettings(backend="redis", url=redis_server.url, timeout_s=0.5, retry_s=0.05),
                     f"promptls:{NS}:")
    ledger = RedisLedger(link, tmp_path / "ledger.sqlite3")
    try:
        redis_server.kill()
        local = ledger.reserve(0.01, daily_usd=1.0, monthly_usd=None)
        assert isinstance(local, SharedReservation) and local.shared_id is None and local.local_id
        redis_server.start()  # same port, empty
        time.sleep(0.1)  # past retry_s
        shared = ledger.reserve(0.02, daily_usd=1.0, monthly_usd=None)  # Redis answers: reconcile runs first
        assert isinstance(shared, SharedReservation) and shared.shared_id is not None
        assert counters(redis_server)["held_d"] == round(0.03 * NANO)  # the local hold now counts for everyone
        ledger.settle(local, purpose="run", provider="p", kind="openai", model="m", cost_usd=0.005)
        c = counters(redis_server)
        assert c["held_d"] == round(0.02 * NANO) and c["spent_d"] == round(0.005 * NANO) and c["calls"] == 1
        ledger.settle(shared, purpose="run", provider="p", kind="openai", model="m", cost_usd=0.02)
        assert counters(redis_server)["held_d"] == 0
    finally:
        ledger.close()
        link.close()
