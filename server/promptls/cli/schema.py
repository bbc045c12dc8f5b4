"""`promptls schema`: the JSON Schema of the settings (every declared section), which editors' settings pages
are generated from."""

from __future__ import annotations

import argparse
import json
from typing import Any

from promptls.config import json_schema


def register(subparsers: Any) -> None:
    sc = subparsers.add_parser("schema", help="print the JSON Schema of the settings")
    sc.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0
