"""Fixtures for the router tests: the four loopback fakes (one per session, reset per test), fake keys built
at run time, and a `make_router` that points providers at the fakes with test-sized deadlines and backoffs."""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # `tests.fakes` is imported as a package from the repository root
    sys.path.insert(0, str(REPO))

from tests.fakes.anthropic_fake import AnthropicFake  # noqa: E402
from tests.fakes.gemini_fake import GeminiFake  # noqa: E402
from tests.fakes.http import FakeProvider, FakeServer  # noqa: E402
from tests.fakes.ollama_fake import OllamaFake  # noqa: E402
from tests.fakes.openai_fake import OpenAIFake  # noqa: E402
from tests.unit.router.helpers import KEY_ENVS, KINDS, provider_table  # noqa: E402

from promptls.router import Router, parse_router_settings  # noqa: E402
from promptls.router.settings import Deadlines  # noqa: E402


class Fakes:
    def __init__(self) -> None:
        self.apps: dict[str, FakeProvider] = {
            "openai": OpenAIFake(),
            "anthropic": AnthropicFake(),
            "gemini": GeminiFake(),
            "ollama": OllamaFake(),
            "backup": OllamaFake(),  # a second, independent server to fail over to
        }
        self.servers = {k: FakeServer(app) for k, app in self.apps.items()}

    def start(self) -> None:
        for s in self.servers.values():
            s.start()

    def stop(self) -> None:
        for s in self.servers.values():
            s.stop()

    def url(self, kind: str) -> str:
        base = self.servers[kind].url
        return base + "/v1" if kind == "openai" else base

    def __getitem__(self, kind: str) -> FakeProvider:
        return self.apps[kind]


def _import_sdks() -> None:
    """Import the SDKs once per session (seconds of CPU) so no test's deadline pays for it."""
    import anthropic  # noqa: F401
    import ollama  # noqa: F401
    import openai  # noqa: F401
    from google import genai  # noqa: F401


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    _import_sdks()
    f = Fakes()
    f.start()
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def _reset_fakes(request: pytest.FixtureRequest) -> None:
    if "fakes" in request.fixturenames:
        for app in request.getfixturevalue("fakes").apps.values():
            app.reset()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fake keys of the right shapes, made at run time (never real, never literal in the source)."""
    made = {
        "openai": "sk-proj-" + secrets.token_urlsafe(30),
        "anthropic": "sk-ant-api03-" + secrets.token_urlsafe(40),
        "gemini": "AIza" + secrets.token_urlsafe(26)[:35].ljust(35, "x"),
    }
    for kind, env in KEY_ENVS.items():
        monkeypatch.setenv(env, made[kind])
    return made


FAST = {
    "max_attempts": 3,
    "backoff_base_s": 0.005,
    "backoff_max_s": 0.05,
    "max_retry_wait_s": 0.5,
    "breaker_threshold": 3,
    "breaker_cooldown_s": 30.0,
}


@pytest.fixture
async def make_router(fakes: Fakes, keys: dict[str, str], tmp_path: Path) -> AsyncIterator[Callable[..., Router]]:
    made: list[Router] = []

    def make(
        chain: list[str] | tuple[str, ...] = ("openai",),
        *,
        providers: dict[str, dict[str, Any]] | None = None,
        router: dict[str, Any] | None = None,
        cache: dict[str, Any] | None = None,
        budget: dict[str, Any] | None = None,
        privacy: dict[str, Any] | None = None,
        deadlines: Deadlines | None = None,
    ) -> Router:
        tables = providers or {k: provider_table(fakes, k) for k in KINDS}
        if providers is None:
            tables["backup"] = {"kind": "ollama", "model": "backup-model", "base_url": fakes.servers["backup"].url,
                                "timeout_s": 10}
        cfg = {
            "providers": tables,
            "router": {"completion": list(chain), "action": list(chain), "run": list(chain), **FAST,
                       **(router or {})},
            "cache": {"path": str(tmp_path / "cache.sqlite3"), **(cache or {})},
            "budget": {"ledger_path": str(tmp_path / "ledger.sqlite3"), **(budget or {})},
        }
        if privacy is not None:
            cfg["privacy"] = privacy
        settings, errors = parse_router_settings(cfg)
        assert errors == [], errors
        settings.router.deadlines["completion"] = deadlines or Deadlines(first_token_s=30, idle_s=30, total_s=60)
        r = Router(settings)
        made.append(r)
        return r

    yield make
    for r in made:
        await r.aclose()
