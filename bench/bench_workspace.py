"""Workspace index build on a generated 2,000-file Python repository with shared client and constant modules:
wall time and peak RSS of building the index in a fresh interpreter (`git ls-files` listing, one parse per
module), then the time to resolve every cross-module call of every module and to re-index one edited constants
module (and how many dependents it names).
Run: .venv/bin/python bench/bench_workspace.py [--files 2000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

CHILD = r"""
import json, sys, time
from promptls.workspace import WorkspaceIndex
t0 = time.perf_counter()
index = WorkspaceIndex.build([sys.argv[1]])
build = time.perf_counter() - t0
from promptls.code.python_sites import extract_python
t0 = time.perf_counter()
calls = 0
for path, info in list(index.by_path.items()):
    text = open(path, encoding="utf-8").read()
    calls += len(extract_python(path, text, index.env_for(path, text)).calls)
resolve = time.perf_counter() - t0
const = sys.argv[1] + "/app/shared/settings.py"
text = open(const, encoding="utf-8").read()
t0 = time.perf_counter()
deps = index.update(const, text.replace("claude-sonnet-4-5", "claude-haiku-4-5"))
update = time.perf_counter() - t0
with open("/proc/self/status") as f:
    peak = next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmHWM:"))
print(json.dumps({"modules": len(index.by_path), "build_s": build, "resolve_all_s": resolve, "calls": calls,
                  "update_s": update, "dependents": len(deps), "peak_rss_mb": peak}))
"""

CLIENTS = '''"""Shared clients."""
import anthropic
from openai import AsyncOpenAI

claude = anthropic.Anthropic(timeout=30)
fast = claude.with_options(max_retries=0)
openai_client = AsyncOpenAI(timeout=30)


def make_client() -> anthropic.Anthropic:
    return anthropic.Anthropic(timeout=10)
'''
SETTINGS = '''"""Shared constants."""
from textwrap import dedent

MODEL = "claude-sonnet-4-5"
MAX_TOKENS = 1024
SYSTEM = dedent(f"""
    You are the assistant of the {MODEL} team.
""")
'''


def module(i: int) -> str:
    """A service module of ~60 lines: imports from the shared modules, a class with `self.client`, helpers."""
    body = [f'"""Service {i}."""', "import json", "import os", "",
            "from app.shared.clients import claude, fast, make_client",
            "from app.shared import settings", f"from app.pkg{i % 20} import helpers{i % 7} as h", "", ""]
    body.append(textwrap.dedent(f"""\
        class Service{i}:
            def __init__(self):
                self.client = claude

            def answer(self, q):
                return self.client.messages.create(model=settings.MODEL, max_tokens=settings.MAX_TOKENS,
                                                   system=settings.SYSTEM, messages=[{{"role": "user", "content": q}}])


        def quick_{i}(q):
            params = {{"model": settings.MODEL, "messages": [{{"role": "user", "content": q}}]}}
            return fast.messages.create(**params)


        def other_{i}(q):
            return make_client().messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[])


        def plain_{i}(rows):
            out = []
            for r in rows:
                out.append(json.dumps({{"i": {i}, "r": r, "env": os.environ.get("X")}}))
            return h.f(out)
        """))
    return "\n".join(body)


def make_repo(root: Path, files: int) -> None:
    (root / "app" / "shared").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "shared" / "__init__.py").write_text("")
    (root / "app" / "shared" / "clients.py").write_text(CLIENTS)
    (root / "app" / "shared" / "settings.py").write_text(SETTINGS)
    for p in range(20):
        pkg = root / "app" / f"pkg{p}"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        for k in range(7):
            (pkg / f"helpers{k}.py").write_text(f"def f(x):\n    return x  # {p}.{k}\n")
    made = 4 + 20 * 8
    i = 0
    while made < files:
        (root / "app" / f"pkg{i % 20}" / f"service_{i}.py").write_text(module(i))
        i += 1
        made += 1
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        make_repo(root, args.files)
        runs = []
        for _ in range(args.runs):
            res = subprocess.run([sys.executable, "-c", CHILD, str(root)], capture_output=True, text=True,
                                 check=True)
            runs.append(json.loads(res.stdout))
    last = runs[-1]
    med = {k: statistics.median(r[k] for r in runs) for k in ("build_s", "resolve_all_s", "update_s", "peak_rss_mb")}
    print(f"workspace index, generated repo of {last['modules']:,} Python modules ({args.runs} runs, fresh "
          f"interpreter each, medians):")
    print(f"  build (git ls-files + one parse per module): {med['build_s']:.2f} s wall")
    print(f"  resolve every call of every module through it: {med['resolve_all_s']:.2f} s ({last['calls']:,} calls)")
    print(f"  re-index the shared constants module after an edit: {med['update_s'] * 1000:.1f} ms, "
          f"{last['dependents']:,} dependents to re-analyse")
    print(f"  peak RSS of the process: {med['peak_rss_mb']:.0f} MB")
    print("How: bench/bench_workspace.py; wall times by time.perf_counter in the child, RSS = VmHWM.")


if __name__ == "__main__":
    main()
