"""A raw-pipe LSP client for transport tests and `scripts/fuzz_lsp.py`: spawns `python -m promptls serve`, writes
arbitrary bytes to its stdin, and reads its framed output with deadlines (never a blocking read without one)."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

SERVE = [sys.executable, "-m", "promptls", "serve"]
INIT_PARAMS = {"processId": None, "rootUri": None, "capabilities": {}, "initializationOptions": {"today": "2026-11-25"}}
PROBE_URI = "file:///promptls-transport/probe.prompt"
PROBE_TEXT = "---\nmodel: gpt-4o\ninput:\n  schema:\n    name: string\n---\nHello {{name}}\n"


def frame(obj: Any, header: bytes | None = None) -> bytes:
    """A well-formed frame for `obj` (bytes are sent as the body as they are), or `obj` under `header`."""
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return (header if header is not None else b"Content-Length: %d\r\n\r\n" % len(body)) + body


def request(rid: Any, method: str, params: Any = None) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


def notification(method: str, params: Any = None) -> dict:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def symbols_request(rid: Any, uri: str = PROBE_URI) -> dict:
    return request(rid, "textDocument/documentSymbol", {"textDocument": {"uri": uri}})


def did_open(uri: str = PROBE_URI, text: str = PROBE_TEXT) -> dict:
    return notification("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "dotprompt",
                                                                  "version": 1, "text": text}})


class RawServer:
    """One server process on raw pipes; `messages` holds everything it has sent, in order."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in kill(); lives as long as the server)
        self.proc = subprocess.Popen([*SERVE, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env={**os.environ, "PROMPTLS_STRICT": "1", **(env or {})})
        self._buf = bytearray()
        self.messages: list[dict] = []
        self._seen = 0
        self.eof = False

    # -- writing --------------------------------------------------------------------------------------------
    def send(self, *parts: bytes | dict) -> None:
        data = b"".join(p if isinstance(p, bytes) else frame(p) for p in parts)
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def initialize(self, rid: Any = "init", timeout: float = 60) -> dict:
        self.send(request(rid, "initialize", INIT_PARAMS), notification("initialized", {}))
        return self.response(rid, timeout)

    # -- reading --------------------------------------------------------------------------------------------
    def _pump(self, deadline: float) -> bool:
        """Read what arrives before `deadline`; False once the deadline passed or output ended."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0 or self.eof:
            return False
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not ready:
            return time.monotonic() < deadline
        data = os.read(fd, 1 << 16)
        if not data:
            self.eof = True
            return False
        self._buf += data
        self._parse()
        return True

    def _parse(self) -> None:
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            length = None
            for line in bytes(self._buf[:end]).split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            assert length is not None, f"server sent a frame without Content-Length: {bytes(self._buf[:200])!r}"
            if len(self._buf) < end + 4 + length:
                return
            self.messages.append(json.loads(self._buf[end + 4:end + 4 + length]))
            del self._buf[:end + 4 + length]

    def wait_for(self, pred: Callable[[dict], bool], timeout: float = 30) -> dict:
        """The first message (received at any time) matching `pred`; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for msg in self.messages[checked:]:
                if pred(msg):
                    return msg
            checked = len(self.messages)
            if not self._pump(deadline):
                for msg in self.messages[checked:]:
                    if pred(msg):
                        return msg
                alive = f"exited {self.proc.poll()}" if self.proc.poll() is not None else "alive"
                raise AssertionError(f"no matching message within {timeout}s (server {alive}); "
                                     f"got {self.messages[-5:]}; log tail: {self.stderr_text()[-1500:]}")

    def response(self, rid: Any, timeout: float = 30) -> dict:
        return self.wait_for(lambda m: m.get("id") == rid and "method" not in m, timeout)

    def log_message(self, contains: str, timeout: float = 30) -> dict:
        return self.wait_for(lambda m: m.get("method") == "window/logMessage"
                             and contains in m.get("params", {}).get("message", ""), timeout)

    def drain(self, timeout: float = 30) -> None:
        """Read until output ends (the server closed stdout) or `timeout`."""
        deadline = time.monotonic() + timeout
        while self._pump(deadline):
            pass

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def wait_exit(self, timeout: float = 30) -> int:
        self.drain(timeout)
        return self.proc.wait(timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._stderr.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
