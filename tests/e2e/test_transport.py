"""The stdio transport and the LSP lifecycle, against a hostile client: the real server on raw pipes for each
malformed frame and lifecycle case (it stays alive, says what went wrong, answers the next request, exits with the
right code), plus the frame reader on byte streams, with a hypothesis property over garbage and valid frames."""

from __future__ import annotations

import json
import random
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.e2e.rawlsp import (
    RawServer,
    did_open,
    frame,
    notification,
    request,
    symbols_request,
)

from promptls.lsp.transport import (
    DEFAULT_MAX_MESSAGE_BYTES,
    MAX_MESSAGE_BYTES_ENV,
    BadFrame,
    Decoded,
    FrameReader,
    max_message_bytes,
    recover_request_id,
)

GENERIC = "internal error in textDocument/hover; see the server log"


def body_of(obj: dict) -> bytes:
    return json.dumps(obj).encode()


# -- malformed frames against the real server ---------------------------------------------------------------
def _deep(rid: str, id_last: bool = False, depth: int = 100_000) -> bytes:
    nest = b"[" * depth + b"]" * depth
    if id_last:
        return b'{"jsonrpc":"2.0","method":"textDocument/hover","params":%s,"id":"%s"}' % (nest, rid.encode())
    return b'{"jsonrpc":"2.0","id":"%s","method":"textDocument/hover","params":%s}' % (rid.encode(), nest)


def _case(name: str, rid: str) -> bytes:
    """The malformed bytes of case `name`, carrying request id `rid` where it has one."""
    b = body_of(symbols_request(rid))
    return {
        "lower-case header name": b"content-length: %d\r\n\r\n" % len(b) + b,
        "LF-only lines": b"Content-Length: %d\n\n" % len(b) + b,
        "two spaces after the colon": b"Content-Length:  %d\r\n\r\n" % len(b) + b,
        "missing length": b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" + b,
        "negative length": b"Content-Length: -%d\r\n\r\n" % len(b) + b,
        "non-numeric length": b"Content-Length: twelve\r\n\r\n" + b,
        "length 3 short": b"Content-Length: %d\r\n\r\n" % (len(b) - 3) + b,
        "length 3 long": b"Content-Length: %d\r\n\r\n" % (len(b) + 3) + b,
        "length 10**12": b"Content-Length: 1000000000000\r\n\r\n" + b,
        "body not JSON": frame(b"{this is not json"),
        "body a JSON array": frame(b"[1, 2, 3]"),
        "nested 100,000 deep, id first": frame(_deep(rid)),
        "nested 100,000 deep, id last": frame(_deep(rid, id_last=True)),
        "garbage between frames": b"\x00\xff garbage \r\n no header here \r\n\r\n",
    }[name]


# (case, how the server must react: "answered" = the request in the frame gets its result; "error <code>" = it gets
# that error under its id; "null <code>" = an error with id null; "log" = only a window/logMessage; and the text the
# window/logMessage must contain, or None when the frame is accepted and nothing is logged)
CASES = [
    ("lower-case header name", "answered", None),
    ("LF-only lines", "answered", None),
    ("two spaces after the colon", "answered", None),
    ("missing length", "error -32600", "Content-Length header missing"),
    ("negative length", "error -32600", "Content-Length is not a non-negative integer"),
    ("non-numeric length", "error -32600", "Content-Length is not a non-negative integer"),
    ("length 3 short", "error -32700", "not valid JSON"),
    ("length 3 long", "error -32600", "longer than the message"),
    ("length 10**12", "error -32600", "above the limit"),
    ("body not JSON", "null -32700", "not valid JSON"),
    ("body a JSON array", "null -32600", None),
    ("nested 100,000 deep, id first", "error -32600", "nested too deeply"),
    ("nested 100,000 deep, id last", "error -32600", "nested too deeply"),
    ("garbage between frames", "log", "outside a message frame"),
]


@pytest.fixture(scope="module")
def server():
    with RawServer() as s:
        s.initialize()
        s.send(did_open(), symbols_request("ready"))
        assert s.response("ready")["result"]
        yield s


@pytest.mark.parametrize(("name", "reaction", "logged"), CASES, ids=[c[0] for c in CASES])
def test_malformed_frame_is_survived_reported_and_the_next_request_answered(server, name, reaction, logged):
    rid, probe = f"{name}/bad", f"{name}/probe"
    before = len(server.messages)
    server.send(_case(name, rid), symbols_request(probe))
    assert server.response(probe)["result"], "the well-formed request after the bad frame was not answered"
    assert server.alive()
    kind, _, code = reaction.partition(" ")
    if kind == "answered":
        assert server.response(rid)["result"]
    elif kind == "error":
        assert server.response(rid)["error"]["code"] == int(code)
    elif kind == "null":
        err = server.wait_for(lambda m: "id" in m and m["id"] is None and "error" in m
                              and server.messages.index(m) >= before)
        assert err["error"]["code"] == int(code)
    if logged:
        server.wait_for(lambda m: m.get("method") == "window/logMessage" and logged in m["params"]["message"]
                        and server.messages.index(m) >= before)
        assert logged in server.stderr_text()


