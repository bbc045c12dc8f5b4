"""Startup and keystroke-to-diagnostic latency of the language server, measured over real stdio.

- initialize: wall time from spawning the process to the initialize response, median of N runs, for promptls and
  for a bare pygls server (bench/bare_pygls_server.py) on the same machine; RSS of promptls after `initialized`
  and after analysing a first document.
- edit latency: a 2,000-line Dotprompt file (and a 2,000-line Python module with 40 SDK calls) is opened; then
  one-character edits are sent one at a time, each timed from didChange to the publishDiagnostics carrying that
  version (median and p95).
Run: .venv/bin/python bench/bench_lsp.py [--runs 10] [--edits 60] [--only code]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lsp_wire import Wire


def big_prompt(lines: int = 2000, dense: bool = True) -> str:
    """A 2,000-line Dotprompt file. Dense: a role marker every 50 lines and 5 tags on every 7th line (3,400
    tags, a stress case); sparse: a role marker every 50 lines and one variable every 10 lines (closer to a long
    real system prompt)."""
    head = "---\nmodel: gpt-4o\nconfig:\n  maxOutputTokens: 500\ninput:\n  schema:\n    name: string\n" \
           "    items(array): string\n  default:\n    name: Ada\n---\n{{role \"system\"}}\n"
    body = []
    for i in range(lines - 14):
        if i % 50 == 0:
            body.append('{{role "user"}}' if i % 100 else '{{role "system"}}')
        elif dense and i % 7 == 0:
            body.append(f"Line {i}: {{{{#if name}}}}Dear {{{{name}}}}{{{{/if}}}}, item {{{{#each items}}}}{{{{this}}}}"
                        "{{/each}}.")
        elif not dense and i % 10 == 0:
            body.append(f"Line {i}: remember that {{{{name}}}} prefers short answers; rule number {i}.")
        else:
            body.append(f"Line {i}: the quick brown fox jumps over the lazy dog, again and again, number {i}.")
    return head + "\n".join(body) + "\n"


def big_module(lines: int = 2000) -> str:
    """A 2,000-line Python module: plain helper functions, and an Anthropic or OpenAI call every 50 lines."""
    out = ['"""Generated support service."""', "import anthropic", "from openai import OpenAI", "",
           'SYSTEM = "You are a careful support agent. Answer in two sentences."', "",
           "claude = anthropic.Anthropic(timeout=30)", "oai = OpenAI()", ""]
    i = 0
    while len(out) < lines:
        i += 1
        if i % 5 == 0:
            out += [f"def answer_{i}(q: str) -> str:", "    msg = claude.messages.create(",
                    '        model="claude-sonnet-4-6",', "        max_tokens=512,", "        system=SYSTEM,",
                    '        messages=[{"role": "user", "content": q}],', "    )", "    return msg.content[0].text", ""]
        elif i % 5 == 1:
            out += [f"def label_{i}(t: str) -> str:", "    r = oai.chat.completions.create(",
                    f'        model="gpt-4o-mnii", temperature={i % 3},',
                    '        messages=[{"role": "user", "content": t}],', "    )",
                    "    return r.choices[0].message.content", ""]
        else:
            out += [f"def helper_{i}(values: list[int]) -> int:", "    total = 0", "    for v in values:",
                    f"        total += v * {i}", "    return total", ""]
    return "\n".join(out[:lines]) + "\n"


def p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def startup(cmd: list[str], runs: int) -> tuple[list[float], list[float]]:
    times, rss = [], []
    for _ in range(runs):
        w = Wire(cmd)
        times.append(w.initialize())
        time.sleep(0.3)
        rss.append(w.rss_mb())
        w.close()
    return times, rss


def edit_latency(edits: int, dense: bool, code: bool = False) -> tuple[list[float], float, float]:
    w = Wire([sys.executable, "-m", "promptls", "serve"])
    w.initialize()
    text = big_module() if code else big_prompt(dense=dense)
    uri = "file:///tmp/promptls-bench/big.py" if code else "file:///tmp/promptls-bench/big.prompt"
    lang = "python" if code else "dotprompt"
    w.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": lang, "version": 1,
                                                     "text": text}}, request=False)
    w.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == 1, 60)
    rss_open = w.rss_mb()
    lat = []
    # code: type inside the SYSTEM string (line 4), so the module stays valid Python after every keystroke
    line, col = (4, 12) if code else (500, 0)
    for v in range(2, edits + 2):
        ch = "x" if v % 2 else "y"
        t0 = time.perf_counter()
        w.send("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": v},
            "contentChanges": [{"range": {"start": {"line": line, "character": col},
                                          "end": {"line": line, "character": col}}, "text": ch}]}, request=False)
        w.wait(lambda m, v=v: m.get("method") == "textDocument/publishDiagnostics"
               and m["params"].get("version") == v, 30)
        lat.append((time.perf_counter() - t0) * 1000)
    rss_end = w.rss_mb()
    w.close()
    return lat, rss_open, rss_end


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--edits", type=int, default=60)
    ap.add_argument("--only", choices=["code"], help="measure only the Python-module edit latency")
    a = ap.parse_args()
    here = Path(__file__).parent
    # Installed packages (pygls, lsprotocol) run from bytecode compiled at install time; compile ours the same
    # way so a PYTHONDONTWRITEBYTECODE environment doesn't make promptls pay a source compile on every start.
    import compileall

    compileall.compile_dir(str(here.parent / "server" / "promptls"), quiet=1)
    if a.only != "code":
        startup_and_prompts(a, here)
    lat, rss_open, _ = edit_latency(a.edits, False, code=True)
    print(f"one-character edit in a 2,000-line Python module with SDK calls -> fresh diagnostics ({len(lat)} "
          f"edits): median {statistics.median(lat):.1f} ms, p95 {p(lat, 0.95):.1f} ms, max {max(lat):.1f} ms")
    print(f"  RSS with the module open: {rss_open:.1f} MB")


def startup_and_prompts(a: argparse.Namespace, here: Path) -> None:
    bare_t, bare_rss = startup([sys.executable, str(here / "bare_pygls_server.py")], a.runs)
    ours_t, ours_rss = startup([sys.executable, "-m", "promptls", "serve"], a.runs)
    mb, mo = statistics.median(bare_t) * 1000, statistics.median(ours_t) * 1000
    print(f"initialize (spawn -> response), median of {a.runs}: bare pygls {mb:.0f} ms, promptls {mo:.0f} ms, "
          f"ratio {mo / mb:.2f}x")
    print(f"RSS after initialized: bare pygls {statistics.median(bare_rss):.1f} MB, "
          f"promptls {statistics.median(ours_rss):.1f} MB")
    for dense in (False, True):
        lat, rss_open, rss_end = edit_latency(a.edits, dense)
        kind = "tag-dense, 3,400 tags" if dense else "sparse, 1 variable per 10 lines"
        print(f"one-character edit in a 2,000-line .prompt ({kind}) -> fresh diagnostics ({len(lat)} edits): "
              f"median {statistics.median(lat):.1f} ms, p95 {p(lat, 0.95):.1f} ms, max {max(lat):.1f} ms")
        print(f"  RSS with the document open: {rss_open:.1f} MB (after the edits: {rss_end:.1f} MB)")


if __name__ == "__main__":
    main()
