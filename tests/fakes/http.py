"""A scriptable HTTP/1.1 server on 127.0.0.1 for faking LLM provider APIs at the byte level.

Hand-written on asyncio streams rather than on a web framework because the fault matrix needs control that
frameworks hide: resetting a connection mid-body (RST), stalling with the socket open, writing a malformed SSE
line, ending a chunked body cleanly without the terminal event. Each server runs its own event loop in a
daemon thread, so tests (sync or async, any event loop) and benchmarks can use it alike.

Scripting: `fake.push(Fault(...), ...)` queues one fault per incoming model call (first in, first out); with an
empty queue a call is answered normally. Every request is recorded (`fake.requests`), and whether the client
closed a stream before its end (`fake.client_closed`). Over HTTP, `POST /__fake__/script` (a JSON list of fault
dicts), `GET /__fake__/requests` and `POST /__fake__/reset` do the same for a fake run as a subprocess.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

# -- faults -------------------------------------------------------------------------------------------------------

STREAM_FAULTS = ("reset", "stall", "malformed", "error_event", "no_terminal")


@dataclass
class Fault:
    """What to do with one model call.

    kind: "ok" | "status" (answer `status` with the provider's error body) | "stall_head" (accept, never answer)
          | "close" (close the connection without answering) | one of STREAM_FAULTS, applied after `after` tokens:
          "reset" (TCP RST), "stall" (keep the socket open, send nothing), "malformed" (a broken data line),
          "error_event" (the provider's in-stream error, type `error`), "no_terminal" (end the body cleanly
          without the terminal event).
    error: the error type for "status"/"error_event" bodies: rate_limit, overloaded, server, auth, not_found,
           overflow, quota_day, spend, filtered, bad_request (default chosen from the status).
    terminal_frames: with kind "ok", write only this many of the stream's closing frames, then end the body
           cleanly (OpenAI: 1 = the finish chunk without the usage chunk and `[DONE]`).
    no_usage: answer without the usage the protocol carries (a server that ignores `include_usage`).
    """

    kind: str = "ok"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    error: str | None = None
    after: int = 0
    delay_s: float = 0.0
    token_delay_s: float = 0.0
    tokens: list[str] | None = None
    tool: dict[str, Any] | None = None
    terminal_frames: int | None = None
    no_usage: bool = False

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fault:
        return cls(**d)


def status_error(status: int, *, retry_after: str | None = None, error: str | None = None, **kw: Any) -> Fault:
    headers = dict(kw.pop("headers", {}) or {})
    if retry_after is not None:
        headers["retry-after"] = retry_after
    return Fault(kind="status", status=status, headers=headers, error=error, **kw)


# -- requests and responses ---------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def summary(self) -> dict[str, Any]:
        try:
            body: Any = self.json()
        except ValueError:
            body = self.body.decode("utf-8", "replace")
        return {"method": self.method, "path": self.path, "headers": self.headers, "json": body}


class ClientGone(Exception):
    """The client closed the connection while we were writing."""


class Writer:
    """Writes one response; knows how to break it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stopping: asyncio.Event) -> None:
        self.reader = reader
        self.writer = writer
        self.stopping = stopping
        self.chunked = False
        self.keep_alive = True

    async def head(self, status: int, headers: dict[str, str], *, chunked: bool = True, length: int | None = None):
        reason = _REASONS.get(status, "Unknown")
        lines = [f"HTTP/1.1 {status} {reason}"]
        hdrs = {"date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()), **headers}
        if chunked:
            hdrs["transfer-encoding"] = "chunked"
            self.chunked = True
        else:
            hdrs["content-length"] = str(length or 0)
        lines += [f"{k}: {v}" for k, v in hdrs.items()]
        await self._write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def chunk(self, data: bytes) -> None:
        if not data:
            return
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        await self._write(data)

    async def finish(self) -> None:
        if self.chunked:
            await self._write(b"0\r\n\r\n")

    async def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        await self.head(status, headers, chunked=False, length=len(body))
        await self._write(body)

    async def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        await self.send(status, json.dumps(obj).encode(), {"content-type": "application/json", **(headers or {})})

    async def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), as a crashing proxy or server would."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()
        self.keep_alive = False

    async def close(self) -> None:
        self.writer.close()
        self.keep_alive = False

    async def stall(self) -> bool:
        """Send nothing until the client goes away (True) or the server stops (False)."""
        self.keep_alive = False
        read = asyncio.ensure_future(self.reader.read(65536))
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            while True:
                done, _ = await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
                if stop in done:
                    return False
                try:
                    data = read.result()
                except (ConnectionError, OSError):
                    return True
                if not data:
                    return True
                read = asyncio.ensure_future(self.reader.read(65536))
        finally:
            read.cancel()
            stop.cancel()

    async def _write(self, data: bytes) -> None:
        if self.writer.is_closing():
            raise ClientGone()
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise ClientGone() from exc


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Overloaded",
}


