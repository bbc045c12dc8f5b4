"""`promptls rules`: every rule with its code, name, severity and summary (`--json`: with its rationale)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    r = subparsers.add_parser("rules", help="list every rule with its code, severity and rationale")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_rules)


def cmd_rules(args: argparse.Namespace) -> int:
    from promptls.core.registry import RULES  # every rule's text: only for this command

    if args.json:
        print(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity.label, "summary": r.summary,
                           "rationale": r.rationale} for r in RULES.values()], indent=1))
        return 0
    for r in RULES.values():
        print(f"{r.code}  {r.name:<30} {r.severity.label:<8} {r.summary}")
    return 0
