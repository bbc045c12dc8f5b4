"""`promptls usage`: the usage ledger (this machine's, or the team's on Redis) per day, provider and model, with
spend charts."""

from __future__ import annotations

import argparse
import codecs
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from promptls.cli.settings import add_config_option, load_settings
from promptls.core.figures import format_cost, scaled_bar
from promptls.router.ledger import SERIES, Ledger, default_ledger_path, usage_series


def register(subparsers: Any) -> None:
    u = subparsers.add_parser("usage", help="the usage ledger per day, provider and model")
    u.add_argument("--since", help="first day to include: YYYY-MM-DD, or a span like 7d (default: 30d)")
    add_config_option(u)
    u.add_argument("--json", action="store_true")
    u.set_defaults(func=cmd_usage)


def _since(value: str | None) -> str:
    if not value:
        return (date.today() - timedelta(days=30)).isoformat()
    if value.endswith("d") and value[:-1].isdigit():
        return (date.today() - timedelta(days=int(value[:-1]))).isoformat()
    return date.fromisoformat(value).isoformat()


def cmd_usage(args: argparse.Namespace) -> int:
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
