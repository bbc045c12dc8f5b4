"""pytest-lsp fixtures: the real server over stdio, with VS Code (push diagnostics) and Neovim 0.11
(pull diagnostics, UTF-8 positions) client capabilities."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "promptls", "serve"]
ENV = {**os.environ, "PROMPTLS_STRICT": "1"}


async def close(client: LanguageClient) -> None:
    """Shut the server down within bounds: `shutdown` + `exit` with a deadline, then kill it if it is still
    there. pygls' `client.stop()` waits for the server process to exit on its own, so a server that did not
    answer `shutdown` would otherwise hang the teardown (and the whole run) forever."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.shutdown_session(), 15)
    proc = getattr(client, "_server", None)
    if proc is not None and proc.returncode is None:
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await asyncio.wait_for(proc.wait(), 10)


async def wait_diagnostics(client: LanguageClient, uri: str | None = None, timeout: float | None = None):
    """Wait, bounded, on the diagnostics the client records.

    With `uri`: the diagnostics last published for it, once there are any (AssertionError after `timeout`, 60 s
    unless given). Without: return once the client records another `textDocument/publishDiagnostics`, or after
    `timeout` (1 s unless given); callers re-check their own condition in a bounded loop, so a publish that came
    just before this call costs one interval, not the test.

    Polls instead of using pytest-lsp's `wait_for_notification`: that keeps one future per method, and a wait
    that timed out leaves its cancelled future behind, so the client raises on the next notification of that
    method and drops it (its diagnostics are never recorded) — one slow publish then fails every later wait."""
    limit = timeout if timeout is not None else 1.0 if uri is None else 60.0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    before = dict(client.diagnostics)  # holding the old lists: a new publish is a new list object
    while True:
        if uri is not None and (diags := client.diagnostics.get(uri)) is not None:
            return diags
        if uri is None and (len(client.diagnostics) != len(before) or any(
                client.diagnostics.get(u) is not diags for u, diags in before.items())):
            return None
        if loop.time() > deadline:
            if uri is None:
                return None
            raise AssertionError(f"no diagnostics for {uri} within {limit:g} s")
        await asyncio.sleep(0.02)


def init_params(spec: str, root_uri: str | None = None, options: dict | None = None) -> lsp.InitializeParams:
    return lsp.InitializeParams(capabilities=client_capabilities(spec), root_uri=root_uri,
                                initialization_options=options or {"today": "2026-11-25"})


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), scope="module")
async def client(lsp_client: LanguageClient):
    """One server for the read-only feature tests of a module (each test opens its own document)."""
    await lsp_client.initialize_session(init_params("visual-studio-code"))
    yield
    await close(lsp_client)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), loop_scope="module")
async def fresh(lsp_client: LanguageClient):
    """A server of its own, for tests that change settings."""
    await lsp_client.initialize_session(init_params("visual-studio-code"))
    yield
    await close(lsp_client)


@pytest.fixture
def uri(request) -> str:
    return f"file:///tmp/promptls-e2e/{request.node.name.replace('[', '_').replace(']', '')}.prompt"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), loop_scope="module")
async def nvim(lsp_client: LanguageClient):
    await lsp_client.initialize_session(init_params("neovim@v0.11.0"))
    yield
    await close(lsp_client)
