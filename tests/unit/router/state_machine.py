"""One "machine" of the team-state tests, run as its own process: `python -m tests.unit.router.state_machine JOB.json`.

`calls`: a Router built from the job's config (its own state folder, the shared Redis) sends the job's prompts
at once and prints one JSON line per call. `hammer`: threads reserve (and settle) directly on a RedisLedger and
print the amounts they were granted."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path
from typing import Any


async def _calls(job: dict[str, Any]) -> list[dict[str, Any]]:
    from promptls.providers import BudgetExceeded
    from promptls.router import LLMRequest, Router, parse_router_settings

    settings, errors = parse_router_settings(job["config"])
    assert errors == [], errors
    router = Router(settings)

    async def one(prompt: str) -> dict[str, Any]:
        req = LLMRequest(purpose="run", messages=[{"role": "user", "content": prompt}],
                         max_tokens=job.get("max_tokens"), temperature=job.get("temperature"))
        try:
            c = await router.complete(req)
            return {"ok": True, "cached": c.outcome.cached, "coalesced": c.outcome.coalesced, "text": c.text}
        except BudgetExceeded as exc:
            return {"ok": False, "refused": True, "error": str(exc)}
        except Exception as exc:
            return {"ok": False, "refused": False, "error": f"{type(exc).__name__}: {exc}"}

    await router.warm("run")
    if go := job.get("go_file"):  # start together with the other machines (bounded wait)
        for _ in range(600):
            if Path(go).exists():
                break
            await asyncio.sleep(0.05)
    try:
        return list(await asyncio.gather(*(one(p) for p in job["prompts"])))
    finally:
        await router.flush()
        await router.aclose()


def _hammer(job: dict[str, Any]) -> list[int]:
    from promptls.router.settings import StateSettings
    from promptls.router.state_redis import NANO, RedisLedger, RedisLink, Refusal, SharedReservation

    link = RedisLink(StateSettings(backend="redis", url=job["url"], timeout_s=5.0), job["ns"])
    ledger = RedisLedger(link, Path(job["ledger_path"]))
    granted: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(job["threads"])

    def work() -> None:
        start.wait()
        for _ in range(job["per_thread"]):
            r = ledger.reserve(job["amount_usd"], daily_usd=job["limit_usd"], monthly_usd=None)
            if isinstance(r, Refusal):
                continue
            assert isinstance(r, SharedReservation) and r.shared_id is not None, "Redis must be up in this test"
            with lock:
                granted.append(round(job["amount_usd"] * NANO))
            if job.get("settle"):
                ledger.settle(r, purpose="run", provider="p", kind="openai", model="m", cost_usd=job["amount_usd"])

    threads = [threading.Thread(target=work) for _ in range(job["threads"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=100)
    ledger.close()
    link.close()
    return granted


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    if job["mode"] == "calls":
        print(json.dumps(asyncio.run(_calls(job))))
    else:
        print(json.dumps(_hammer(job)))


if __name__ == "__main__":
    main()
