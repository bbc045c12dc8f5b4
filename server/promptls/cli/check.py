"""`promptls check`: analyse prompt files, SDK call sites and fine-tuning datasets (files, folders, globs) and
report the findings in the format CI wants. Exit 0 when nothing reaches `--fail-on`, 1 when something does, 2 for
usage or configuration errors.

The analysis, the workspace index and the report formats are imported when the command runs (start-up)."""

from __future__ import annotations

import argparse
import glob
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from promptls import config as cfgmod
from promptls.config import Config
from promptls.core.findings import Severity
from promptls.router.settings import SECTION as ROUTER

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache",
             ".ruff_cache", ".pytest_cache", "dist", "build"}


def register(subparsers: Any) -> None:
    c = subparsers.add_parser("check",
                              help="check prompt files, SDK call sites and datasets (files, folders, globs)")
    c.add_argument("paths", nargs="*", default=["."], help="files, folders or globs (default: .)")
    c.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")
    c.add_argument("--fail-on", choices=["error", "warning", "info", "hint", "never"], default="error")
    c.add_argument("--select", help="comma-separated codes/prefixes/names to enable (replaces config)")
    c.add_argument("--ignore", help="comma-separated codes/prefixes/names to disable (adds to config)")
    c.add_argument("--model", help="check every file as if it used this model")
    c.add_argument("--config", help="path to promptls.toml or pyproject.toml")
    c.add_argument("--output", "-o", help="write the report to this file instead of stdout")
    c.add_argument("--no-color", action="store_true")
    c.add_argument("--online-tokens", action="store_true",
                   help="exact counts from the providers' counting endpoints for models without an offline "
                        "tokenizer (keys and base URLs from [providers]; cached; same as [tokens] online = true)")
    c.add_argument("--jobs", "-j", type=int, default=0,
                   help="worker processes (default: one per CPU for 32 files or more, else 1)")
    c.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from promptls.output import render

    loaded = _config(args)
    if isinstance(loaded, int):
        return loaded
    cfg, cfg_path = loaded
    files, problems = collect_files(args.paths, cfg)
    for p in problems:
        print(f"promptls: {p}", file=sys.stderr)
    if problems and not files:
        return 2
    counter = _online_counter(cfg) if args.online_tokens or cfg.tokens_online else None
    workspace = _workspace(args.paths, files, cfg, cfg_path)
    try:
        reports = _analyze_all(files, cfg, args.jobs, counter.engine_hook() if counter else None, workspace)
    finally:
        if counter is not None:
            counter.close()
            if line := counter.summary():  # one line for the run, not one per file
                print(f"promptls: {line}", file=sys.stderr)
    color = not args.no_color and sys.stdout.isatty() and not os.environ.get("NO_COLOR") and not args.output
    root = os.environ.get("GITHUB_WORKSPACE") if args.format == "github" else None
    out = render(args.format, reports, root=root or os.getcwd(), color=color, calls_per_month=cfg.calls_per_month)
    if args.output:
        Path(args.output).write_text(out, "utf-8")
    else:
        sys.stdout.write(out if out.endswith("\n") or not out else out + "\n")
    if args.fail_on == "never":
        return 0
    threshold = Severity.parse(args.fail_on)
    worst = max((f.severity for r, _ in reports for f in r.findings), default=None)
    return 1 if worst is not None and worst >= threshold else 0


def _config(args: argparse.Namespace) -> tuple[Config, Path | None] | int:
    """The run's configuration (the file's, then --select, --ignore, --model), or exit code 2 after saying why."""
    explicit = Path(args.config) if args.config else None
    if explicit is not None and not explicit.is_file():
        print(f"promptls: config file not found: {explicit}", file=sys.stderr)
        return 2
    start = Path(args.paths[0]) if args.paths and os.path.exists(args.paths[0]) else Path.cwd()
    cfg, errors, cfg_path = cfgmod.load(start.resolve(), explicit)
    if errors:
        for e in errors:
            print(f"promptls: invalid config: {e}", file=sys.stderr)
        return 2
    selection: dict[str, list[str]] = {}
    if args.select:
        selection["select"] = list(_split(args.select))
    if args.ignore:
        selection["ignore"] = [*cfg.ignore, *_split(args.ignore)]
    if selection:
        cfg, errs = cfgmod.from_dict(selection, cfg)
        if errs:
            for e in errs:
                print(f"promptls: {e}", file=sys.stderr)
            return 2
    if args.model:
        cfg = replace(cfg, model_override=args.model)
    return cfg, cfg_path


