"""Provider-fault sweep of the router: every fake provider x every fault, bounded, in one process.

Runs each case through `Router.complete` against the loopback fakes (tests/fakes) with small deadlines, a key in
every key variable and every 401 echoing the key it was sent, and prints: cases tried, crashes (anything but the
router's own errors), hangs (a case past its wall-clock bound), leaked secret bytes (the keys found in errors,
answers, log records or the ledger file) and budget overshoot (a run of cut or usage-less streams against a
daily budget). All must be 0; the exit status is 1 otherwise.

    .venv/bin/python scripts/fault_router.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import secrets
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "server")]

from tests.fakes.anthropic_fake import AnthropicFake  # noqa: E402
from tests.fakes.gemini_fake import GeminiFake  # noqa: E402
from tests.fakes.http import FakeServer, Fault, status_error  # noqa: E402
from tests.fakes.ollama_fake import OllamaFake  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402

from promptls.providers import BudgetExceeded, ProviderError, RouterError  # noqa: E402
from promptls.router import LLMRequest, Router, parse_router_settings  # noqa: E402
from promptls.router.ledger import Ledger  # noqa: E402
from promptls.router.settings import Deadlines  # noqa: E402

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
          "ollama": "qwen2.5-coder:1.5b"}
ENVS = {"openai": "FAULT_OPENAI_KEY", "anthropic": "FAULT_ANTHROPIC_KEY", "gemini": "FAULT_GEMINI_KEY"}
FAULTS = [
    Fault(), Fault(tokens=["a"] * 8, no_usage=True), Fault(tokens=["a"] * 8, terminal_frames=1),
    status_error(401), status_error(429, retry_after="0"), status_error(503), status_error(400),
    Fault(kind="stall_head"), Fault(kind="stall", after=1), Fault(kind="reset", after=1),
    Fault(kind="malformed", after=1), Fault(kind="error_event", after=1), Fault(kind="no_terminal", after=2),
    Fault(kind="close"),
]
CASE_BOUND_S = 10.0
DEADLINES = Deadlines(first_token_s=1.0, idle_s=0.5, total_s=5.0, connect_s=0.5)


def settings_for(kind: str, url: str, tmp: Path, budget: float | None = None):
    table = {"kind": kind, "model": MODELS[kind], "base_url": url + ("/v1" if kind == "openai" else ""),
             "timeout_s": 5}
    if kind in ENVS:
        table["api_key_env"] = ENVS[kind]
    cfg = {"providers": {kind: table},
           "router": {"completion": [kind], "max_attempts": 2, "backoff_base_s": 0.001, "backoff_max_s": 0.01,
                      "max_retry_wait_s": 0.1, "when_all_cooling": "fail", "breaker_threshold": 1000},
           "cache": {"enabled": False},
           "budget": {"ledger_path": str(tmp / f"ledger-{kind}.sqlite3"),
                      **({"daily_usd": budget} if budget is not None else {})}}
    settings, errors = parse_router_settings(cfg)
    assert not errors, errors
    settings.router.deadlines["completion"] = DEADLINES
    return settings


def ask(i: int) -> LLMRequest:
    return LLMRequest(purpose="completion", messages=[{"role": "user", "content": f"case {i:03d}"}],
                      max_tokens=8, cache=False)


async def sweep(rounds: int, tmp: Path, log: io.StringIO) -> dict[str, int]:
    keys = {kind: prefix + secrets.token_urlsafe(40) for kind, prefix in
            (("openai", "sk-proj-"), ("anthropic", "sk-ant-api03-"), ("gemini", "AIza"))}
    for kind, env in ENVS.items():
        os.environ[env] = keys[kind]
    apps = {"openai": OpenAIFake(), "anthropic": AnthropicFake(), "gemini": GeminiFake(), "ollama": OllamaFake()}
    servers = {k: FakeServer(a) for k, a in apps.items()}
    for s in servers.values():
        s.start()
    seen: list[str] = []
    counts = {"cases": 0, "crashes": 0, "hangs": 0, "leaked_secret_bytes": 0, "budget_overshoot": 0}
    refusals: list[int] = []
    try:
        for kind, app in apps.items():
            router = Router(settings_for(kind, servers[kind].url, tmp))
            for r in range(rounds):
                for i, fault in enumerate(FAULTS):
                    app.echo_key_401 = fault.kind == "status" and fault.status == 401
                    app.push(fault)
                    counts["cases"] += 1
                    try:
                        done = await asyncio.wait_for(router.complete(ask(r * 100 + i)), CASE_BOUND_S)
                        seen.append(done.text + repr(done.outcome.to_dict()))
                    except TimeoutError:
                        counts["hangs"] += 1
                    except (ProviderError, RouterError) as exc:
                        seen.append(str(exc))
                    except Exception as exc:  # a crash: the router let something unclassified through
                        counts["crashes"] += 1
                        print(f"crash: {kind} {fault}: {exc!r}", file=sys.stderr)
                    app.echo_key_401 = False
                    app.reset()
            await router.aclose()
            # Budget: cut and usage-less streams in a row against a budget; spent must stay within it.
            if kind != "ollama":
                over, refused = await budget_run(kind, app, servers[kind].url, tmp)
                counts["budget_overshoot"] += over
                refusals.append(refused)
        blobs = [*seen, log.getvalue(), *(p.read_bytes().decode("latin-1") for p in tmp.glob("ledger*"))]
        for key in keys.values():
            counts["leaked_secret_bytes"] += sum(len(key) * b.count(key) for b in blobs)
    finally:
        for s in servers.values():
            s.stop()
    print(f"budget refusals per provider (the budget did stop each run): {refusals}")
    return counts


async def budget_run(kind: str, app, url: str, tmp: Path) -> tuple[int, int]:
    """(1 if the settled spend passed the budget else 0, calls the budget refused)."""
    budget = 1e-4
    router = Router(settings_for(kind, url, tmp / kind, budget=budget))
    refused = 0
    for i in range(40):
        cut = Fault(tokens=["word"] * 8, terminal_frames=1)
        app.push(cut if i % 2 else Fault(tokens=["word"] * 8, no_usage=True))
        try:
            await asyncio.wait_for(router.complete(ask(i)), CASE_BOUND_S)
        except BudgetExceeded:
            refused += 1
        except (ProviderError, RouterError, TimeoutError):
            pass
        await router.flush()
    await router.aclose()
    app.reset()
    ledger = Ledger(tmp / kind / f"ledger-{kind}.sqlite3")
    spent = ledger.spent(day=datetime.now().strftime("%Y-%m-%d"))
    ledger.close()
    return (1 if spent > budget + 1e-12 else 0), refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        counts = asyncio.run(sweep(args.rounds, Path(tmp), log))
    for name, value in counts.items():
        print(f"{name}: {value}")
    print(f"({time.monotonic() - t0:.1f}s; {len(FAULTS)} faults x 4 providers x {args.rounds} round(s))")
    return 0 if all(v == 0 for k, v in counts.items() if k != "cases") else 1


if __name__ == "__main__":
    sys.exit(main())
