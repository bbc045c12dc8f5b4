"""Generate the README's rule table from the rule objects, or check or rewrite it in place.

    python scripts/gen_rules_doc.py                    # print the Markdown table
    python scripts/gen_rules_doc.py --check README.md  # exit 1 if the block between the markers is stale
    python scripts/gen_rules_doc.py --write README.md  # rewrite that block

The block sits between `<!-- rules:start -->` and `<!-- rules:end -->`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from promptls.core.rule_docs import render_readme_table

START = "<!-- rules:start -->"
END = "<!-- rules:end -->"


def replace_block(document: str, table: str) -> str:
    """`document` with the text between the markers replaced by `table`; ValueError if markers are missing."""
    start = document.find(START)
    end = document.find(END, start + len(START)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise ValueError(f"markers {START} ... {END} not found (in that order)")
    return document[: start + len(START)] + "\n" + table + document[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", metavar="FILE", type=Path, help="exit 1 if FILE's rule table is out of date")
    mode.add_argument("--write", metavar="FILE", type=Path, help="rewrite FILE's rule table")
    args = parser.parse_args(argv)
    table = render_readme_table()
    target: Path | None = args.check or args.write
    if target is None:
        sys.stdout.write(table)
        return 0
    current = target.read_text(encoding="utf-8")
    try:
        updated = replace_block(current, table)
    except ValueError as exc:
        print(f"{target}: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if updated != current:
            print(
                f"{target}: rule table is out of date; run: python scripts/gen_rules_doc.py --write {target}",
                file=sys.stderr,
            )
            return 1
        return 0
    if updated != current:
        target.write_text(updated, encoding="utf-8")
        print(f"{target}: rule table updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
