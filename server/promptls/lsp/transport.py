"""LSP base-protocol framing: a tolerant, bounded frame reader and the loops that feed it from stdio or TCP.

pygls' own loop accepts only `Content-Length: <n>\\r\\n` byte for byte, reads the declared length in one
allocation, and stops answering for good after one bad frame. Here the reader (`FrameReader`, free of I/O so it can
be tested on byte strings) accepts header names in any case, LF or CRLF line ends and any spacing around the colon;
caps a message at `max_message_bytes` and never allocates more than has arrived. After a bad frame it finds the next
one: a body whose length was wrong is searched for the next header (or ends where its JSON object ends); a header
block without a usable length has a body that ends where its JSON object ends, or at the next `Content-Length`;
lines that are no headers are dropped one by one. Each bad frame becomes a `BadFrame` event carrying what could be
recovered of the request id (a bounded scan of the frame's first and last bytes), so the driver can answer it
instead of leaving the client waiting. `serve_stdio` and `serve_tcp` run a server's protocol over that reader and
return the process exit code (0 after `shutdown` + `exit`, 1 otherwise, also at end of input).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_MESSAGE_BYTES_ENV = "PROMPTLS_MAX_MESSAGE_BYTES"
MAX_HEADER_BYTES = 8 * 1024  # one header block; real clients send under 100 bytes
SAMPLE_BYTES = 64 * 1024  # of a bad frame, kept to recover its request id
CHUNK_BYTES = 64 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

# A header line that may start a frame, anywhere in skipped data. Value characters exclude quotes and the line must
# end in a real newline, so the pattern cannot match inside a JSON string (JSON strings hold no raw newlines):
# resynchronising never cuts a well-formed JSON body apart.
_RESYNC = re.compile(rb"(?i)content-length[ \t]{0,64}:[ \t]{0,64}[+-]?\w{0,32}[ \t]{0,64}\r?\n")
_RESYNC_KEEP = 256  # longer than any _RESYNC match, so a header split across reads is still found
_MAX_END_ATTEMPTS = 64
_IN_LINE = re.compile(rb"(?i)content-length[ \t]*:")
_HEADER = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:[ \t]*(.*)")
_LENGTH = re.compile(rb"\d{1,20}")
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"?|[{}\[\]:,]|[^"{}\[\]:,\s]+|\s+')
_TRAILING_ID = re.compile(rb'[,{]\s*"id"\s*:\s*(-?\d{1,20}|"(?:[^"\\]|\\.){0,256}")\s*}\s*$')


def max_message_bytes(value: int | None = None) -> int:
    """The size cap: the argument, else $PROMPTLS_MAX_MESSAGE_BYTES, else 64 MiB."""
    if value is not None and value > 0:
        return value
    raw = os.environ.get(MAX_MESSAGE_BYTES_ENV, "").strip()
    if raw:
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
        log.warning("ignoring %s=%r: expected a positive number of bytes", MAX_MESSAGE_BYTES_ENV, raw)
    return DEFAULT_MAX_MESSAGE_BYTES


# -- events -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decoded:
    """A well-framed message, decoded by the reader's `loads`."""

    value: Any


_NO_ID = object()


@dataclass(frozen=True)
class BadFrame:
    """A frame that could not be taken as a message. `request_id` is the recovered id of a request, else _NO_ID;
    `parse_error` says the body was read whole but was no JSON (answered with -32700, id null if unknown)."""

    reason: str
    request_id: Any = _NO_ID
    parse_error: bool = False
    notify: bool = True  # False for leftovers of a frame already reported: logged, not sent to the client

    @property
    def has_id(self) -> bool:
        return self.request_id is not _NO_ID

    @property
    def code(self) -> int:
        return PARSE_ERROR if self.parse_error else INVALID_REQUEST


Event = Decoded | BadFrame


