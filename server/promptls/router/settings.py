"""Typed settings of providers and router (`providers.*`, `router`, `cache`, `budget`, `privacy`, `state` tables).

Plain dataclasses (no pydantic: server start-up time matters). `parse_router_settings` never raises on bad
config: it keeps the defaults for bad values and returns one clear message per problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from promptls.config.sections import Section, declare
from promptls.providers.settings import ProviderSettings

KINDS = ("anthropic", "openai", "gemini", "ollama", "local")
PURPOSES = ("completion", "action", "run")
DEFAULT_EXCLUDES = (".env*", "*.pem", "*.key", "id_*", "secrets.*")

# Used when the config names no providers at all: every backend with its usual key variable. Providers without
# a key (or not running, or not installed) are skipped with a logged reason, so this is safe as a default.
DEFAULT_MODELS = {
    "anthropic": "claude-haiku-4-5",
    "openai": "gpt-4o-mini",
    "gemini": "gemini-2.5-flash",
    "ollama": "qwen2.5-coder:1.5b",
    "local": "smollm2",
}


@dataclass(slots=True)
class Deadlines:
    """Per purpose, in seconds. `connect_s`: until the backend answers (TCP connect and response headers);
    `first_token_s`: from the request to the first token; `idle_s`: the longest silence between two chunks once
    tokens flow; `total_s`: the whole call, every retry and failover included (one overall deadline: no retry
    starts that could not finish in it).

    Defaults are chosen for a person waiting at a terminal (`run`) or in an editor (`action`, `completion`): a
    provider that never answers fails (and the router fails over) after `connect_s`, 10 s for `run`, instead
    of after three SDK timeouts of 30 s; a stream that stalls mid-answer fails after `idle_s`, 15 s. A timeout
    before the headers is not retried on the same provider (a host that did not answer in 10 s will not answer
    in the next 10); the chain fails over at once. Gemini and Ollama's SDKs expose no moment between headers
    and first chunk, so for them the first-token deadline covers the wait for headers too. Each provider's
    `timeout_s` (30 s) stays as the SDK's own transport timeout, a backstop behind these deadlines."""

    first_token_s: float
    idle_s: float
    total_s: float
    connect_s: float = 10.0


DEFAULT_DEADLINES = {
    "completion": Deadlines(first_token_s=4.0, idle_s=5.0, total_s=15.0, connect_s=3.0),
    "action": Deadlines(first_token_s=30.0, idle_s=15.0, total_s=120.0, connect_s=10.0),
    "run": Deadlines(first_token_s=30.0, idle_s=15.0, total_s=300.0, connect_s=10.0),
}


@dataclass(slots=True)
class RouterPolicy:
    chains: dict[str, list[str]] = field(default_factory=dict)
    max_attempts: int = 3
    backoff_base_s: float = 0.25
    backoff_max_s: float = 8.0
    #: A retry hint longer than this makes the router fail over instead of waiting.
    max_retry_wait_s: float = 20.0
    #: "wait" for the earliest cooling provider (within the deadline) or "fail" fast.
    when_all_cooling: str = "wait"
    breaker_threshold: int = 3
    breaker_cooldown_s: float = 30.0
    deadlines: dict[str, Deadlines] = field(
        default_factory=lambda: {
            k: Deadlines(v.first_token_s, v.idle_s, v.total_s, v.connect_s) for k, v in DEFAULT_DEADLINES.items()
        }
    )


@dataclass(slots=True)
class CacheSettings:
    enabled: bool = True
    memory_entries: int = 512
    ttl_s: float = 7 * 86400.0
    persistent: bool = True
    #: SQLite file; None means `<user cache dir>/promptls/responses.sqlite3`.
    path: str | None = None
    #: Cache sampled requests (temperature > 0 or unset) too.
    cache_sampled: bool = False
    coalesce: bool = True