def test_deep_nesting_without_an_id_is_logged(server):
    server.send(frame(b'{"jsonrpc":"2.0","method":"x/y","params":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
                symbols_request("after-deep-notification"))
    assert server.response("after-deep-notification")["result"]
    server.wait_for(lambda m: m.get("method") == "window/logMessage"
                    and "nested too deeply" in m["params"]["message"] and "answered" not in m["params"]["message"])


@pytest.mark.parametrize("uri", ["file://%zz", "garbage", "", "file:///nonexistent/never-opened.prompt",
                                 "file:///%00.prompt", "untitled:Untitled-1"])
def test_internal_errors_reach_the_client_as_a_plain_sentence(server, uri):
    rid = f"hover {uri}"
    server.send(request(rid, "textDocument/hover", {"textDocument": {"uri": uri},
                                                   "position": {"line": 0, "character": 0}}))
    msg = server.response(rid)
    if "error" in msg and msg["error"]["code"] == -32603:
        assert msg["error"] == {"code": -32603, "message": GENERIC}
    text = json.dumps(msg)
    assert "Traceback" not in text and "Error:" not in text and "Errno" not in text


def test_max_message_bytes_option_caps_a_message():
    with RawServer("--max-message-bytes", "2000") as s:
        s.initialize()
        big = did_open(text="x" * 3000) | {"id": "big"}
        s.send(big, symbols_request("small"))
        assert s.response("big")["error"]["code"] == -32600
        s.log_message("above the limit of 2000 bytes")
        shown = s.wait_for(lambda m: m.get("method") == "window/showMessage", 30)
        assert "--max-message-bytes" in shown["params"]["message"]  # the user is told why and what to do
        assert not s.response("small").get("result")  # answered; the document in the capped message never opened


def test_max_message_bytes_default_and_environment(monkeypatch):
    monkeypatch.delenv(MAX_MESSAGE_BYTES_ENV, raising=False)
    assert max_message_bytes() == DEFAULT_MAX_MESSAGE_BYTES == 64 * 1024 * 1024
    monkeypatch.setenv(MAX_MESSAGE_BYTES_ENV, "4096")
    assert max_message_bytes() == 4096
    assert max_message_bytes(100) == 100
    monkeypatch.setenv(MAX_MESSAGE_BYTES_ENV, "lots")
    assert max_message_bytes() == DEFAULT_MAX_MESSAGE_BYTES


# -- lifecycle ----------------------------------------------------------------------------------------------
def test_lifecycle_before_initialize_second_initialize_and_after_shutdown():
    with RawServer() as s:
        s.send(symbols_request("early"), did_open())
        assert s.response("early")["error"]["code"] == -32002
        s.initialize()
        # the didOpen before initialize was dropped: the document is not open
        s.send(symbols_request("was-it-opened"))
        assert not s.response("was-it-opened").get("result")
        s.send(did_open(), request("again", "initialize", {"processId": None, "capabilities": {}}))
        assert s.response("again")["error"]["code"] == -32600
        s.send(symbols_request("still-open"))
        assert s.response("still-open")["result"], "a refused second initialize must keep the open documents"
        s.send(request("bye", "shutdown"))
        assert s.response("bye")["result"] is None
        s.send(symbols_request("late"), request("bye-again", "shutdown"))
        assert s.response("late")["error"]["code"] == -32600
        assert s.response("bye-again")["error"]["code"] == -32600
        s.send(notification("exit"))
        assert s.wait_exit(30) == 0


@pytest.mark.parametrize(("steps", "expected"), [
    ("exit before initialize", 1),
    ("exit without shutdown", 1),
    ("end of input without shutdown", 1),
    ("end of input after shutdown", 0),
])
def test_exit_codes(steps, expected):
    with RawServer() as s:
        if steps != "exit before initialize":
            s.initialize()
        if steps.endswith("after shutdown"):
            s.send(request("bye", "shutdown"))
            s.response("bye")
        if steps.startswith("exit"):
            s.send(notification("exit"))
        else:
            s.close_stdin()
        assert s.wait_exit(30) == expected


def test_tcp_uses_the_same_reader_and_exit_code():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    s = RawServer("--tcp", f"127.0.0.1:{port}")
    try:
        sock = None
        for _ in range(300):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert s.alive(), s.stderr_text()
                time.sleep(0.05)
        assert sock is not None, "the server never listened"
        with sock:
            stream = sock.makefile("rwb")
            b = body_of(request(1, "initialize", {"processId": None, "capabilities": {}}))
            stream.write(b"content-length:%d\n\n" % len(b) + b + b"Content-Length: -1\r\n\r\n{}")
            stream.write(frame(request(2, "shutdown")) + frame(notification("exit")))
            stream.flush()
            seen = stream.read()  # until the server closes the connection
        assert b'"id": 1' in seen and b"capabilities" in seen and b'"id": 2' in seen
        assert s.proc.wait(30) == 0
        assert "Content-Length is not a non-negative integer" in s.stderr_text()
    finally:
        s.kill()


# -- the reader on byte streams -----------------------------------------------------------------------------
def events(data: bytes, chunk: int | None = None, limit: int = DEFAULT_MAX_MESSAGE_BYTES) -> list:
    r = FrameReader(limit)
    out = []
    step = chunk or max(1, len(data))
    for i in range(0, len(data), step):
        r.feed(data[i:i + step])
        while (ev := r.next_event()) is not None:
            out.append(ev)
    r.feed_eof()
    while (ev := r.next_event()) is not None:
        out.append(ev)
    return out


def decoded(evs: list) -> list:
    return [e.value for e in evs if isinstance(e, Decoded)]


def bad(evs: list) -> list[BadFrame]:
    return [e for e in evs if isinstance(e, BadFrame)]


def test_reader_byte_by_byte_gives_the_same_messages():
    msgs = [{"jsonrpc": "2.0", "id": i, "method": "m", "params": {"t": "é\n" * i}} for i in range(5)]
    data = b"".join(frame(m) for m in msgs)
    assert decoded(events(data, chunk=1)) == decoded(events(data)) == msgs


@pytest.mark.parametrize("header", [b"Content-Length: %d\r\n\r\n", b"content-length: %d\r\n\r\n",
                                    b"CONTENT-LENGTH:%d\n\n", b"Content-Length :  %d  \r\n\n",
                                    b"Content-Type: x\r\nContent-Length: %d\r\n\r\n", b"\r\nContent-Length: %d\n\r\n"])
def test_reader_tolerates_header_spellings(header):
    b = body_of({"jsonrpc": "2.0", "id": 1, "method": "m"})
    evs = events(header % len(b) + b + frame({"jsonrpc": "2.0", "id": 2, "method": "m"}))
    assert [m["id"] for m in decoded(evs)] == [1, 2] and not bad(evs)


def test_reader_never_buffers_the_declared_length():
    r = FrameReader(DEFAULT_MAX_MESSAGE_BYTES)
    r.feed(b"Content-Length: 60000000\r\n\r\n{")
    assert r.next_event() is None and r.buffered < 100


def test_reader_over_the_limit_skips_a_large_body_in_bounded_memory():
    r = FrameReader(1000)
    head = b'{"jsonrpc":"2.0","id":"big","method":"m","params":"'
    r.feed(b"Content-Length: %d\r\n\r\n" % (len(head) + 80 * 65536 + 2) + head)
    peak, out = 0, []
    for _ in range(80):
        r.feed(b"a" * 65536)
        while (ev := r.next_event()) is not None:
            out.append(ev)
        peak = max(peak, r.buffered)
    r.feed(b'"}' + frame({"jsonrpc": "2.0", "id": 7, "method": "m"}))
    while (ev := r.next_event()) is not None:
        out.append(ev)
    assert peak < 200_000
    assert [(e.reason.split(" is ")[-1], e.request_id) for e in bad(out)] == [("above the limit of 1000 bytes", "big")]
    assert decoded(out) == [{"jsonrpc": "2.0", "id": 7, "method": "m"}]


@pytest.mark.parametrize(("header", "reason", "code"), [
    (b"Content-Length: -%d\r\n\r\n", "not a non-negative integer", -32600),
    (b"Content-Length: +%d\r\n\r\n", "not a non-negative integer", -32600),
    (b"Content-Type: x%.0d\r\n\r\n", "missing", -32600),
    (b"Content-Length: %d\r\nContent-Length: 1\r\n\r\n", "two different", -32600),
])
def test_reader_bad_header_recovers_the_id_and_the_next_frame(header, reason, code):
    b = body_of({"jsonrpc": "2.0", "id": 41, "method": "m", "params": {"id": 99}})
    nxt = {"jsonrpc": "2.0", "id": 42, "method": "m"}
    for chunk in (None, 7):
        evs = events(header % len(b) + b + frame(nxt), chunk=chunk)
        [e] = bad(evs)
        assert reason in e.reason and e.request_id == 41 and e.code == code
        assert decoded(evs) == [nxt]


@pytest.mark.parametrize("delta", [-3, -1, 1, 3])
def test_reader_wrong_length_resynchronises(delta):
    b = body_of({"jsonrpc": "2.0", "id": 5, "method": "m"})
    nxt = {"jsonrpc": "2.0", "id": 6, "method": "m"}
    evs = events(b"Content-Length: %d\r\n\r\n" % (len(b) + delta) + b + frame(nxt))
    assert [e.request_id for e in bad(evs) if e.notify] == [5]
    assert decoded(evs) == [nxt]


def test_reader_parse_error_and_deep_nesting():
    evs = events(frame(b"{nope") + frame(b'{"jsonrpc":"2.0","id":3,"method":"m","params":' + b"[" * 50_000
                                         + b"]" * 50_000 + b"}") + frame({"jsonrpc": "2.0", "id": 4, "method": "m"}))
    first, deep = bad(evs)
    assert first.parse_error and not first.has_id and first.code == -32700
    assert deep.request_id == 3 and "nested" in deep.reason
    assert [m["id"] for m in decoded(evs)] == [4]


def test_reader_end_of_input_inside_a_message():
    [e] = bad(events(b'Content-Length: 100\r\n\r\n{"jsonrpc":"2.0","id":8,'))
    assert "ended inside a message" in e.reason and e.request_id == 8


def test_recover_request_id_takes_only_top_level_request_ids():
    assert recover_request_id(b'{"params":{"id":1},"id":"x","method":"m"') == "x"
    assert recover_request_id(b'{"params":{"id":1,"deep":[[[') is recover_request_id(b"")
    assert recover_request_id(b'{"id":3,"result":{}}') is recover_request_id(b"")
    assert recover_request_id(b"", b'..."params":[1]],"id":12}') == 12
    assert recover_request_id(b'{"id":true,"method":"m"}') is recover_request_id(b"")


_valid_frames = st.builds(
    lambda n, text, spelling: (n, spelling % len(body_of({"n": n, "t": text})) + body_of({"n": n, "t": text})),
    st.integers(0, 10**6), st.text(st.characters(codec="utf-8"), max_size=40),
    st.sampled_from([b"Content-Length: %d\r\n\r\n", b"content-length:%d\n\n", b"Content-Length:   %d \r\n\r\n",
                     b"Content-Type: a\r\nCONTENT-LENGTH: %d\r\n\r\n"]))
_garbage = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"\r\n", b"\n\n", b"x: y\r\n\r\n", b"x: y\r\n", b"{", b"}", b'{"id": 1, "method": "m"}',
                     b"Content-Type: q\r\n\r\n{}", b"[[[[[", b"Content-", b"length: 5\r\n\r\n"]),
).filter(lambda g: b"content-length" not in g.lower())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.one_of(st.tuples(st.just("frame"), _valid_frames), st.tuples(st.just("junk"), _garbage)),
                      max_size=12),
       seed=st.integers(0, 2**32 - 1))