# -- request-id recovery ----------------------------------------------------------------------------------
def _top_level(data: bytes) -> dict[bytes, bytes | None]:
    """The members of a JSON object at depth 1 in `data` (possibly truncated): key -> scalar token (None for an
    object or array value). A tokenizer, not a parser: it tolerates truncation and any nesting depth."""
    out: dict[bytes, bytes | None] = {}
    depth = 0
    key: bytes | None = None
    expect_key = after_colon = False
    for m in _TOKEN.finditer(data):
        t = m.group()
        if t[:1].isspace():
            continue
        if t in (b"{", b"["):
            if depth == 0 and t == b"[":
                return out
            if depth == 1 and key is not None and after_colon:
                out[key] = None
                key, after_colon = None, False
            depth += 1
            expect_key = depth == 1
            continue
        if t in (b"}", b"]"):
            depth -= 1
            if depth <= 0:
                break
            continue
        if depth != 1:
            continue
        if t == b",":
            expect_key, key, after_colon = True, None, False
        elif t == b":":
            after_colon = key is not None
        elif expect_key and t[:1] == b'"':
            key, expect_key = t, False
        elif after_colon and key is not None:
            out[key] = t
            key, after_colon = None, False
    return out


def _json_scalar(token: bytes | None) -> Any:
    try:
        value = json.loads(token) if token else None
    except ValueError:
        return _NO_ID
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else _NO_ID


def recover_request_id(head: bytes, tail: bytes = b"") -> Any:
    """The id of the request a damaged frame carried, from a bounded scan of its first bytes (and, when `id` is the
    last member, its last bytes); _NO_ID when it has none or it is a response (`result`/`error`)."""
    members = _top_level(head[:SAMPLE_BYTES])
    if b'"result"' in members or b'"error"' in members:
        return _NO_ID
    if b'"id"' in members:
        return _json_scalar(members[b'"id"'])
    m = _TRAILING_ID.search(tail[-4096:])
    return _json_scalar(m.group(1)) if m else _NO_ID


def _object_end(data: bytes) -> int | None:
    """Where the JSON object at the start of `data` (after whitespace) ends, or None if there is none, yet."""
    text = data.decode("latin-1")  # one char per byte, so offsets are byte offsets; UTF-8 stays valid JSON text
    start = len(text) - len(text.lstrip())
    try:
        value, end = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        return None
    return end if isinstance(value, dict) else None


_DECODER = json.JSONDecoder()


# -- the reader -------------------------------------------------------------------------------------------
_HEAD, _BODY, _SKIP = "head", "body", "skip"


@dataclass
class _Pending:
    """A bad header block whose body is being skipped: reported when the body's end is known."""

    reason: str
    expect: int | None = None  # declared length, for an over-large frame
    sample: bytearray = field(default_factory=bytearray)
    notify: bool = True
    attempts: int = 0


