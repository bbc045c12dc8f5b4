"""Shared by the bench scripts: run `promptls check` in a fresh process and read its peak RSS from inside that
process (VmHWM), because a forked child's `ru_maxrss` also counts the parent's pages it shared before exec."""

from __future__ import annotations

import json
import subprocess
import sys
import time

CLI_CHILD = r"""
import json, sys
from promptls.cli import main
code = main(["check", *sys.argv[2:], "-o", sys.argv[1]])
with open("/proc/self/status") as f:
    peak = next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmHWM:"))
print(json.dumps({"returncode": code, "peak_rss_mb": peak}))
"""


def run_check_cli(out: str, *args: str) -> dict:
    """`promptls check ARGS -o OUT` in a fresh interpreter: wall time (start-up included), exit code, peak RSS."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", CLI_CHILD, out, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        return {"wall_s": wall, "peak_rss_mb": None, "returncode": res.returncode, "stderr": res.stderr[-500:]}
    return {"wall_s": wall, **json.loads(res.stdout)}
