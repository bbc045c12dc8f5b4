"""`promptls models`: the model catalog (context, max output, prices, deprecation), as a table or JSON.
Exit 1 when no model matches."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
from pathlib import Path
from typing import Any

from promptls import config as cfgmod


def register(subparsers: Any) -> None:
    m = subparsers.add_parser("models", help="list the model catalog: context, max output, prices, deprecation")
    m.add_argument("query", nargs="?", default="")
    m.add_argument("--json", action="store_true")
    m.add_argument("--retired", action="store_true",
                   help="only models past a provider's shutdown date (as of `today` in config, else today)")
    m.set_defaults(func=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    from promptls.catalog import format_models_table, load_catalog  # the catalog's data: only for this command

    cfg, _errors, _ = cfgmod.load(Path.cwd())
    cat = load_catalog(cfg.models or None)
    today = cfg.today or _dt.date.today()
    infos = cat.search(args.query)
    if args.retired:
        gone = {i.id for i in cat.retired(today)}
        infos = [i for i in infos if i.id in gone]
    if args.json:
        print(json.dumps([{**dataclasses.asdict(i), "status": i.status(today)} for i in infos], default=str, indent=1))
    else:
        print(format_models_table(infos, today=today, catalog=cat))
    return 0 if infos else 1
