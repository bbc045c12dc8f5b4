"""Fault injection against the language server over stdio, bounded in time and in count.

Runs `python -m promptls serve` on raw pipes, initializes it, opens a probe document, then sends random cases, each
followed by a probe request (`textDocument/documentSymbol` on the probe document). Prints the cases tried, crashes
(the process died; it is restarted), hangs (a probe unanswered within --timeout) and unanswered requests (requests
inside a case that must get a response, error or result, and got none). All three should be 0; exit code 1 if not.

    .venv/bin/python scripts/fuzz_lsp.py --seconds 60 [--cases 5000] [--seed 1] [--timeout 15]

To add cases (e.g. text edits), write `def case_name(rng, ids) -> Case` and append it to CASES: `ids()` gives a
fresh request id; return the bytes to send and the ids of the requests in them that must be answered.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.rawlsp import RawServer, did_open, frame, notification, request, symbols_request


@dataclass
class Case:
    name: str
    data: bytes
    must_answer: list[str] = field(default_factory=list)
    # given everything the server sent for the case, a sentence when an answer is wrong (None when right)
    check: Callable[[list[dict]], str | None] | None = None


Ids = Callable[[], str]


def _body(obj: dict) -> bytes:
    return json.dumps(obj).encode()


def _req(rid: str) -> dict:
    return symbols_request(rid)


def _garbage(rng: random.Random, n: int) -> bytes:
    while True:
        g = bytes(rng.getrandbits(8) for _ in range(n))
        if b"content-length" not in g.lower():
            return g


# -- transport cases ----------------------------------------------------------------------------------------
def case_header_spelling(rng: random.Random, ids: Ids) -> Case:
    rid = ids()
    b = _body(_req(rid))
    name = rng.choice([b"Content-Length", b"content-length", b"CONTENT-LENGTH", b"Content-length"])
    colon = rng.choice([b":", b": ", b":  ", b" : ", b":\t"])
    eol = rng.choice([b"\r\n", b"\n"])
    extra = rng.choice([b"", b"Content-Type: application/vscode-jsonrpc; charset=utf-8" + eol])
    return Case("header spelling", extra + name + colon + b"%d" % len(b) + eol + eol + b, [rid])


def case_bad_length_value(rng: random.Random, ids: Ids) -> Case:
    rid = ids()
    b = _body(_req(rid))
    value = rng.choice([b"-%d" % len(b), b"abc", b"", b"1e3", b"0x10", b"%d.0" % len(b), b"+%d" % len(b)])
    return Case("bad Content-Length value", b"Content-Length: " + value + b"\r\n\r\n" + b, [rid])


def case_missing_length(rng: random.Random, ids: Ids) -> Case:
    rid = ids()
    return Case("missing Content-Length", b"Content-Type: x\r\n\r\n" + _body(_req(rid)), [rid])


def case_wrong_length(rng: random.Random, ids: Ids) -> Case:
    rid = ids()
    b = _body(_req(rid))
    delta = rng.choice([-5, -3, -2, -1, 1, 2, 3, 5])
    return Case(f"length off by {delta}", b"Content-Length: %d\r\n\r\n" % (len(b) + delta) + b, [rid])


def case_huge_length(rng: random.Random, ids: Ids) -> Case:
    rid = ids()
    n = rng.choice([10**12, 2**63, 10**19, 64 * 1024 * 1024 + 1])
    return Case("huge Content-Length", b"Content-Length: %d\r\n\r\n" % n + _body(_req(rid)), [rid])


def case_not_json(rng: random.Random, ids: Ids) -> Case:
    body = rng.choice([b"{not json", b"hello", b"\xff\xfe\x00", b'{"jsonrpc": "2.0", "id": ', b"null", b"[]", b"42"])
    return Case("body not JSON-RPC", frame(body))


def case_deep_nesting(rng: random.Random, ids: Ids) -> Case:
    rid = ids()
    depth = rng.choice([1_000, 10_000, 100_000])
    nest = b"[" * depth + b"]" * depth
    if rng.random() < 0.5:
        body = b'{"jsonrpc":"2.0","id":"%s","method":"textDocument/hover","params":%s}' % (rid.encode(), nest)
    else:
        body = b'{"jsonrpc":"2.0","method":"textDocument/hover","params":%s,"id":"%s"}' % (nest, rid.encode())
    return Case(f"nested {depth} deep", frame(body), [rid])


def case_garbage(rng: random.Random, ids: Ids) -> Case:
    return Case("garbage", _garbage(rng, rng.randint(1, 300)) + rng.choice([b"", b"\r\n", b"\r\n\r\n"]))


def case_bad_params(rng: random.Random, ids: Ids) -> Case:
    rid = ids()
    params = rng.choice([{"textDocument": {"uri": 5}}, {"position": "x"}, None, [], {"textDocument": {}}])
    method = rng.choice(["textDocument/hover", "textDocument/documentSymbol", "textDocument/completion"])
    return Case("bad params", frame({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}), [rid])


def case_bad_uri(rng: random.Random, ids: Ids) -> Case:
    rid = ids()
    uri = rng.choice(["file://%zz", "garbage", "", "file:///%00", "untitled:x", "file:///no/such/file.prompt",
                      "http://example.invalid/x.prompt", "file://" + "a" * 5000])
    return Case("bad uri", frame({"jsonrpc": "2.0", "id": rid, "method": "textDocument/hover",
                                  "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}}),
                [rid])


def case_text_drift(rng: random.Random, ids: Ids) -> Case:
    """A document opened afresh, 3-12 incremental edits with characters that `str.splitlines` breaks at and LSP
    does not (positions often past a line's end or inside a '\\r\\n'), then a hover on `city`: its answer must name
    `city` on the line and columns where a reference model of the spec (tests/e2e/test_text_model.py) put it."""
    from lsprotocol import types as lsp
    from tests.e2e.test_text_model import BASE, ref_apply, ref_position, scratch_change, span_text

    uri = "file:///promptls-fuzz/drift.prompt"  # each case opens it afresh (no didClose: a hover may run after it)
    edits, text, version = random.Random(rng.getrandbits(32)), BASE, 1
    frames = [did_open(uri, BASE)]
    for _ in range(rng.randint(3, 12)):
        change = scratch_change(edits, text, "utf-16")
        text = ref_apply(text, change.range, change.text, "utf-16")
        version += 1
        r = change.range
        frames.append(notification("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": r.start.line, "character": r.start.character},
                                          "end": {"line": r.end.line, "character": r.end.character}},
                                "text": change.text}]}))
    line, character = ref_position(text, text.index("{{city}}") + 3, "utf-16")
    rid = ids()
    frames.append(request(rid, "textDocument/hover", {"textDocument": {"uri": uri},
                                                      "position": {"line": line, "character": character}}))

    def check(messages: list[dict]) -> str | None:
        answer = next((m for m in messages if m.get("id") == rid and "method" not in m), None)
        if answer is None:
            return None  # counted as unanswered
        result = answer.get("result") or {}
        value = (result.get("contents") or {}).get("value", "")
        if "**city**" not in value or f"used on line {line + 1}" not in value:
            return f"hover {value[:100]!r} is not about `city` on line {line + 1}"
        rng_ = result.get("range") or {}
        try:
            under = span_text(text, lsp.Range(lsp.Position(**rng_["start"]), lsp.Position(**rng_["end"])), "utf-16")
        except (KeyError, TypeError):
            return f"hover range {rng_!r}"
        return None if "city" in under else f"hover range {rng_!r} covers {under!r}, not `city`"

    return Case("text drift", b"".join(frame(f) for f in frames), [rid], check)


def case_mix(rng: random.Random, ids: Ids) -> Case:
    parts = [rng.choice(CASES[:-1])(rng, ids) for _ in range(rng.randint(2, 5))]
    return Case("mix of " + " + ".join(p.name for p in parts), b"".join(p.data for p in parts),
                [i for p in parts for i in p.must_answer])


CASES: list[Callable[[random.Random, Ids], Case]] = [
    case_header_spelling, case_bad_length_value, case_missing_length, case_wrong_length, case_huge_length,
    case_not_json, case_deep_nesting, case_garbage, case_bad_params, case_bad_uri, case_text_drift,
    case_mix,  # keep last: it draws from the others
]


# -- the run ------------------------------------------------------------------------------------------------
class Fuzzer:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.crashes = self.hangs = self.unanswered = self.wrong = 0
        self.failures: list[str] = []
        self._n = 0
        self.server = self._start()

    def ids(self) -> str:
        self._n += 1
        return f"f{self._n}"

    def _start(self) -> RawServer:
        s = RawServer()
        s.initialize(timeout=60)
        s.send(did_open())
        return s

    def _answered(self, rid: str) -> bool:
        return any(m.get("id") == rid and "method" not in m for m in self.server.messages)

    def run_case(self, case: Case, rng: random.Random) -> None:
        probe = self.ids()
        data = case.data + frame(symbols_request(probe))
        try:
            # a few writes with pauses in between, so frames also arrive split across reads
            cuts = sorted(rng.sample(range(1, len(data)), min(3, len(data) - 1))) if len(data) > 1 else []
            start = 0
            for cut in [*cuts, len(data)]:
                self.server.send(data[start:cut])
                start = cut
                time.sleep(rng.choice([0, 0, 0.001]))
            self.server.response(probe, self.timeout)
        except (BrokenPipeError, AssertionError) as exc:
            if not self.server.alive():
                self.crashes += 1
                self.failures.append(f"crash on {case.name}: exit {self.server.proc.poll()}; "
                                     f"{self.server.stderr_text()[-800:]}")
                self.server.kill()
                self.server = self._start()
                return
            self.hangs += 1
            self.failures.append(f"hang on {case.name}: {str(exc)[:300]}")
            self.server.kill()  # its state is unknown: start afresh
            self.server = self._start()
            return
        missing = [rid for rid in case.must_answer if not self._answered(rid)]
        if missing:
            # responses may trail the probe's (handlers run concurrently): allow them a moment
            try:
                for rid in missing:
                    self.server.response(rid, 5)
            except AssertionError:
                pass
            missing = [rid for rid in case.must_answer if not self._answered(rid)]
        if missing:
            self.unanswered += len(missing)
            self.failures.append(f"unanswered on {case.name}: {missing}")
        if case.check is not None and (problem := case.check(self.server.messages)):
            self.wrong += 1
            self.failures.append(f"wrong answer on {case.name}: {problem}")
        # keep memory flat over a long run: the probe and case responses have been checked
        del self.server.messages[:]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--cases", type=int, default=100_000, help="stop after this many cases")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--timeout", type=float, default=15, help="seconds a probe may take before it counts as a hang")
    args = p.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    began = time.monotonic()
    fuzzer = Fuzzer(args.timeout)
    tried = 0
    per_kind: dict[str, int] = {}
    try:
        while tried < args.cases and time.monotonic() - began < args.seconds:
            case = rng.choice(CASES)(rng, fuzzer.ids)
            fuzzer.run_case(case, rng)
            tried += 1
            kind = case.name.split(" by ")[0].split(" of ")[0]
            per_kind[kind] = per_kind.get(kind, 0) + 1
    finally:
        fuzzer.server.kill()
    print(f"seed: {seed}  ({time.monotonic() - began:.1f} s)")
    print(f"cases tried: {tried}")
    print(f"crashes: {fuzzer.crashes}")
    print(f"hangs: {fuzzer.hangs}")
    print(f"unanswered requests: {fuzzer.unanswered}")
    print(f"wrong answers: {fuzzer.wrong}")
    print("by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(per_kind.items())))
    for f in fuzzer.failures[:20]:
        print("  " + f)
    return 1 if fuzzer.crashes or fuzzer.hangs or fuzzer.unanswered or fuzzer.wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