@dataclass(slots=True)
class BudgetSettings:
    daily_usd: float | None = None
    monthly_usd: float | None = None
    #: "refuse" or "downgrade" (to the `downgrade` chain, else to the free providers of the chain).
    on_exceed: str = "refuse"
    downgrade: list[str] = field(default_factory=list)
    ledger: bool = True
    #: SQLite file; None means `<user data dir>/promptls/ledger.sqlite3`.
    ledger_path: str | None = None


@dataclass(slots=True)
class PrivacySettings:
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDES))
    redact_secrets: bool = True


STATE_BACKENDS = ("sqlite", "redis")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(slots=True)
class StateSettings:
    """Where the response cache, the ledger and the budgets live: this machine's SQLite files (the default) or a
    Redis server shared by a team (the SQLite files stay as the local tier and the fallback)."""

    backend: str = "sqlite"
    #: `redis://HOST:PORT/DB` or `rediss://` (TLS); never with a password in it.
    url: str = DEFAULT_REDIS_URL
    #: Environment variable holding the Redis password (or ACL password); passwords never go in a file.
    password_env: str | None = None
    #: Key prefix; None means a hash of the project (its git origin URL, else its root folder).
    namespace: str | None = None
    #: Socket connect and read timeout of every Redis call.
    timeout_s: float = 0.5
    #: After a failure, Redis is not tried again for this long (calls use the local state meanwhile).
    retry_s: float = 5.0
    #: Expiry of the cross-process lock of an in-flight request.
    lock_ttl_s: float = 60.0
    #: How long a process waits for another's identical in-flight request before calling the provider itself.
    coalesce_wait_s: float = 30.0


