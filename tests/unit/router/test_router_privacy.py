"""Privacy: excluded files never reach a remote provider; literal secrets are redacted before leaving."""

from __future__ import annotations

import json
import logging
import secrets

import pytest

from promptls.providers import PrivacyBlocked
from promptls.router import LLMRequest
from promptls.router.privacy import excluded


def ask(text: str, paths=()) -> LLMRequest:
    return LLMRequest(purpose="action", messages=[{"role": "user", "content": text}], source_paths=paths)


@pytest.mark.parametrize(
    ("path", "hit"),
    [(".env", True), ("app/.env.local", True), ("certs/server.pem", True), ("tls.key", True),
     ("home/.ssh/id_ed25519", True), ("conf/secrets.toml", True), ("src/keyboard.py", False),
     ("prompts/env.prompt", False), ("docs/secrets-guide.md", False)],
)
def test_default_exclude_globs(path, hit):
    from promptls.router.settings import DEFAULT_EXCLUDES

    assert bool(excluded([path], DEFAULT_EXCLUDES)) is hit


async def test_excluded_file_goes_only_to_the_local_provider(fakes, make_router):
    router = make_router(["openai", "ollama"])
    result = await router.complete(ask("contents of .env: DEBUG=1", paths=["project/.env"]))
    assert result.outcome.provider == "ollama"
    assert fakes["openai"].calls == []
    assert len(fakes["ollama"].calls) == 1
    assert any("excluded" in s for s in result.outcome.skipped)


async def test_excluded_file_with_only_remote_providers_is_blocked(fakes, make_router):
    router = make_router(["openai", "anthropic", "gemini"])
    with pytest.raises(PrivacyBlocked):
        await router.complete(ask("-----BEGIN PRIVATE KEY-----", paths=["deploy/server.pem"]))
    for kind in ("openai", "anthropic", "gemini"):
        assert fakes[kind].calls == []


async def test_custom_excludes_replace_the_defaults(fakes, make_router):
    router = make_router(["openai"], privacy={"exclude": ["*.internal.md"]})
    await router.complete(ask("fine", paths=[".env"]))
    assert len(fakes["openai"].calls) == 1
    with pytest.raises(PrivacyBlocked):
        await router.complete(ask("not fine", paths=["notes/plan.internal.md"]))


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
async def test_literal_secrets_are_redacted_before_leaving(kind, fakes, make_router, keys):
    leaked = "sk-" + "ant-api03-" + secrets.token_urlsafe(60)  # a key pasted into a prompt
    own_key = keys["openai"]  # and one of our own configured keys
    router = make_router([kind])
    await router.complete(ask(f"debug this: client = Anthropic(api_key='{leaked}') # {own_key}"))
    sent = json.dumps(fakes[kind].calls[0].json())
    assert leaked not in sent and own_key not in sent
    assert "[REDACTED" in sent


async def test_local_provider_gets_the_prompt_unredacted(fakes, make_router):
    leaked = "sk-" + "proj-" + secrets.token_urlsafe(40)
    router = make_router(["ollama"])
    await router.complete(ask(f"key={leaked}"))
    assert leaked in json.dumps(fakes["ollama"].calls[0].json())


async def test_keys_never_reach_logs_even_when_servers_echo_them(fakes, make_router, keys, caplog):
    from tests.fakes.http import status_error

    caplog.set_level(logging.DEBUG)
    # A (badly behaved) server that echoes the key in its error message.
    fakes["anthropic"].push(status_error(401, body={"type": "error", "error": {
        "type": "authentication_error", "message": f"invalid x-api-key {keys['anthropic']}"}}))
    router = make_router(["anthropic", "ollama"])
    result = await router.complete(ask("hello"))
    assert result.outcome.provider == "ollama"
    joined = caplog.text + " ".join(result.outcome.skipped)
    for key in keys.values():
        assert key not in joined
    assert "invalid x-api-key" in joined  # the error itself was reported, scrubbed