def test_property_garbage_never_loses_a_following_valid_frame(items, seed):
    data = b"".join(x[1][1] if x[0] == "frame" else x[1] for x in items)
    expected = [x[1][0] for x in items if x[0] == "frame"]
    # garbage must not itself spell a header (that would make it a frame); the valid frames hold one each
    if data.lower().count(b"content-length") != len(expected):
        return
    rng = random.Random(seed)
    r = FrameReader(10_000)
    got, pos = [], 0
    while pos < len(data):
        step = rng.randint(1, 40)
        r.feed(data[pos:pos + step])
        pos += step
        while (ev := r.next_event()) is not None:
            if isinstance(ev, Decoded):
                got.append(ev.value)
        assert r.buffered <= 20_000
    r.feed_eof()
    while (ev := r.next_event()) is not None:
        if isinstance(ev, Decoded):
            got.append(ev.value)
    assert [v["n"] for v in got if isinstance(v, dict) and "n" in v] == expected


def test_a_failing_notification_is_shown_without_exception_text(server):
    before = len(server.messages)
    server.send({"jsonrpc": "2.0", "method": "textDocument/didChange",
                 "params": {"textDocument": {"uri": "file:///never-opened.prompt", "version": 3},
                            "contentChanges": [{"range": {"start": {"line": 9, "character": 0},
                                                          "end": {"line": 9, "character": 5}}, "text": "x"}]}},
                symbols_request("after-failed-notification"))
    assert server.response("after-failed-notification")["result"]
    shown = [m for m in server.messages[before:] if m.get("method") == "window/showMessage"]
    for m in shown:
        text = m["params"]["message"]
        assert "Error:" not in text and "Traceback" not in text and "Errno" not in text, text