@dataclass(slots=True)
class RouterSettings:
    providers: dict[str, ProviderSettings] = field(default_factory=dict)
    router: RouterPolicy = field(default_factory=RouterPolicy)
    cache: CacheSettings = field(default_factory=CacheSettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    state: StateSettings = field(default_factory=StateSettings)

    def chain(self, purpose: str) -> list[str]:
        return list(self.router.chains.get(purpose) or self.providers)


def default_providers() -> dict[str, ProviderSettings]:
    return {kind: ProviderSettings(kind=kind, model=model) for kind, model in DEFAULT_MODELS.items()}


# -- parsing ------------------------------------------------------------------------------------------------------

_NUM = (int, float)


class _Reader:
    """Copies the valid values of one table onto a dataclass instance, recording a message for each bad one."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors

    def table(self, value: Any, where: str) -> Mapping[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.errors.append(f"[{where}] must be a table, got {type(value).__name__}")
            return None
        return value

    def fill(self, obj: Any, table: Mapping[str, Any], where: str, *, skip: tuple[str, ...] = ()) -> None:
        known = {f.name for f in fields(obj)}
        for key, value in table.items():
            if key in skip:
                continue
            if key not in known:
                self.errors.append(f"[{where}] unknown key '{key}'")
                continue
            current = getattr(obj, key)
            checked = self._check(value, current, f"{where}.{key}", key)
            if checked is not _BAD:
                setattr(obj, key, checked)

    def _check(self, value: Any, current: Any, where: str, key: str) -> Any:
        expected = _FIELD_TYPES.get(key)
        if expected is None:
            expected = type(current) if current is not None else None
        if expected is bool:
            if isinstance(value, bool):
                return value
            self.errors.append(f"'{where}' must be true or false, got {value!r}")
            return _BAD
        if expected in (int, float):
            if isinstance(value, bool) or not isinstance(value, _NUM):
                self.errors.append(f"'{where}' must be a number, got {value!r}")
                return _BAD
            if value < 0:
                self.errors.append(f"'{where}' must not be negative, got {value!r}")
                return _BAD
            if expected is int:
                if int(value) != value:
                    self.errors.append(f"'{where}' must be a whole number, got {value!r}")
                    return _BAD
                return int(value)
            return float(value)
        if expected is str:
            if isinstance(value, str):
                return value
            self.errors.append(f"'{where}' must be a string, got {value!r}")
            return _BAD
        if expected is list:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return list(value)
            self.errors.append(f"'{where}' must be a list of strings, got {value!r}")
            return _BAD
        if expected is dict:
            if isinstance(value, Mapping):
                return dict(value)
            self.errors.append(f"'{where}' must be a table, got {value!r}")
            return _BAD
        return value


_BAD = object()
# Fields whose default is None (so the type cannot be read off the default).
_FIELD_TYPES: dict[str, type] = {
    "model": str,
    "base_url": str,
    "api_key_env": str,
    "remote": bool,
    "max_tokens": int,
    "model_path": str,
    "n_threads": int,
    "path": str,
    "daily_usd": float,
    "monthly_usd": float,
    "ledger_path": str,
    "timeout_s": float,
    "ttl_s": float,
    "backoff_base_s": float,
    "backoff_max_s": float,
    "max_retry_wait_s": float,
    "breaker_cooldown_s": float,
    "password_env": str,
    "namespace": str,
}


def parse_router_settings(cfg: Mapping[str, Any] | None) -> tuple[RouterSettings, list[str]]:
    """Read the router's tables from the whole promptls config; never raises on bad values."""
    errors: list[str] = []
    rd = _Reader(errors)
    cfg = cfg if isinstance(cfg, Mapping) else {}
    out = RouterSettings()
    _parse_providers(rd.table(cfg.get("providers"), "providers"), out, rd, errors)
    rt = rd.table(cfg.get("router"), "router")
    if rt is not None:
        _parse_router(rt, out, rd, errors)
    for key, obj in (("cache", out.cache), ("budget", out.budget), ("privacy", out.privacy)):
        t = rd.table(cfg.get(key), key)
        if t is not None:
            rd.fill(obj, t, key)
    _parse_state(rd.table(cfg.get("state"), "state"), out.state, rd, errors)
    _check_budget(out, errors)
    from promptls.core.secrets import register_key_envs

    register_key_envs(ps.api_key_env for ps in out.providers.values())
    return out, errors


def _parse_providers(providers: dict[str, Any] | None, out: RouterSettings, rd: _Reader, errors: list[str]) -> None:
    """`[providers.NAME]` tables (the built-in defaults when there is no `[providers]` table)."""
    if providers is None:
        out.providers = default_providers()
    for name, table in (providers or {}).items():
        where = f"providers.{name}"
        t = rd.table(table, where)
        if t is None:
            continue
        kind = t.get("kind", name if name in KINDS else None)
        if kind not in KINDS:
            errors.append(f"[{where}] 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
            continue
        ps = ProviderSettings(kind=kind, model=DEFAULT_MODELS.get(kind))
        rd.fill(ps, t, where, skip=("kind",))
        if kind == "local" and ps.model_path and "model" not in t:
            ps.model = None  # the provider names its own GGUF (the file's stem), not the bundled default
        if "api_key" in t:
            errors.append(f"[{where}] keys never go in a file: use 'api_key_env' to name an environment variable")
        if ps.timeout_s <= 0:
            errors.append(f"'{where}.timeout_s' must be positive")
            ps.timeout_s = 30.0
        out.providers[name] = ps


def _parse_router(rt: dict[str, Any], out: RouterSettings, rd: _Reader, errors: list[str]) -> None:
    """`[router]`: a chain per purpose (known providers only), deadlines per purpose, the policy's numbers."""
    for purpose in PURPOSES:
        if purpose in rt:
            chain = rt[purpose]
            if isinstance(chain, str):
                chain = [chain]
            if not isinstance(chain, list) or not all(isinstance(c, str) for c in chain):
                errors.append(f"'router.{purpose}' must be a list of provider names, got {chain!r}")
                continue
            unknown = [c for c in chain if c not in out.providers]
            if unknown:
                errors.append(
                    f"'router.{purpose}' names unknown provider(s) {', '.join(unknown)}; "
                    f"known: {', '.join(out.providers) or 'none'}"
                )
            out.router.chains[purpose] = [c for c in chain if c in out.providers]
    dl = rd.table(rt.get("deadlines"), "router.deadlines")
    for purpose, table in (dl or {}).items():
        if purpose not in PURPOSES:
            errors.append(f"[router.deadlines] unknown purpose '{purpose}' (one of {', '.join(PURPOSES)})")
            continue
        t = rd.table(table, f"router.deadlines.{purpose}")
        if t is not None:
            rd.fill(out.router.deadlines[purpose], t, f"router.deadlines.{purpose}")
    rd.fill(out.router, rt, "router", skip=(*PURPOSES, "deadlines", "chains"))
    if out.router.when_all_cooling not in ("wait", "fail"):
        errors.append(
            f"'router.when_all_cooling' must be \"wait\" or \"fail\", got {out.router.when_all_cooling!r}"
        )
        out.router.when_all_cooling = "wait"
    if out.router.max_attempts < 1:
        errors.append("'router.max_attempts' must be at least 1")
        out.router.max_attempts = 1


def _check_budget(out: RouterSettings, errors: list[str]) -> None:
    if out.budget.on_exceed not in ("refuse", "downgrade"):
        errors.append(f"'budget.on_exceed' must be \"refuse\" or \"downgrade\", got {out.budget.on_exceed!r}")
        out.budget.on_exceed = "refuse"
    unknown = [c for c in out.budget.downgrade if c not in out.providers]
    if unknown:
        errors.append(f"'budget.downgrade' names unknown provider(s) {', '.join(unknown)}")
        out.budget.downgrade = [c for c in out.budget.downgrade if c in out.providers]


def _parse_state(t: Mapping[str, Any] | None, st: StateSettings, rd: _Reader, errors: list[str]) -> None:
    if t is None:
        return
    if "password" in t:
        errors.append("[state] passwords never go in a file: use 'password_env' to name an environment variable")
    rd.fill(st, {k.replace("-", "_"): v for k, v in t.items() if k != "password"}, "state")
    if st.backend not in STATE_BACKENDS:
        errors.append(f"'state.backend' must be \"sqlite\" or \"redis\", got {st.backend!r}")
        st.backend = "sqlite"
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(st.url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        errors.append(f"'state.url' is not a URL ({exc})")
        st.url, parts = DEFAULT_REDIS_URL, urlsplit(DEFAULT_REDIS_URL)
    if parts.scheme not in ("redis", "rediss", "unix"):
        errors.append(f"'state.url' must start with redis://, rediss:// or unix://, got {st.url!r}")
        st.url = DEFAULT_REDIS_URL
    elif parts.password:
        errors.append("'state.url' carries a password; passwords never go in a file: use 'password_env'")
        st.url = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    for name in ("timeout_s", "retry_s", "lock_ttl_s"):
        if getattr(st, name) <= 0:
            errors.append(f"'state.{name}' must be positive")
            setattr(st, name, getattr(StateSettings(), name))


# -- JSON Schema (for VS Code settings and editors' completion of promptls.toml) ---------------------------------

_NUMBER = {"type": "number", "minimum": 0}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_DEADLINES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "connect_s": {**_NUMBER, "description": "Seconds to wait for the backend to answer (connect, headers)."},
        "first_token_s": {**_NUMBER, "description": "Seconds to wait for the first token."},
        "idle_s": {**_NUMBER, "description": "Longest silence between two chunks, in seconds."},
        "total_s": {**_NUMBER, "description": "Whole call, every retry and failover included, in seconds."},
    },
}

ROUTER_SETTINGS_SCHEMA: dict[str, Any] = {
    "providers": {
        "type": "object",
        "description": "LLM providers by name; keys come from environment variables, never from files.",
        "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind"],
            "properties": {
                "kind": {"enum": list(KINDS), "description": "Which backend this provider talks to."},
                "model": {"type": "string", "description": "Model id sent to the backend."},
                "base_url": {"type": "string", "description": "Endpoint (OpenAI-compatible servers, Ollama)."},
                "api_key_env": {"type": "string", "description": "Environment variable holding the API key."},
                "timeout_s": {**_NUMBER, "default": 30, "description": "Per-request transport timeout."},
                "remote": {"type": "boolean", "description": "Whether prompts leave this machine."},
                "max_tokens": {"type": "integer", "minimum": 1, "description": "Default output token limit."},
                "params": {"type": "object", "description": "Extra parameters passed to the SDK call."},
                "model_path": {"type": "string", "description": "local: path of a GGUF model file."},
                "n_ctx": {"type": "integer", "minimum": 16, "default": 2048, "description": "local: context."},
                "n_threads": {"type": "integer", "minimum": 1, "description": "local: CPU threads."},
            },
        },
    },
    "router": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **{p: {**_STRINGS, "description": f"Provider chain for {p}, tried in order."} for p in PURPOSES},
            "max_attempts": {"type": "integer", "minimum": 1, "default": 3},
            "backoff_base_s": {**_NUMBER, "default": 0.25},
            "backoff_max_s": {**_NUMBER, "default": 8},
            "max_retry_wait_s": {**_NUMBER, "default": 20},
            "when_all_cooling": {"enum": ["wait", "fail"], "default": "wait"},
            "breaker_threshold": {"type": "integer", "minimum": 1, "default": 3},
            "breaker_cooldown_s": {**_NUMBER, "default": 30},
            "deadlines": {"type": "object", "properties": {p: _DEADLINES for p in PURPOSES}},
        },
    },
    "cache": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": {"type": "boolean", "default": True},
            "memory_entries": {"type": "integer", "minimum": 0, "default": 512},
            "ttl_s": {**_NUMBER, "default": 604800},
            "persistent": {"type": "boolean", "default": True},
            "path": {"type": "string"},
            "cache_sampled": {"type": "boolean", "default": False},
            "coalesce": {"type": "boolean", "default": True},
        },
    },
    "budget": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "daily_usd": _NUMBER,
            "monthly_usd": _NUMBER,
            "on_exceed": {"enum": ["refuse", "downgrade"], "default": "refuse"},
            "downgrade": _STRINGS,
            "ledger": {"type": "boolean", "default": True},
            "ledger_path": {"type": "string"},
        },
    },
    "privacy": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "exclude": {**_STRINGS, "default": list(DEFAULT_EXCLUDES)},
            "redact_secrets": {"type": "boolean", "default": True},
        },
    },
    "state": {
        "type": "object",
        "additionalProperties": False,
        "description": "Where the response cache, ledger and budgets live: local SQLite, or Redis shared by a team.",
        "properties": {
            "backend": {"enum": list(STATE_BACKENDS), "default": "sqlite",
                        "description": "sqlite: this machine's files; redis: shared by every machine using `url`."},
            "url": {"type": "string", "default": DEFAULT_REDIS_URL,
                    "description": "redis://HOST:PORT/DB (rediss:// for TLS), without a password."},
            "password_env": {"type": "string", "description": "Environment variable holding the Redis password."},
            "namespace": {"type": "string", "description": "Key prefix; default: a hash of the project."},
            "timeout_s": {**_NUMBER, "default": 0.5, "description": "Timeout of every Redis call."},
            "retry_s": {**_NUMBER, "default": 5, "description": "Wait before trying Redis again after a failure."},
            "lock_ttl_s": {**_NUMBER, "default": 60, "description": "Expiry of an in-flight request's lock."},
            "coalesce_wait_s": {**_NUMBER, "default": 30,
                                "description": "Longest wait for another process's identical request."},
        },
    },
}


#: The router's part of the configuration schema (providers, router, cache, budget, privacy, state).
SECTION: Section[RouterSettings] = declare(Section(
    "router", ("providers", "router", "cache", "budget", "privacy", "state"), parse_router_settings,
    lambda: dict(ROUTER_SETTINGS_SCHEMA)))
