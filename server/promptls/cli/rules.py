"""`promptls rules`: every rule with its code, name, severity and summary (`--json`: with its rationale, fix safety
and tags); `promptls rules CODE` (or a rule's name): that rule's page, like `ruff rule CODE`. All of it is
rendered from the rule objects (`core/registry.py`, `core/rule_docs.py`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    r = subparsers.add_parser("rules", help="list every rule with its code, severity and rationale, or explain one")
    r.add_argument("rule", nargs="?", help="a rule code or name: print its documentation")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_rules)


def cmd_rules(args: argparse.Namespace) -> int:
    from promptls.core import rule_docs  # every rule's text: only for this command

    if args.rule:
        page = rule_docs.render_rule(args.rule)
        if page is None:
            print(f"promptls rules: no rule {args.rule!r} (`promptls rules` lists them)", file=sys.stderr)
            return 2
        print(page, end="")
        return 0
    if args.json:
        print(json.dumps(rule_docs.rules_json(), indent=1))
        return 0
    print(rule_docs.render_rules_table())
    return 0
