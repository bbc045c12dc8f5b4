"""The provider router: policy (retries, failover, breakers, deadlines, cache, budgets, ledger) over providers.

Import-light: nothing here imports an SDK; providers import theirs on first use.
"""

from __future__ import annotations

from .core import Router
from .settings import ROUTER_SETTINGS_SCHEMA, RouterSettings, parse_router_settings
from .types import Completion, LLMRequest, Outcome, RouterEvent

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
