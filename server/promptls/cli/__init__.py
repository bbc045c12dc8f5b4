"""The `promptls` command: the parser and the dispatch, nothing else. Each command lives in its own module
(`promptls.cli.<command>`), which adds its subparser with `register(subparsers)` and runs it with the
`func(args) -> exit code` it sets.

Start-up: `promptls serve` is what an editor spawns. Only the module of the command asked for is imported (all of
them for `promptls --help`), and the command modules import the analysis, the catalog, the server and the report
formats only when they run."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from promptls import __version__
from promptls import sections as _sections  # noqa: F401 (every owner declares its config section)

# Each is the module `promptls.cli.<name>`; this is the order of `promptls --help`.
COMMANDS = ("serve", "check", "models", "schema", "rules", "run", "doctor", "usage", "eval")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of `command` only (its help and its errors are the same either way)."""
    p = argparse.ArgumentParser(prog="promptls", description="Language server and checker for LLM prompt files.")
    p.add_argument("--version", action="version", version=f"promptls {__version__}")
    sub = p.add_subparsers(dest="command")
    for name in COMMANDS:
        if command in (None, name):
            import_module(f"promptls.cli.{name}").register(sub)
    return p


if __name__ == "__main__":
    raise SystemExit(main())
