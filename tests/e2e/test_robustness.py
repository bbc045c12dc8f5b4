"""The server survives malformed traffic and answers over TCP; the workspace scan reports `$/progress`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient
from tests.e2e.conftest import ENV, close, init_params, wait_diagnostics


def frame(obj) -> bytes:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream) -> dict:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            raise EOFError
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stream.read(length))


def read_until_id(stream, rid: int, limit: int = 100) -> dict:
    for _ in range(limit):
        msg = read_message(stream)
        if msg.get("id") == rid and "method" not in msg:
            return msg
    raise AssertionError(f"no response with id {rid}")


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}}


def test_malformed_messages_do_not_kill_the_server():
    proc = subprocess.Popen([sys.executable, "-m", "promptls", "serve"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    try:
        proc.stdin.write(frame(INIT))
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.flush()
        assert "capabilities" in read_until_id(proc.stdout, 1)["result"]
        proc.stdin.write(frame(b"{not json at all"))
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover",
                                "params": {"textDocument": {"uri": "file:///nope.prompt"}, "position": "bad"}}))
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 3, "method": "no/suchMethod", "params": {}}))
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "textDocument/didChange",
                                "params": {"textDocument": {"uri": "file:///never-opened.prompt", "version": 3},
                                           "contentChanges": [{"text": "x"}]}}))
        proc.stdin.flush()
        assert "error" in read_until_id(proc.stdout, 2)
        assert read_until_id(proc.stdout, 3)["error"]["code"] == -32601
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 4, "method": "shutdown", "params": None}))
        proc.stdin.flush()
        assert read_until_id(proc.stdout, 4).get("result") is None
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit", "params": None}))
        proc.stdin.flush()
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_transport():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "promptls", "serve", "--tcp", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        sock = None
        for _ in range(200):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError("server exited") from None
                time.sleep(0.05)
        assert sock is not None, "server never listened"
        with sock:
            stream = sock.makefile("rwb")
            stream.write(frame(INIT))
            stream.flush()
            result = read_until_id(stream, 1)["result"]
            assert result["serverInfo"]["name"] == "promptls"
            assert result["capabilities"]["hoverProvider"]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.asyncio
async def test_workspace_scan_reports_progress(tmp_path):
    from pytest_lsp import ClientServerConfig
    from tests.e2e.conftest import SERVER

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "_signature.prompt").write_text("Regards, {{name}}\n")
    main = tmp_path / "main.prompt"
    main.write_text("---\nmodel: gpt-5.2\n---\nHi {{> signature}}\n")
    config = ClientServerConfig(server_command=SERVER, server_env=ENV)
    client: LanguageClient = await config.start()
    try:
        await client.initialize_session(init_params("visual-studio-code", root_uri=tmp_path.as_uri()))
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
            uri=main.as_uri(), language_id="dotprompt", version=1, text=main.read_text())))
        ok = False
        for _ in range(100):
            # A clean prompt is published with no findings: the key being present is what tells it arrived.
            await wait_diagnostics(client)
            published = main.as_uri() in client.diagnostics
            diags = client.diagnostics.get(main.as_uri(), [])
            ends = [v for vals in client.progress_reports.values() for v in vals
                    if isinstance(v, lsp.WorkDoneProgressEnd)]
            if ends and published and not any(d.code == "PT001" for d in diags):
                ok = True
                break
        assert ok, (client.progress_reports, client.diagnostics.get(main.as_uri()))
        kinds = [type(v).__name__ for vals in client.progress_reports.values() for v in vals]
        assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    finally:
        await close(client)
        await client.stop()
