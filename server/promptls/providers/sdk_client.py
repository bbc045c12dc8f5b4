"""Shared plumbing of the SDK-backed providers: one lazily built client per API key, closed on demand."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from promptls.providers.base import Probe, Provider
from promptls.providers.errors import ErrorKind, ProviderError

log = logging.getLogger("promptls.providers")


def key_fingerprint(key: str | None) -> str:
    """A short, non-reversible label for a key (breaker and logs); never the key itself."""
    if not key:
        return "nokey"
    return hashlib.sha256(key.encode()).hexdigest()[:10]


_FOUND: set[str] = set()


def sdk_installed(module: str) -> bool:
    """Whether `module` can be imported, without importing it (positive answers are remembered)."""
    if module in _FOUND:
        return True
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing (google.genai without google)
        found = False
    if found:
        _FOUND.add(module)
    return found


def install_hint(requirement: str) -> str:
    return f"pip install '{requirement}' (or reinstall promptls: pip install 'promptls[providers]')"


class SDKProvider(Provider):
    """A provider whose SDK client is built on first use and rebuilt when the key in the environment changes."""

    #: The SDK's import name and its pip requirement (a regular dependency of promptls; checked in case
    #: somebody removed it, so the error names the command that puts it back).
    sdk_module: str = ""
    sdk_requirement: str = ""

    def unusable_reason(self) -> str | None:
        if self.sdk_module and not sdk_installed(self.sdk_module):
            package = self.sdk_requirement.split(">")[0]
            return f"the {package} package is not installed: {install_hint(self.sdk_requirement)}"
        return super().unusable_reason()

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self._client: Any = None
        self._client_fp: str | None = None

    def _make_client(self, key: str | None) -> Any:
        raise NotImplementedError

    @property
    def prepared(self) -> bool:
        return self._client is not None and self._client_fp == key_fingerprint(self.api_key())

    def prepare(self) -> None:
        self.client()

    def client(self) -> Any:
        key = self.api_key()
        fp = key_fingerprint(key)
        if self._client is None or fp != self._client_fp:
            try:
                self._client = self._make_client(key)
            except ModuleNotFoundError as exc:
                raise ProviderError(
                    ErrorKind.BAD_REQUEST, f"could not start: {exc}; {install_hint(self.sdk_requirement)}",
                    provider=self.name, failover=True,
                ) from exc
            self._client_fp = fp
        return self._client

    async def _close_client(self, client: Any) -> None:
        close = getattr(client, "close", None) or getattr(client, "aclose", None)
        if close is not None:
            result = close()
            if isinstance(result, Awaitable):
                await result

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await self._close_client(client)

    async def _timed_probe(self, call: Callable[[], Awaitable[str]]) -> Probe:
        # deferred: classify reads the SDKs' error types and email's date parser; the server starts without them
        from promptls.providers.classify import classify_exception

        if (why := self.unusable_reason()) is not None:
            return Probe(False, None, why)
        t0 = time.perf_counter()
        try:
            detail = await call()
        except Exception as exc:  # doctor reports, never raises
            err = classify_exception(exc, provider=self.name)
            return Probe(False, (time.perf_counter() - t0) * 1000, f"{err.kind.label}: {err.message}")
        return Probe(True, (time.perf_counter() - t0) * 1000, detail)


_ACCEPTED: dict[Any, frozenset[str]] = {}


def fit_kwargs(method: Any, kwargs: dict[str, Any], *, drop_unknown: tuple[str, ...] = ()) -> dict[str, Any]:
    """Keep the keyword arguments `method` (an SDK call) accepts; move the rest into `extra_body`, so that
    server-specific parameters (vLLM's `top_k`, say) still reach the wire. Names in `drop_unknown` are dropped
    instead when the SDK does not know them (a parameter the API itself has retired)."""
    func = getattr(method, "__func__", method)
    accepted = _ACCEPTED.get(func)
    if accepted is None:
        try:
            accepted = frozenset(inspect.signature(method).parameters)
        except (TypeError, ValueError):
            return kwargs
        _ACCEPTED[func] = accepted
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for k, v in kwargs.items():
        if k in accepted:
            out[k] = v
        elif k in drop_unknown:
            log.debug("the installed SDK takes no %r; not sent", k)
        else:
            extra[k] = v
    if extra:
        out["extra_body"] = {**(out.get("extra_body") or {}), **extra}
    return out
