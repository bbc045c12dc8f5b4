"""The provider router: policy (retries, failover, breakers, deadlines, cache, budgets, ledger) over providers.

Import-light: nothing here imports an SDK; providers import theirs on first use. The names below load their
modules on first access, so `promptls serve` and `promptls check` don't pay for the router at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promptls.router.core import Router
    from promptls.router.settings import ROUTER_SETTINGS_SCHEMA, RouterSettings, parse_router_settings
    from promptls.router.types import Completion, LLMRequest, Outcome, RouterEvent

_WHERE = {
    "Router": ".core",
    "ROUTER_SETTINGS_SCHEMA": ".settings",
    "RouterSettings": ".settings",
    "parse_router_settings": ".settings",
    "Completion": ".types",
    "LLMRequest": ".types",
    "Outcome": ".types",
    "RouterEvent": ".types",
}

__all__ = [
    "ROUTER_SETTINGS_SCHEMA",
    "Completion",
    "LLMRequest",
    "Outcome",
    "Router",
    "RouterEvent",
    "RouterSettings",
    "parse_router_settings",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
