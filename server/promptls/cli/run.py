"""`promptls run`: render a .prompt/.prompty file and send it through the router, streaming the answer.

Everything it prints besides the answer's own tokens goes through `secrets.redact_text` (the `--json` document
whole). An answer cut short (an error after the first token, or the output limit) is marked: a
`[truncated: <reason>]` line after the partial text on stdout and a note on stderr, `"truncated": true` in JSON.
Exit 0 on an answer, 1 when the providers failed, 2 for usage, input or configuration errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from promptls.cli.settings import add_config_option, load_settings
from promptls.core.secrets import redact_text
from promptls.router.pricing import models_catalog
from promptls.router.settings import RouterSettings


def register(subparsers: Any) -> None:
    r = subparsers.add_parser("run", help="render a .prompt/.prompty file and send it through the router")
    r.add_argument("file", help="the prompt file")
    r.add_argument("--input", "-i", action="append", default=[], metavar="KEY=VALUE",
                   help="an input value (JSON if it parses, else a string); repeatable")
    r.add_argument("--chain", help="comma-separated provider names, instead of the configured 'run' chain")
    r.add_argument("--no-stream", action="store_true", help="ask for the whole answer at once")
    r.add_argument("--json", action="store_true", help="print one JSON object (answer and call details)")
    r.add_argument("--no-cache", action="store_true", help="bypass the response cache")
    add_config_option(r)
    r.set_defaults(func=cmd_run)


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
    return asyncio.run(_run(args, settings, rendered, path, models_catalog(cfg)))


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