class FrameReader:
    """Incremental LSP frame parser. `feed` bytes in, take `next_event()` until it returns None.

    Memory stays within about max_message_bytes + one read: a body is buffered only as its bytes arrive, and
    skipped data is dropped as it is scanned (64 KiB of it kept to recover a request id).
    """

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
                 loads: Callable[[bytes], Any] = json.loads) -> None:
        self.max_message_bytes = max_message_bytes
        self._loads = loads
        self._buf = bytearray()
        self._state = _HEAD
        self._eof = False
        self._reset_block()
        self._need = 0
        self._pending: _Pending | None = None
        self._skipped = 0
        self._after_bad = False  # what follows a body of the wrong length is its tail: reported quietly
        self._junk = bytearray()  # data outside any frame, not yet reported (its first SAMPLE_BYTES)
        self._junk_len = 0

    @property
    def buffered(self) -> int:
        return len(self._buf) + len(self._junk) + (len(self._pending.sample) if self._pending else 0)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def feed_eof(self) -> None:
        self._eof = True

    def _reset_block(self) -> None:
        self._length: int | None = None
        self._problem: str | None = None
        self._block_bytes = 0
        self._block_seen = False

    def next_event(self) -> Event | None:
        """The next complete event, or None when more input is needed (or, after feed_eof, nothing is left)."""
        while True:
            if self._state == _HEAD:
                ev = self._head()
            elif self._state == _BODY:
                ev = self._body()
            else:
                ev = self._skip()
            if ev is not None:
                return ev
            if not self._progress:
                return self._at_eof() if self._eof else None

    # HEAD: header lines up to a blank line
    def _head(self) -> Event | None:
        self._progress = False
        nl = self._buf.find(b"\n")
        if nl < 0:
            if len(self._buf) > MAX_HEADER_BYTES or self._block_bytes + len(self._buf) > MAX_HEADER_BYTES:
                return self._flush_junk() or self._to_skip("header too long", consume=0)
            return None
        line = bytes(self._buf[:nl])
        m = _IN_LINE.search(line)
        if m and m.start() > 0 and line[:m.start()].strip():
            # data glued to the front of a header: drop it and start the frame at the header
            self._add_junk(line[:m.start()])
            del self._buf[:m.start()]
            self._reset_block()
            self._progress = True
            return self._flush_junk()
        if self._block_bytes + nl + 1 > MAX_HEADER_BYTES:
            return self._flush_junk() or self._to_skip("header block too long", consume=0)
        stripped = line.strip()
        hm = _HEADER.fullmatch(stripped) if stripped else None
        if stripped and not hm:
            # not a header: dropped line by line (not skipped to the next Content-Length), so a frame whose
            # first header is another one (Content-Type) right after the junk is still seen
            self._add_junk(self._buf[:nl + 1])
            del self._buf[:nl + 1]
            self._reset_block()
            self._progress = True
            return None
        if self._junk_len:
            self._progress = True
            return self._flush_junk()
        if not stripped:
            del self._buf[:nl + 1]
            self._progress = True
            if not self._block_seen:
                return None  # blank lines between frames
            return self._end_of_block()
        assert hm is not None
        del self._buf[:nl + 1]
        self._block_bytes += nl + 1
        self._block_seen = self._progress = True
        if hm.group(1).lower() == b"content-length":
            value = hm.group(2).strip()
            if not _LENGTH.fullmatch(value):
                self._problem = "Content-Length is not a non-negative integer"
            elif self._length is not None and self._length != int(value):
                self._problem = "two different Content-Length headers"
            else:
                self._length = int(value)
        return None

    def _end_of_block(self) -> Event | None:
        length, problem = self._length, self._problem
        self._reset_block()
        if problem is None and length is None:
            problem = "Content-Length header missing"
        if problem is None and length is not None and length > self.max_message_bytes:
            return self._to_skip(f"Content-Length {length} is above the limit of {self.max_message_bytes} bytes",
                                 consume=0, expect=length)
        if problem is not None:
            return self._to_skip(problem, consume=0)
        self._state, self._need = _BODY, length or 0
        self._after_bad = False
        return None

    def _to_skip(self, reason: str, consume: int, expect: int | None = None, notify: bool = True) -> Event | None:
        del self._buf[:consume]
        self._reset_block()
        self._pending = _Pending(reason, expect, notify=notify)
        self._skipped = 0
        self._state = _SKIP
        self._progress = True
        return None

    # BODY: exactly the declared bytes
    def _body(self) -> Event | None:
        self._progress = False
        if len(self._buf) < self._need:
            return None
        body = bytes(self._buf[:self._need])
        del self._buf[:self._need]
        self._state = _HEAD
        self._progress = True
        try:
            return Decoded(self._loads(body))
        except RecursionError:
            return BadFrame("message nested too deeply", recover_request_id(body, body))
        except ValueError:
            return self._undecodable(body)
        except Exception:  # an object hook failing on input it does not expect: never the reader's end
            log.debug("decoding a message failed", exc_info=True)
            return BadFrame("message could not be decoded", recover_request_id(body, body))

    def _undecodable(self, body: bytes) -> BadFrame:
        """A body that is no JSON: either its Content-Length was wrong (the message ends early, or the next frame's
        header starts inside it) or it is garbage. The next frame is searched for inside the body first."""
        request_id = recover_request_id(body, body)
        try:
            text = body.decode("utf-8")
            stripped = text.lstrip()
            _, end = json.JSONDecoder().raw_decode(stripped)
            end = len(body) - len(stripped[end:].encode("utf-8"))
        except (ValueError, RecursionError):
            end = None
        if end is not None and end < len(body):
            self._buf[0:0] = body[end:]  # the declared length ran into the next frame: parse those bytes again
            return BadFrame(f"Content-Length {len(body)} is longer than the message ({end} bytes)", request_id)
        m = _RESYNC.search(body)
        if m:
            self._buf[0:0] = body[m.start():]
            return BadFrame("message body is not valid JSON", request_id, parse_error=True)
        # Garbage, or a length too short: what follows is the next frame's header, or this body's tail
        self._after_bad = True
        return BadFrame("message body is not valid JSON", request_id, parse_error=True)

    # SKIP: drop data up to the next header that can start a frame
    def _skip(self) -> Event | None:
        self._progress = False
        m = _RESYNC.search(self._buf)
        pending = self._pending
        if pending is not None:
            end = self._body_end(pending, m.start() if m else len(self._buf))
            if end is not None:
                self._take_skipped(end)
                self._state = _HEAD
                self._skipped = 0
                self._progress = True
                return self._report_pending()
        if m:
            self._take_skipped(m.start())
            self._state = _HEAD
            self._progress = True
            return self._finish_skip()
        if len(self._buf) > _RESYNC_KEEP:
            self._take_skipped(len(self._buf) - _RESYNC_KEEP)
        return None

    def _body_end(self, pending: _Pending, limit: int) -> int | None:
        """Where in the buffer (before `limit`) the skipped frame's body evidently ends, so it can be answered now
        and a next frame that starts with another header than Content-Length is not skipped with it."""
        room = SAMPLE_BYTES - len(pending.sample)
        window = bytes(self._buf[:min(limit, room)]) if room > 0 else b""
        if b"}" in window and pending.attempts < _MAX_END_ATTEMPTS:
            pending.attempts += 1  # bounded: a body dripping in byte by byte is not re-parsed without end
            obj_end = _object_end(bytes(pending.sample) + window)  # a frame's body is one JSON object
            if obj_end is not None and obj_end >= len(pending.sample):
                return obj_end - len(pending.sample)
        if pending.expect is not None and pending.expect - self._skipped <= limit:
            return max(0, pending.expect - self._skipped)  # the declared body ends here
        return None

    def _take_skipped(self, n: int) -> None:
        part = bytes(self._buf[:n])
        del self._buf[:n]
        self._skipped += n
        if self._pending is not None:
            room = SAMPLE_BYTES - len(self._pending.sample)
            if room > 0:
                self._pending.sample += part[:room]

    def _report_pending(self) -> BadFrame:
        pending, self._pending = self._pending, None
        assert pending is not None
        sample = bytes(pending.sample)
        return BadFrame(pending.reason, recover_request_id(sample, sample), notify=pending.notify)

    def _finish_skip(self) -> Event | None:
        """Leaving SKIP at a header (or the end of input): report the skipped frame."""
        return self._report_pending() if self._pending is not None else None

    def _add_junk(self, data: bytes | bytearray) -> None:
        self._junk_len += len(data)
        room = SAMPLE_BYTES - len(self._junk)
        if room > 0:
            self._junk += data[:room]

    def _flush_junk(self) -> BadFrame | None:
        """Report the data dropped outside any frame since the last report (quietly when it trails a bad body)."""
        data, n = bytes(self._junk), self._junk_len
        self._junk.clear()
        self._junk_len = 0
        if not data.strip():
            return None
        return BadFrame(f"{n} bytes of data outside a message frame skipped", recover_request_id(data, data),
                        notify=not self._after_bad)

    def _at_eof(self) -> Event | None:
        rest = bytes(self._buf)
        self._buf.clear()
        if self._state == _BODY:
            self._state = _HEAD
            return BadFrame(f"input ended inside a message ({len(rest)} of {self._need} bytes)",
                            recover_request_id(rest, rest))
        if self._state == _SKIP:
            self._take_skipped(len(rest))
            self._state = _HEAD
            return self._finish_skip()
        seen = self._block_seen
        self._reset_block()
        self._add_junk(rest)
        junk = self._flush_junk()
        if junk is None and seen:
            return BadFrame("input ended inside a header")
        return junk


