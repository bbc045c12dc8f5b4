"""`promptls eval`: run prompt test cases (`NAME.tests.yaml`, promptfoo configs) through the router and compare
models. `register(subparsers)` adds the subcommand. Exit 0 when every case passes and the targets are met,
1 when not, 2 for usage or configuration errors (a `--max-cost` refusal included: nothing was run)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from promptls import config as cfgmod
from promptls.cli.settings import add_config_option
from promptls.eval.settings import SECTION as EVAL
from promptls.router.settings import SECTION as ROUTER


def register(subparsers: Any) -> None:
    e = subparsers.add_parser("eval", help="run prompt test cases through the router and compare models")
    e.add_argument("paths", nargs="*", default=["."], metavar="CONFIG|DIR",
                   help="NAME.tests.yaml files, promptfoo configs, prompt files or folders (default: .)")
    e.add_argument("--models", help="comma-separated models to compare, instead of the files' providers "
                                    "(provider names, promptfoo ids like openai:chat:gpt-4o-mini, kind/model, ids)")
    e.add_argument("--repeat", type=int, default=1, help="run each case N times (repeats bypass the cache)")
    e.add_argument("--format", choices=["table", "json", "junit"], default="table")
    e.add_argument("-o", "--output", help="write the report to this file instead of stdout")
    e.add_argument("--max-cost", type=float, metavar="USD",
                   help="refuse to start when the estimated cost of the run exceeds this")
    add_config_option(e)
    e.set_defaults(func=cmd_eval)


def _err(msg: str) -> None:
    print(f"promptls eval: {msg}", file=sys.stderr)


def cmd_eval(args: argparse.Namespace) -> int:
    from promptls.eval.cases import discover, load_path  # the case loaders (YAML) and the runner: only for eval
    from promptls.eval.runner import Evaluation

    if args.repeat < 1:
        _err("--repeat must be at least 1")
        return 2
    if args.max_cost is not None and args.max_cost < 0:
        _err("--max-cost must not be negative")
        return 2
    explicit = Path(args.config) if args.config else None
    if explicit is not None and not explicit.is_file():
        _err(f"config file not found: {explicit}")
        return 2
    first = args.paths[0] if args.paths else "."
    start = Path(first).resolve() if os.path.exists(first) else Path.cwd()
    cfg, messages, _ = cfgmod.load(start, explicit)
    if messages:
        for m in messages:
            _err(f"invalid config: {m}")
        return 2
    router_settings = cfg.section(ROUTER)
    eval_settings = replace(cfg.section(EVAL), calls_per_month=cfg.calls_per_month)

    files, problems = discover(args.paths)
    for p in problems:
        _err(p)
    if problems:
        return 2
    suites = [load_path(f) for f in files]
    models = [m for m in (args.models or "").split(",") if m.strip()] or None
    ev = Evaluation(suites, router_settings, eval_settings, cfg, models=models, repeat=args.repeat)
    findings = [f for s in suites for f in s.findings] + ev.findings
    for f in findings:
        print(str(f), file=sys.stderr)
    if any(f.severity == "error" for f in findings):
        return 2
    if not ev.jobs:
        _err("no cases to run")
        return 2
    return asyncio.run(_run(args, ev))


async def _run(args: argparse.Namespace, ev: Any) -> int:
    from promptls.eval.report import render
    from promptls.router.core import Router

    router = Router(ev.settings, catalog=ev.catalog)
    try:
        if args.max_cost is not None:
            estimate, unpriced, calls = ev.estimate(router)
            if unpriced:
                _err(f"refusing to start: no price known for {', '.join(unpriced)}, so the cost of the run cannot "
                     f"be bounded by --max-cost {args.max_cost}")
                return 2
            if estimate > args.max_cost:
                _err(f"refusing to start: {calls} call(s) estimated at up to ${estimate:.6f} > --max-cost "
                     f"${args.max_cost} (prompt tokens counted, max_tokens or 1024 output tokens, catalog prices)")
                return 2
        progress = _Progress() if sys.stderr.isatty() else None
        report = await ev.run(router, progress)
        if progress is not None:
            progress.close()
    finally:
        await router.aclose()
    out = render(args.format, report)
    if args.output:
        Path(args.output).write_text(out, "utf-8")
    else:
        sys.stdout.write(out)
    return 0 if report.ok else 1


class _Progress:
    """A one-line progress bar on a terminal."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        width = 30
        fill = int(width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total}")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
