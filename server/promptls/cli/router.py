"""`promptls run`, `promptls doctor` and `promptls usage`: the router from the command line.

`register(subparsers)` adds the three subcommands to the main parser; each sets `func(args) -> int`.
Everything `run` and `doctor` print besides the answer's own tokens goes through `secrets.redact_text` (the
`--json` documents whole). An answer cut short (an error after the first token, or the output limit) is marked:
a `[truncated: <reason>]` line after the partial text on stdout and a note on stderr, `"truncated": true` in JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from promptls.core.figures import format_cost, scaled_bar
from promptls.core.secrets import redact_text
from promptls.router.ledger import SERIES
from promptls.router.pricing import models_catalog
from promptls.router.settings import PURPOSES, RouterSettings, parse_router_settings


def register(subparsers: Any) -> None:
    r = subparsers.add_parser("run", help="render a .prompt/.prompty file and send it through the router")
    r.add_argument("file", help="the prompt file")
    r.add_argument("--input", "-i", action="append", default=[], metavar="KEY=VALUE",
                   help="an input value (JSON if it parses, else a string); repeatable")
    r.add_argument("--chain", help="comma-separated provider names, instead of the configured 'run' chain")
    r.add_argument("--no-stream", action="store_true", help="ask for the whole answer at once")
    r.add_argument("--json", action="store_true", help="print one JSON object (answer and call details)")
    r.add_argument("--no-cache", action="store_true", help="bypass the response cache")
    r.add_argument("--config", help="path to promptls.toml or pyproject.toml")
    r.set_defaults(func=cmd_run)

    d = subparsers.add_parser("doctor", help="check config, keys (never shown), providers and the local model")
    d.add_argument("--config", help="path to promptls.toml or pyproject.toml")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_doctor)

    u = subparsers.add_parser("usage", help="the usage ledger per day, provider and model")
    u.add_argument("--since", help="first day to include: YYYY-MM-DD, or a span like 7d (default: 30d)")
    u.add_argument("--config", help="path to promptls.toml or pyproject.toml")
    u.add_argument("--json", action="store_true")
    u.set_defaults(func=cmd_usage)


# -- shared -------------------------------------------------------------------------------------------------------


def load_settings(start: Path, explicit: str | None) -> tuple[RouterSettings, list[str], Any]:
    """Router settings from the workspace config (promptls.toml / [tool.promptls]), with messages."""
    from promptls import config as cfgmod

    cfg, messages, _path = cfgmod.load(start, Path(explicit) if explicit else None)
    raw = getattr(cfg, "raw", {}) or {}
    settings, errors = parse_router_settings(raw)
    seen = set(messages)
    return settings, list(messages) + [e for e in errors if not any(e in m for m in seen)], cfg


def _parse_inputs(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--input expects KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


# -- run ----------------------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        print(f"promptls run: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    try:
        inputs = _parse_inputs(args.input)
    except ValueError as exc:
        print(f"promptls run: {exc}", file=sys.stderr)
        return 2
    settings, messages, cfg = load_settings(path.resolve().parent, args.config)
    for m in messages:
        print(f"promptls run: config: {m}", file=sys.stderr)

    from promptls.documents.render import render_request

    rendered = render_request(str(path), text, inputs, config=cfg)
    if rendered.error:
        print(f"promptls run: {rendered.error}", file=sys.stderr)
        return 2
    if rendered.missing:
        print(f"promptls run: no value for input(s) {', '.join(rendered.missing)} (use --input KEY=VALUE)",
              file=sys.stderr)
        return 2
    if not rendered.messages:
        print("promptls run: the prompt rendered no messages", file=sys.stderr)
        return 2
    return asyncio.run(_run(args, settings, rendered, path, models_catalog(cfg.models)))


def _request_from(args: argparse.Namespace, rendered: Any, path: Path) -> Any:
    from promptls.router.types import LLMRequest

    params = dict(rendered.params or {})
    temperature = params.pop("temperature", None)
    max_tokens = params.pop("max_output", None) or params.pop("max_tokens", None)
    ignored = sorted(params)
    if ignored:
        print(f"promptls run: not sent (provider-specific): {', '.join(ignored)}", file=sys.stderr)
    return LLMRequest(
        purpose="run",
        messages=rendered.messages,
        model=rendered.model,
        max_tokens=int(max_tokens) if isinstance(max_tokens, (int, float)) else None,
        temperature=float(temperature) if isinstance(temperature, (int, float)) else None,
        stream=not args.no_stream,
        source_paths=[str(path)],
        chain=[c.strip() for c in args.chain.split(",") if c.strip()] if args.chain else None,
        cache=False if args.no_cache else None,
    )


async def _run(args: argparse.Namespace, settings: RouterSettings, rendered: Any, path: Path,
               catalog: Any = None) -> int:
    from promptls.providers.base import TextDelta, ToolCall
    from promptls.providers.errors import ProviderError, RouterError
    from promptls.router.core import Router
    from promptls.router.types import Outcome

    req = _request_from(args, rendered, path)
    unknown = [c for c in (req.chain or []) if c not in settings.providers]
    if unknown:
        print(f"promptls run: unknown provider(s) in --chain: {', '.join(unknown)}", file=sys.stderr)
        return 2
    router = Router(settings, catalog=catalog)  # priced as the editor prices: with the config's `[models]`
    text: list[str] = []
    tools: list[dict[str, str]] = []
    outcome: Outcome | None = None
    try:
        async for ev in router.stream(req):
            if isinstance(ev, TextDelta):
                text.append(ev.text)
                if not args.json:
                    sys.stdout.write(ev.text)
                    sys.stdout.flush()
            elif isinstance(ev, ToolCall):
                tools.append({"id": ev.id, "name": ev.name, "arguments": ev.arguments})
                if not args.json:
                    sys.stdout.write(f"\n[tool call] {ev.name}({ev.arguments})\n")
            elif isinstance(ev, Outcome):
                outcome = ev
    except (ProviderError, RouterError) as exc:
        message = redact_text(str(exc))
        # Some of the answer arrived before the failure: it must not pass for a whole one.
        cut = None
        if text or tools:
            cut = f"{exc.kind.label}: {exc.message}" if isinstance(exc, ProviderError) else message
        if args.json:
            print(redact_text(json.dumps({"error": message, "text": "".join(text), "tool_calls": tools,
                                          "truncated": cut is not None, "truncated_reason": cut})))
        else:
            if cut is not None:
                _mark_truncated("".join(text), cut)
            print(f"promptls run: {message}", file=sys.stderr)
        return 1
    finally:
        await router.aclose()
    assert outcome is not None
    cut = _LIMIT_REACHED if outcome.finish_reason == "max_tokens" else None
    if args.json:
        print(redact_text(json.dumps({"text": "".join(text), "tool_calls": tools, **outcome.to_dict(),
                                      "truncated": cut is not None, "truncated_reason": cut})))
        return 0
    if cut is not None:
        _mark_truncated("".join(text), cut)
    elif text and not "".join(text).endswith("\n"):
        sys.stdout.write("\n")
    print(redact_text(_summary(outcome)), file=sys.stderr)
    return 0


_LIMIT_REACHED = "max_tokens: the output limit was reached"


def _mark_truncated(text: str, reason: str) -> None:
    """Close the partial answer with a line that says so (stdout), and say it on stderr too."""
    if text and not text.endswith("\n"):
        sys.stdout.write("\n")
    line = redact_text(f"[truncated: {reason}]")
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    print(f"promptls run: the answer above is incomplete {line}", file=sys.stderr)


def _summary(o: Any) -> str:
    u = o.usage
    cost = "unknown" if o.cost_usd is None else f"${o.cost_usd:.6f}"
    cached = f" ({u.cached_input_tokens} cached)" if u.cached_input_tokens else ""
    est = " (counted: the provider reported no usage)" if o.usage_estimated else ""
    return (
        f"-- {o.provider} ({o.kind}) {o.model} | tokens in {u.input_tokens}{cached} out {u.output_tokens}{est} | "
        f"cost {cost} | cache {'hit' if o.cached else 'miss'} | {o.latency_ms:.0f} ms"
        + (f" (first token {o.first_token_ms:.0f} ms)" if o.first_token_ms is not None and not o.cached else "")
    )


# -- doctor -------------------------------------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    settings, messages, _ = load_settings(Path.cwd(), args.config)
    report = asyncio.run(_doctor(settings))
    report["config_messages"] = messages
    bad_chains = [p for p, names in report["chains"].items() if not names["usable"]]
    if args.json:
        print(redact_text(json.dumps(report, indent=2)))
    else:
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
        print(redact_text("\n".join(lines)))
    if bad_chains:
        if not args.json:
            print(f"doctor: no usable provider for: {', '.join(bad_chains)}", file=sys.stderr)
        return 1
    return 0


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


# -- usage --------------------------------------------------------------------------------------------------------


def _since(value: str | None) -> str:
    if not value:
        return (date.today() - timedelta(days=30)).isoformat()
    if value.endswith("d") and value[:-1].isdigit():
        return (date.today() - timedelta(days=int(value[:-1]))).isoformat()
    return date.fromisoformat(value).isoformat()


def cmd_usage(args: argparse.Namespace) -> int:
    from promptls.router.ledger import Ledger, default_ledger_path, usage_series

    try:
        since = _since(args.since)
    except ValueError:
        print(f"promptls usage: --since expects YYYY-MM-DD or Nd, got {args.since!r}", file=sys.stderr)
        return 2
    settings, _, _ = load_settings(Path.cwd(), args.config)
    path = Path(settings.budget.ledger_path) if settings.budget.ledger_path else default_ledger_path()
    where = str(path)
    rows: list[dict[str, Any]] = []
    if settings.state.backend == "redis":
        from promptls.router.state import open_state

        state = open_state(settings)  # the team's ledger; this machine's file if Redis does not answer
        try:
            ledger = state.open_ledger()
            rows = ledger.summary(since)
            ledger.close()
            link = getattr(state, "link", None)
            down = link is not None and link.down
            where = settings.state.url + (f" (unavailable: this machine's {path})" if down else "")
        finally:
            state.close()
    elif path.exists():
        ledger = Ledger(path)
        rows = ledger.summary(since)
        ledger.close()
    series = usage_series(rows)
    if args.json:
        print(json.dumps({"since": since, "ledger": where, "rows": rows, "series": series}, indent=2))
        return 0
    if not rows:
        print(f"no calls recorded since {since} ({where})")
        return 0
    header = f"{'day':<10}  {'provider':<12} {'model':<28} {'calls':>5} {'hits':>4} {'err':>3} " \
             f"{'in':>9} {'cached':>8} {'out':>8} {'cost':>13}"
    print(header)
    print("-" * len(header))
    total = 0.0
    for r in rows:
        total += r["cost_usd"] or 0.0
        cost = format_cost(r["cost_usd"] or 0.0) + ("*" if r["unpriced_calls"] else "") \
            + ("~" if r["estimated_calls"] else "")
        print(f"{r['day']:<10}  {str(r['provider'])[:12]:<12} {str(r['model'])[:28]:<28} {r['calls']:>5} "
              f"{r['cache_hits']:>4} {r['errors']:>3} {r['input_tokens']:>9} {r['cached_input_tokens']:>8} "
              f"{r['output_tokens']:>8} {cost:>13}")
    print("-" * len(header))
    print(f"{'total':<10}  {'':<12} {'':<28} {sum(r['calls'] for r in rows):>5} "
          f"{'':>4} {'':>3} {'':>9} {'':>8} {'':>8} {format_cost(total):>13}")
    print()
    for line in usage_chart(series, ascii_only=not _speaks_unicode(sys.stdout)):
        print(line)
    if any(r["unpriced_calls"] for r in rows):
        print("* some calls used models without a known price; they count as $0")
    if any(r["estimated_calls"] for r in rows):
        print("~ some calls reported no usage (or were cut off); their tokens were counted by promptls")
    return 0


def usage_chart(series: dict[str, list[dict[str, Any]]], *, ascii_only: bool = False, width: int = 30
                ) -> list[str]:
    """Spend per day, provider and model as bar charts, each scaled to its largest value, money written by
    `figures.format_cost`; `#` bars with `ascii_only` (a terminal that cannot print block characters)."""
    lines: list[str] = []
    for name, _col in SERIES:
        items = series.get(name) or []
        if not items:
            continue
        largest = max(a["cost_usd"] for a in items)
        label_w = min(28, max(len(a["key"]) for a in items))
        lines.append(f"spend per {name}")
        for a in items:
            bar = scaled_bar(a["cost_usd"], largest, width, ascii_only=ascii_only)
            mark = "*" if a["unpriced_calls"] else ""
            calls = f"{a['calls']} call{'' if a['calls'] == 1 else 's'}"
            lines.append(f"  {a['key'][:label_w]:<{label_w}}  {bar:<{width}}  {format_cost(a['cost_usd'])}{mark}"
                         f"  ({calls})")
        lines.append("")
    return lines


def _speaks_unicode(stream: Any) -> bool:
    """Whether `stream` can print block characters (its encoding is a UTF)."""
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name.startswith("utf")
    except LookupError:
        return False