# -- the driver -------------------------------------------------------------------------------------------
class _Reporter:
    """Logs bad frames, answers what can be answered, and mirrors them to the client (`window/logMessage`), at
    most `burst` per minute so a flood of garbage cannot flood the client too."""

    def __init__(self, protocol: Any, burst: int = 20) -> None:
        self.protocol = protocol
        self.burst = burst
        self._window = 0.0
        self._sent = 0

    def bad_frame(self, ev: BadFrame) -> None:
        answered = ""
        if ev.has_id:
            self._send_error(ev.request_id, ev.code, f"bad message frame: {ev.reason}")
            answered = f"; answered request {ev.request_id!r} with error {ev.code}"
        elif ev.parse_error:
            self._send_error(None, PARSE_ERROR, f"Parse error: {ev.reason}")
            answered = "; answered with a parse error (id null)"
        if not ev.notify:
            log.info("LSP transport: %s", ev.reason)
            return
        log.warning("LSP transport: bad frame: %s%s", ev.reason, answered)
        self._log_message(f"promptls: ignored a bad message frame from the client: {ev.reason}{answered}")
        if "above the limit" in ev.reason and getattr(self.protocol, "initialize_received", False):
            # Most likely a huge document was opened: say so where the user looks, once per frame.
            from lsprotocol import types as lsp

            self.protocol.notify(lsp.WINDOW_SHOW_MESSAGE, lsp.ShowMessageParams(
                type=lsp.MessageType.Warning,
                message=f"promptls: a message from the editor was too large to read ({ev.reason}); a document that "
                        "big is not analysed in the editor. Run `promptls check FILE`, or raise the limit with "
                        "`promptls serve --max-message-bytes N`."))

    def _send_error(self, request_id: Any, code: int, message: str) -> None:
        self.protocol._send_data({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})

    def _log_message(self, text: str) -> None:
        # LSP allows no server notifications before `initialize`; the log line above is enough then.
        if not getattr(self.protocol, "initialize_received", False):
            return
        now = time.monotonic()
        if now - self._window > 60:
            self._window, self._sent = now, 0
        self._sent += 1
        if self._sent > self.burst:
            return
        if self._sent == self.burst:
            text += " (further transport errors this minute are only logged)"
        from lsprotocol import types as lsp

        self.protocol.notify(lsp.WINDOW_LOG_MESSAGE, lsp.LogMessageParams(type=lsp.MessageType.Warning,
                                                                          message=text))


