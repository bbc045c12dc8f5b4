"""pytest-lsp fixtures: the real server over stdio, with VS Code (push diagnostics) and Neovim 0.11
(pull diagnostics, UTF-8 positions) client capabilities."""

from __future__ import annotations

import os
import sys

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "promptls", "serve"]
ENV = {**os.environ, "PROMPTLS_STRICT": "1"}


def init_params(spec: str, root_uri: str | None = None, options: dict | None = None) -> lsp.InitializeParams:
    return lsp.InitializeParams(capabilities=client_capabilities(spec), root_uri=root_uri,
                                initialization_options=options or {"today": "2026-11-25"})


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), scope="module")
async def client(lsp_client: LanguageClient):
    """One server for the read-only feature tests of a module (each test opens its own document)."""
    await lsp_client.initialize_session(init_params("visual-studio-code"))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), loop_scope="module")
async def fresh(lsp_client: LanguageClient):
    """A server of its own, for tests that change settings."""
    await lsp_client.initialize_session(init_params("visual-studio-code"))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def uri(request) -> str:
    return f"file:///tmp/promptls-e2e/{request.node.name.replace('[', '_').replace(']', '')}.prompt"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), loop_scope="module")
async def nvim(lsp_client: LanguageClient):
    await lsp_client.initialize_session(init_params("neovim@v0.11.0"))
    yield
    await lsp_client.shutdown_session()