def _split(v: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (v or "").split(",") if x.strip())


def collect_files(paths: list[str], config: Config) -> tuple[list[str], list[str]]:
    """Files promptls analyses under the given paths (prompt files, source files calling LLM SDKs, fine-tuning
    datasets), and messages for paths that matched nothing. Files named explicitly are analysed, except JSONL files
    that are not datasets (pre-commit passes every staged file its pattern matches)."""
    from promptls.documents.kinds import kind_of, read_head

    out: dict[str, None] = {}
    problems = []
    for raw in paths:
        matches = [raw] if os.path.exists(raw) else sorted(glob.glob(raw, recursive=True))
        if not matches:
            problems.append(f"{raw}: no such file, folder or glob match")
            continue
        for m in matches:
            if os.path.isdir(m):
                for root, dirs, files in os.walk(m):
                    dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                    for f in sorted(files):
                        full = os.path.join(root, f)
                        kind = kind_of(full, config)
                        if kind is None and f.endswith(".jsonl") and config.dataset_sniff:
                            kind = kind_of(full, config, read_head(full))
                        if kind is not None:
                            out[os.path.normpath(full)] = None
            elif m.endswith(".jsonl") and kind_of(m, config, read_head(m)) is None:
                continue  # a JSONL file that is no fine-tuning dataset (logs, exports): nothing to check
            else:
                out[os.path.normpath(m)] = None
    return list(out), problems


def _online_counter(cfg: Config) -> Any:
    from promptls.router.counting import OnlineCounter

    return OnlineCounter(cfg.section(ROUTER))


def _workspace(paths: list[str], files: list[str], cfg: Config, cfg_path: Path | None) -> Any:
    """The workspace index, built once for the run over the checked folders (a checked file brings its project:
    the config file's folder, else the current one when the file is inside it), so that `check` resolves
    clients and constants across modules exactly as the editor does."""
    from promptls.workspace import WorkspaceIndex
    from promptls.workspace.index import PY_SUFFIXES, TS_SUFFIXES

    if not cfg.code_languages or not any(f.endswith(PY_SUFFIXES + TS_SUFFIXES) for f in files):
        return None

    cwd = os.path.abspath(os.getcwd())
    roots: dict[str, None] = {}
    for raw in paths:
        if os.path.isdir(raw):
            roots[os.path.abspath(raw)] = None
        elif os.path.isfile(raw):
            full = os.path.abspath(raw)
            project = str(cfg_path.parent.resolve()) if cfg_path is not None else cwd
            roots[project if full.startswith(project + os.sep) else os.path.dirname(full)] = None
    if not roots:
        return None
    try:
        return WorkspaceIndex.build(list(roots))
    except Exception as e:  # files are still checked one by one
        if os.environ.get("PROMPTLS_STRICT") == "1":
            raise
        print(f"promptls: workspace index not built ({type(e).__name__}: {e}); files checked one by one",
              file=sys.stderr)
        return None


_WORKSPACE = None  # the run's index, set before forking so that workers inherit it instead of unpickling it


def _analyze_one(path: str, cfg: Config) -> Any:
    from promptls.analysis.engine import analyze_path

    return analyze_path(path, cfg, workspace=_WORKSPACE)


def _analyze_all(files: list[str], cfg: Config, jobs: int, online_count: Any = None, workspace: Any = None
                 ) -> list[Any]:
    """Analyse files, in forked worker processes when there are many (each file is independent). With online
    counts, in this process: the counting requests are throttled anyway, and a fork would copy their thread."""
    global _WORKSPACE
    from promptls.analysis.engine import analyze_path

    if online_count is not None:
        return [analyze_path(f, cfg, online_count=online_count, workspace=workspace) for f in files]
    if jobs <= 0:
        jobs = min(os.cpu_count() or 1, 8) if len(files) >= 32 else 1
    if jobs == 1 or len(files) < 2:
        return [analyze_path(f, cfg, workspace=workspace) for f in files]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Build the encodings and load the catalog once, before forking, so workers inherit them.
    from promptls.analysis.context import Context
    from promptls.tokens import counter_for_tokenizer

    counter_for_tokenizer("o200k_base").count("warm")
    Context(cfg).catalog.resolve("gpt-4o")
    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:
        return [analyze_path(f, cfg, workspace=workspace) for f in files]
    chunk = max(1, len(files) // (jobs * 8))
    _WORKSPACE = workspace
    try:
        with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            return list(pool.map(_analyze_one, files, [cfg] * len(files), chunksize=chunk))
    finally:
        _WORKSPACE = None