async def serve_connection(protocol: Any, read_chunk: Callable[[], Awaitable[bytes]],
                           max_bytes: int | None = None) -> int:
    """Read frames from `read_chunk` (b"" at end of input) into `protocol` until `exit` or end of input.
    Returns the exit code: the one `exit` asked for, else 0 if `shutdown` came first, else 1."""
    exited = asyncio.Event()
    codes: list[int] = []

    def on_exit(code: int) -> None:
        codes.append(code)
        exited.set()

    protocol.on_exit = on_exit
    reader = FrameReader(max_message_bytes(max_bytes),
                         loads=lambda body: json.loads(body, object_hook=protocol.structure_message))
    reporter = _Reporter(protocol)
    stop = asyncio.ensure_future(exited.wait())
    read: asyncio.Future[bytes] | None = None
    try:
        while not exited.is_set():
            read = read or asyncio.ensure_future(read_chunk())
            await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                break
            chunk, read = read.result(), None
            if chunk:
                reader.feed(chunk)
            else:
                reader.feed_eof()
            while not exited.is_set() and (ev := reader.next_event()) is not None:
                if isinstance(ev, BadFrame):
                    reporter.bad_frame(ev)
                    continue
                try:
                    protocol.handle_message(ev.value)
                except BrokenPipeError:
                    raise
                except Exception:
                    log.exception("LSP transport: handling a message failed")
                await asyncio.sleep(0)  # let handlers start between messages of one read
            if not chunk:
                log.info("LSP transport: end of input")
                break
    except (BrokenPipeError, ConnectionResetError):
        log.error("LSP transport: the client closed the connection")
    finally:
        protocol.on_exit = None
        for fut in (read, stop):
            if fut is not None and not fut.done():
                fut.cancel()
    if codes:
        return codes[0]
    return 0 if getattr(protocol, "_shutdown", False) else 1