# -- the provider-independent part of a fake ----------------------------------------------------------------------


@dataclass
class StreamPlan:
    """A streamed answer, as frames: what precedes the tokens, one frame per token, what closes the stream."""

    status: int
    headers: dict[str, str]
    preamble: list[bytes]
    tokens: list[bytes]
    terminal: list[bytes]


class FakeProvider:
    """Base of the provider fakes: scripting, recording, the fault machinery. Subclasses speak the protocol."""

    kind = "fake"
    default_tokens: list[str] = ["Hello", ",", " world", "!"]

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: deque[Fault] = deque()
        self.requests: list[Request] = []
        #: Faults for the token-counting endpoint, apart from the model calls' script (status faults only).
        self._count_script: deque[Fault] = deque()
        self.client_closed = 0
        self.completed = 0
        #: Answer every request (model lists included) with a 401 whose body quotes the key it was sent.
        self.echo_key_401 = False

    # scripting ------------------------------------------------------------------------------------------------
    def push(self, *faults: Fault) -> None:
        with self._lock:
            self._script.extend(faults)

    def push_count(self, *faults: Fault) -> None:
        """Script the next answers of the token-counting endpoint (kind "status" or "ok")."""
        with self._lock:
            self._count_script.extend(faults)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self._count_script.clear()
            self.requests.clear()
            self.client_closed = 0
            self.completed = 0
            self.echo_key_401 = False

    def next_fault(self) -> Fault:
        with self._lock:
            return self._script.popleft() if self._script else Fault()

    @property
    def count_calls(self) -> list[Request]:
        """Recorded requests to the token-counting endpoint."""
        return [r for r in self.requests if self.is_count_call(r)]

    def is_count_call(self, req: Request) -> bool:
        """Whether `req` asks the token-counting endpoint (answered by `count_response`)."""
        return False

    def count_response(self, req: Request) -> Any:
        raise NotImplementedError

    async def _count(self, req: Request, w: Writer) -> None:
        with self._lock:
            fault = self._count_script.popleft() if self._count_script else Fault()
        if fault.kind == "status":
            body, headers = self.error_response(fault.status, fault.error or _default_error(fault.status), fault)
            await w.send(fault.status, json.dumps(body).encode(),
                         {"content-type": "application/json", **headers, **fault.headers})
            return
        await w.send_json(200, self.count_response(req), fault.headers)

    @property
    def calls(self) -> list[Request]:
        """Recorded model calls (not probes or control requests)."""
        return [r for r in self.requests if self.is_model_call(r)]

    # protocol hooks --------------------------------------------------------------------------------------------
    def is_model_call(self, req: Request) -> bool:
        raise NotImplementedError

    def wants_stream(self, req: Request) -> bool:
        raise NotImplementedError

    async def other(self, req: Request, w: Writer) -> None:
        """Routes that are not model calls (model lists, token counting)."""
        await w.send_json(404, {"error": f"no route {req.method} {req.path}"})

    def plan(self, req: Request, fault: Fault, tokens: list[str]) -> StreamPlan:
        raise NotImplementedError

    def full_response(self, req: Request, fault: Fault, tokens: list[str]) -> Any:
        raise NotImplementedError

    def error_response(self, status: int, error: str, fault: Fault) -> tuple[Any, dict[str, str]]:
        raise NotImplementedError

    def error_frame(self, error: str) -> bytes:
        raise NotImplementedError

    def malformed_frame(self) -> bytes:
        raise NotImplementedError

    def auth_echo_body(self, key: str) -> Any:
        """A 401 body that quotes the key it refused (some servers and proxies do)."""
        return {"error": {"message": f"Incorrect API key provided: {key}. Check the key.", "type": "auth",
                          "code": "invalid_api_key"}}

    # dispatch --------------------------------------------------------------------------------------------------
    async def handle(self, req: Request, w: Writer) -> None:
        if req.path.startswith("/__fake__/"):
            await self._control(req, w)
            return
        with self._lock:
            self.requests.append(req)
        if self.echo_key_401:
            await w.send_json(401, self.auth_echo_body(_sent_key(req)))
            return
        if self.is_count_call(req):
            await self._count(req, w)
            return
        if not self.is_model_call(req):
            await self.other(req, w)
            return
        fault = self.next_fault()
        if fault.delay_s:
            await asyncio.sleep(fault.delay_s)
        tokens = fault.tokens if fault.tokens is not None else list(self.default_tokens)
        if fault.kind == "status":
            body, headers = self.error_response(fault.status, fault.error or _default_error(fault.status), fault)
            if fault.body is not None:
                body = fault.body
            headers = {**headers, **fault.headers}
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            await w.send(fault.status, raw, {"content-type": "application/json", **headers})
            return
        if fault.kind == "stall_head":
            if await w.stall():
                self.client_closed += 1
            return
        if fault.kind == "close":
            await w.close()
            return
        if not self.wants_stream(req):
            await w.send_json(200, self.full_response(req, fault, tokens), fault.headers)
            self.completed += 1
            return
        plan = self.plan(req, fault, tokens)
        try:
            await w.head(plan.status, {**plan.headers, **fault.headers})
            for frame in plan.preamble:
                await w.chunk(frame)
            for i, frame in enumerate(plan.tokens):
                if fault.kind in STREAM_FAULTS and i == fault.after:
                    await self._break(fault, w)
                    return
                await w.chunk(frame)
                if fault.token_delay_s:
                    await asyncio.sleep(fault.token_delay_s)
            if fault.kind in STREAM_FAULTS:
                await self._break(fault, w)
                return
            for frame in plan.terminal[: fault.terminal_frames]:
                await w.chunk(frame)
            await w.finish()
            self.completed += 1
        except ClientGone:
            self.client_closed += 1
            w.keep_alive = False

    async def _break(self, fault: Fault, w: Writer) -> None:
        if fault.kind == "reset":
            await w.reset()
        elif fault.kind == "stall":
            if await w.stall():
                self.client_closed += 1
        elif fault.kind == "malformed":
            await w.chunk(self.malformed_frame())
            await w.finish()
        elif fault.kind == "error_event":
            await w.chunk(self.error_frame(fault.error or "overloaded"))
            await w.finish()
        elif fault.kind == "no_terminal":
            await w.finish()

    async def _control(self, req: Request, w: Writer) -> None:
        if req.path == "/__fake__/script" and req.method == "POST":
            self.push(*(Fault.from_dict(d) for d in req.json() or []))
            await w.send_json(200, {"queued": len(self._script)})
        elif req.path == "/__fake__/requests":
            await w.send_json(200, [r.summary() for r in self.requests])
        elif req.path == "/__fake__/reset" and req.method == "POST":
            self.reset()
            await w.send_json(200, {"ok": True})
        else:
            await w.send_json(404, {"error": "unknown control route"})


