"""One module per command, and a cheap start-up: building the parser imports no analysis, catalog, server or
report code, and `promptls serve` imports only its own command module."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("promptls.analysis", "promptls.lsp", "promptls.catalog", "promptls.output", "promptls.workspace",
         "promptls.eval.runner", "pygls")


def loaded_after(code: str) -> list[str]:
    script = f"import json, sys\nimport promptls.cli as cli\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def test_serve_imports_only_its_command_module():
    mods = loaded_after("cli.build_parser('serve')")
    assert [m for m in mods if m.startswith("promptls.cli.")] == ["promptls.cli.serve"]


def test_the_whole_parser_imports_nothing_heavy():
    mods = loaded_after("cli.build_parser()")
    assert {m for m in mods if m.startswith("promptls.cli.")} >= {f"promptls.cli.{c}" for c in
                                                                  ("serve", "check", "models", "schema", "rules",
                                                                   "run", "doctor", "usage", "eval")}
    assert [m for m in mods if m.startswith(HEAVY)] == []