class _ThreadedReader:
    """Reads a blocking binary stream on a daemon thread (a thread pool's workers would be joined at interpreter
    exit and hold the process open on a blocked read after `exit`), at most `depth` chunks ahead of the loop."""

    def __init__(self, stream: BinaryIO, loop: asyncio.AbstractEventLoop, depth: int = 4) -> None:
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self._read = getattr(stream, "read1", stream.read)
        else:
            # os.read, not the buffered stream: a daemon thread blocked inside BufferedReader.read holds its lock,
            # and the interpreter aborts when it flushes stdin at exit.
            self._read = functools.partial(os.read, fd)
        self._loop = loop
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._room = threading.Semaphore(depth)
        self._thread = threading.Thread(target=self._run, name="promptls-stdin", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self._room.acquire()
            try:
                chunk = self._read(CHUNK_BYTES)
            except (OSError, ValueError):
                log.debug("reading the input failed", exc_info=True)
                chunk = b""
            try:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, bytes(chunk or b""))
            except RuntimeError:  # the loop has closed: nobody is listening any more
                return
            if not chunk:
                return

    async def read(self) -> bytes:
        chunk = await self._queue.get()
        self._room.release()
        return chunk


def serve_stdio(server: Any, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None,
                max_bytes: int | None = None) -> int:
    """Run `server` (a pygls LanguageServer) over stdin/stdout with the tolerant reader; returns the exit code."""
    from pygls.io_ import StdoutWriter

    writer = StdoutWriter(stdout or sys.stdout.buffer)
    server.protocol.set_writer(writer)
    server._stop_event = threading.Event()

    async def main() -> int:
        source = _ThreadedReader(stdin or sys.stdin.buffer, asyncio.get_running_loop())
        return await serve_connection(server.protocol, source.read, max_bytes)

    code = 1
    try:
        code = _run(main())
    except KeyboardInterrupt:
        code = 130
    finally:
        _stop(server)
        with contextlib.suppress(OSError, ValueError):
            writer.close()
    return code


def serve_tcp(server: Any, host: str, port: int, max_bytes: int | None = None) -> int:
    """Listen on host:port; serve the first client that connects, then exit as stdio would. Returns the exit code."""
    server._stop_event = threading.Event()

    async def main() -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if done.done():
                writer.close()
                return
            server.protocol.set_writer(writer)
            try:
                code = await serve_connection(server.protocol, lambda: reader.read(CHUNK_BYTES), max_bytes)
            finally:
                writer.close()
            if not done.done():
                done.set_result(code)

        tcp = await asyncio.start_server(connection, host, port)
        log.info("serving LSP on %s", ", ".join(str(s.getsockname()) for s in tcp.sockets))
        async with tcp:
            return await done

    try:
        return _run(main())
    except KeyboardInterrupt:
        return 130
    finally:
        _stop(server)


def _run(main: Awaitable[int]) -> int:
    """asyncio.run, except that it does not wait for executor threads still analysing: after `exit` the process
    should end now, not when the last analysis does."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()  # shuts the default executor down without waiting


def _stop(server: Any) -> None:
    """pygls' `shutdown` without waiting for its thread pool's running handlers."""
    if server._stop_event is not None:
        server._stop_event.set()
    if server._thread_pool is not None:
        server._thread_pool.shutdown(wait=False, cancel_futures=True)