def _sent_key(req: Request) -> str:
    """The key a client sent, however its SDK sends it."""
    auth = req.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:]
    return req.headers.get("x-api-key") or req.headers.get("x-goog-api-key") or (req.query.get("key") or [""])[0]


def _default_error(status: int) -> str:
    return {
        400: "bad_request",
        401: "auth",
        403: "auth",
        404: "not_found",
        413: "overflow",
        429: "rate_limit",
        503: "overloaded",
        529: "overloaded",
    }.get(status, "server")


def sse(data: Any, event: str | None = None, *, sep: bytes = b"\n\n") -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + payload.encode() + sep


# -- the server ---------------------------------------------------------------------------------------------------


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    url = urlsplit(target)
    return Request(method, url.path, parse_qs(url.query), headers, body)


class FakeServer:
    """Runs one FakeProvider on 127.0.0.1 in a daemon thread with its own event loop."""

    def __init__(self, app: FakeProvider, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._stopping: asyncio.Event | None = None
        self._conns: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> int:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def boot() -> None:
            self._stopping = asyncio.Event()
            self._server = await asyncio.start_server(self._conn, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(boot())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"fake-{self.app.kind}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self.port

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None and self._stopping is not None
        self._conns.add(task)
        try:
            while not self._stopping.is_set():
                req = await _read_request(reader)
                if req is None:
                    break
                w = Writer(reader, writer, self._stopping)
                await self.app.handle(req, w)
                if not w.keep_alive or req.headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ClientGone):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop

        async def shutdown() -> None:
            assert self._stopping is not None and self._server is not None
            self._stopping.set()
            self._server.close()
            for t in list(self._conns):
                t.cancel()
            await asyncio.sleep(0)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(Exception):
            loop.close()
        self._loop = None

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(predicate: Any, timeout_s: float = 5.0, step_s: float = 0.01) -> bool:
    """Poll `predicate` until it is true or `timeout_s` passes (bounded; for cross-thread observations)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step_s)
    return bool(predicate())


def serve_main(app: FakeProvider, argv: list[str] | None = None) -> None:
    """`python -m tests.fakes.<name> --port 0`: print `PORT <n>` and serve until killed or --max-seconds."""
    parser = argparse.ArgumentParser(description=f"loopback fake of the {app.kind} API")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="stop by itself after this long")
    args = parser.parse_args(argv)
    server = FakeServer(app, args.port)
    port = server.start()
    print(f"PORT {port}", flush=True)
    try:
        time.sleep(args.max_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


__all__ = [
    "STREAM_FAULTS",
    "FakeProvider",
    "FakeServer",
    "Fault",
    "Request",
    "StreamPlan",
    "Writer",
    "serve_main",
    "sse",
    "status_error",
    "wait_for",
]
