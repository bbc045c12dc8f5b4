"""`promptls doctor`: check the config, the keys (never shown), the providers, the chains and the state backend.
Exit 1 when a purpose has no usable provider."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from promptls.cli.settings import add_config_option, load_settings
from promptls.core.secrets import redact_text
from promptls.router.settings import PURPOSES, RouterSettings


def register(subparsers: Any) -> None:
    d = subparsers.add_parser("doctor", help="check config, keys (never shown), providers and the local model")
    add_config_option(d)
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    settings, messages, _ = load_settings(Path.cwd(), args.config)
    report = asyncio.run(_doctor(settings))
    report["config_messages"] = messages
    bad_chains = [p for p, names in report["chains"].items() if not names["usable"]]
    if args.json:
        print(redact_text(json.dumps(report, indent=2)))
    else:
        print(redact_text("\n".join(_text(report, messages))))
    if bad_chains:
        if not args.json:
            print(f"doctor: no usable provider for: {', '.join(bad_chains)}", file=sys.stderr)
        return 1
    return 0


def _text(report: dict[str, Any], messages: list[str]) -> list[str]:
    lines = ["config: " + ("ok" if not messages else f"{len(messages)} problem(s)")]
    lines += [f"  - {m}" for m in messages]
    lines.append("providers:")
    for name, p in report["providers"].items():
        key = f"key {p['key_env']} {'set' if p['key_present'] else 'missing'}" if p["key_env"] else "no key needed"
        state = "ok" if p["ok"] else "unusable"
        latency = f" {p['latency_ms']:.0f} ms" if p["latency_ms"] is not None else ""
        lines.append(f"  {name:<12} {p['kind']:<9} {state:<8}{latency:>8}  {key}; {p['detail']}")
    lines.append("chains:")
    for purpose, c in report["chains"].items():
        usable = ", ".join(c["usable"]) or "NONE"
        lines.append(f"  {purpose:<10} {' > '.join(c['chain']) or '(empty)'}  -> usable: {usable}")
    lines.append("deadlines (seconds; [router.deadlines.<purpose>]):")
    for purpose, d in report["deadlines"].items():
        lines.append(f"  {purpose:<10} connect {d['connect_s']:g}  first token {d['first_token_s']:g}  "
                     f"idle {d['idle_s']:g}  total {d['total_s']:g}")
    r = report["retries"]
    lines.append(f"retries: up to {r['max_attempts']} attempts per provider, waits of at most "
                 f"{r['max_retry_wait_s']:g}s, all within the purpose's total deadline; "
                 f"SDK transport timeout per provider: "
                 + ", ".join(f"{n} {p['timeout_s']:g}s" for n, p in report["providers"].items()))
    st = report["state"]
    where = f" at {st['url']}" if st["backend"] == "redis" else ""
    lines.append(f"state: {st['backend']}{where}: {st['detail']}")
    return lines


async def _doctor(settings: RouterSettings) -> dict[str, Any]:
    from promptls.router.core import Router

    router = Router(settings)
    try:
        probes = await router.probe()
        providers: dict[str, Any] = {}
        for name, probe in probes.items():
            p = router.provider(name)
            env = p.key_env if p.needs_key or p.settings.api_key_env else None
            providers[name] = {
                "kind": p.kind,
                "model": p.model,
                "remote": p.is_remote,
                "key_env": env,
                "key_present": bool(env and os.environ.get(env)),
                "ok": probe.ok,
                "latency_ms": None if probe.latency_ms is None else round(probe.latency_ms, 1),
                "detail": probe.detail,
                "timeout_s": p.timeout_s(),
            }
    finally:
        await router.aclose()
    chains = {}
    for purpose in PURPOSES:
        chain = settings.chain(purpose)
        chains[purpose] = {"chain": chain, "usable": [n for n in chain if providers.get(n, {}).get("ok")]}
    deadlines = {
        purpose: {"connect_s": d.connect_s, "first_token_s": d.first_token_s, "idle_s": d.idle_s, "total_s": d.total_s}
        for purpose, d in settings.router.deadlines.items()
    }
    policy = settings.router
    retries = {"max_attempts": policy.max_attempts, "max_retry_wait_s": policy.max_retry_wait_s,
               "backoff_base_s": policy.backoff_base_s, "backoff_max_s": policy.backoff_max_s}
    return {"providers": providers, "chains": chains, "deadlines": deadlines, "retries": retries,
            "state": _state_report(settings)}


def _state_report(settings: RouterSettings) -> dict[str, Any]:
    """Which state backend; for Redis, whether it answers PING within `state.timeout_s` (and its version)."""
    st = settings.state
    if st.backend != "redis":
        return {"backend": st.backend, "ok": True, "detail": "this machine's SQLite files"}
    from promptls.router.state import open_state

    state = open_state(settings)
    try:
        link = state.link  # type: ignore[attr-defined]
        info = link.call(lambda c: c.info("server"))
        return {"backend": "redis", "url": st.url, "namespace": link.ns, "ok": True,
                "detail": f"ok, Redis {info.get('redis_version', '?')}, keys under {link.ns}"}
    except Exception as exc:
        return {"backend": "redis", "url": st.url, "ok": False,
                "detail": f"unavailable ({type(exc).__name__}: {exc}); calls would use the local SQLite state"}
    finally:
        state.close()
