"""A minimal blocking JSON-RPC-over-stdio LSP client for benchmarks (no framework overhead in the figures)."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any


class Wire:
    def __init__(self, cmd: list[str]) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0

    def send(self, method: str, params: Any, *, request: bool = True) -> int | None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        rid = None
        if request:
            self.next_id += 1
            rid = msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return rid

    def read(self) -> dict[str, Any]:
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.proc.stdout.read(length))

    def wait(self, pred, limit: float = 30.0) -> dict[str, Any]:
        end = time.perf_counter() + limit
        while time.perf_counter() < end:
            msg = self.read()
            if msg.get("method") == "workspace/configuration" and "id" in msg:
                self.reply(msg["id"], [{} for _ in msg["params"]["items"]])
                continue
            if "id" in msg and "method" in msg:  # other server->client requests
                self.reply(msg["id"], None)
                continue
            if pred(msg):
                return msg
        raise TimeoutError("no matching message")

    def reply(self, rid: Any, result: Any) -> None:
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def initialize(self, root_uri: str | None = None) -> float:
        """Seconds from process start to the initialize response."""
        rid = self.send("initialize", {"processId": None, "rootUri": root_uri, "capabilities": {
            "window": {"workDoneProgress": False}}})
        self.wait(lambda m: m.get("id") == rid)
        dt = time.perf_counter() - self.t0
        self.send("initialized", {}, request=False)
        return dt

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        try:
            rid = self.send("shutdown", None)
            self.wait(lambda m: m.get("id") == rid, 5)
            self.send("exit", None, request=False)
            self.proc.wait(5)
        except Exception:
            self.proc.kill()
