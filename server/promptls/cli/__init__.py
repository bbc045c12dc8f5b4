"""The `promptls` command: `serve` (the language server), `check` (CI), `models`, `schema`, `rules`,
and the router's `run`, `doctor`, `usage`. Heavy modules are imported inside each command."""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path

from promptls import __version__
from promptls import sections as _sections  # noqa: F401 (every owner declares its config section)

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache",
             ".ruff_cache", ".pytest_cache", "dist", "build"}


_CORE_COMMANDS = {"serve", "check", "models", "schema", "rules"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The router's subcommands are only registered when they may be asked for: `serve` starts faster without.
    parser = build_parser(with_router=not (argv and argv[0] in _CORE_COMMANDS))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def build_parser(with_router: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="promptls", description="Language server and checker for LLM prompt files.")
    p.add_argument("--version", action="version", version=f"promptls {__version__}")
    sub = p.add_subparsers(dest="command")

    s = sub.add_parser("serve", help="run the language server (stdio by default)")
    s.add_argument("--stdio", action="store_true", help="speak LSP over stdin/stdout (default)")
    s.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP address instead")
    s.add_argument("--log-file", help="write the server log to this file")
    s.add_argument("--max-message-bytes", type=int, metavar="N",
                   help="largest LSP message accepted (default $PROMPTLS_MAX_MESSAGE_BYTES, else 64 MiB)")
    s.add_argument("-v", "--verbose", action="store_true")
    s.set_defaults(func=_serve)

    c = sub.add_parser("check", help="check prompt files, SDK call sites and datasets (files, folders, globs)")
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
    c.set_defaults(func=_check)

    m = sub.add_parser("models", help="list the model catalog: context, max output, prices, deprecation")
    m.add_argument("query", nargs="?", default="")
    m.add_argument("--json", action="store_true")
    m.add_argument("--retired", action="store_true",
                   help="only models past a provider's shutdown date (as of `today` in config, else today)")
    m.set_defaults(func=_models)

    sc = sub.add_parser("schema", help="print the JSON Schema of the settings")
    sc.set_defaults(func=_schema)

    r = sub.add_parser("rules", help="list every rule with its code, severity and rationale")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_rules)

    if with_router:
        from promptls.cli.eval import register as register_eval
        from promptls.cli.router import register

        register(sub)
        register_eval(sub)
    return p


# -- serve ------------------------------------------------------------------------------------------------
def _serve(args: argparse.Namespace) -> int:
    import logging

    level = logging.DEBUG if args.verbose else logging.INFO
    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING if not args.verbose else logging.DEBUG)
    from promptls.lsp.server import create_server

    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"promptls: --tcp expects HOST:PORT, got {args.tcp!r}", file=sys.stderr)
            return 2
        code = server.start_tcp(host or "127.0.0.1", int(port), args.max_message_bytes)
    else:
        code = server.start_io(max_message_bytes=args.max_message_bytes)
    # After `exit` the interpreter still joins worker threads, i.e. waits for an analysis in progress: the process
    # ends 3 s later at the latest, with the exit code LSP asks for.
    import threading

    timer = threading.Timer(3.0, os._exit, (code,))
    timer.daemon = True
    timer.start()
    return code


# -- check ------------------------------------------------------------------------------------------------
def collect_files(paths: list[str], config) -> tuple[list[str], list[str]]:
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


def _split(v: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (v or "").split(",") if x.strip())


def _check(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from promptls import config as cfgmod
    from promptls.core.findings import Severity
    from promptls.output import render

    explicit = Path(args.config) if args.config else None
    if explicit is not None and not explicit.is_file():
        print(f"promptls: config file not found: {explicit}", file=sys.stderr)
        return 2
    start = Path(args.paths[0]) if args.paths and os.path.exists(args.paths[0]) else Path.cwd()
    cfg, errors, _cfg_path = cfgmod.load(start.resolve(), explicit)
    if errors:
        for e in errors:
            print(f"promptls: invalid config: {e}", file=sys.stderr)
        return 2
    changes: dict = {}
    if args.select:
        changes["select"] = _split(args.select)
    if args.ignore:
        changes["ignore"] = (*cfg.ignore, *_split(args.ignore))
    if args.model:
        changes["model_override"] = args.model
    if changes:
        cfg, errs = cfgmod.from_dict({k.replace("_", "-"): list(v) if isinstance(v, tuple) else v
                                      for k, v in changes.items() if k in ("select", "ignore")}, cfg)
        if errs:
            for e in errs:
                print(f"promptls: {e}", file=sys.stderr)
            return 2
        if args.model:
            cfg = replace(cfg, model_override=args.model)
    files, problems = collect_files(args.paths, cfg)
    for p in problems:
        print(f"promptls: {p}", file=sys.stderr)
    if problems and not files:
        return 2
    counter = _online_counter(cfg) if args.online_tokens or cfg.tokens_online else None
    workspace = _workspace(args.paths, files, cfg, _cfg_path)
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


def _online_counter(cfg):
    from promptls.router.counting import OnlineCounter
    from promptls.router.settings import parse_router_settings

    return OnlineCounter(parse_router_settings(cfg.raw)[0])


def _workspace(paths: list[str], files: list[str], cfg, cfg_path: Path | None):
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


def _analyze_one(path: str, cfg):
    from promptls.analysis.engine import analyze_path

    return analyze_path(path, cfg, workspace=_WORKSPACE)


def _analyze_all(files: list[str], cfg, jobs: int, online_count=None, workspace=None) -> list:
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


# -- models / schema / rules ------------------------------------------------------------------------------
def _models(args: argparse.Namespace) -> int:
    import datetime as _dt

    from promptls import config as cfgmod
    from promptls.catalog import format_models_table, load_catalog

    cfg, _errors, _ = cfgmod.load(Path.cwd())
    cat = load_catalog(cfg.models or None)
    today = cfg.today or _dt.date.today()
    infos = cat.search(args.query)
    if args.retired:
        gone = {i.id for i in cat.retired(today)}
        infos = [i for i in infos if i.id in gone]
    if args.json:
        import dataclasses
        import json

        print(json.dumps([{**dataclasses.asdict(i), "status": i.status(today)} for i in infos], default=str, indent=1))
    else:
        print(format_models_table(infos, today=today, catalog=cat))
    return 0 if infos else 1


def _schema(args: argparse.Namespace) -> int:
    import json

    from promptls.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def _rules(args: argparse.Namespace) -> int:
    from promptls.core.registry import RULES

    if args.json:
        import json

        print(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity.label, "summary": r.summary,
                           "rationale": r.rationale} for r in RULES.values()], indent=1))
        return 0
    for r in RULES.values():
        print(f"{r.code}  {r.name:<30} {r.severity.label:<8} {r.summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
