"""The one typed configuration schema, validated with clear messages, shared by the CLI and the server.

Sources, later ones winning: `promptls.toml` or `[tool.promptls]` in `pyproject.toml` found upward from the
workspace, then the LSP `initializationOptions`, `workspace/configuration` and `didChangeConfiguration`
(`promptls` section). Invalid values never raise: they are reported (CF001) and the default is kept.
Provider/router tables are validated by `promptls.router.settings`, which owns that part of the schema.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from promptls.config.sections import Section, declared, declared_keys
from promptls.core import safe_read
from promptls.core.findings import Severity

T = TypeVar("T")

DEFAULT_TEMPLATE_GLOBS: dict[str, str] = {
    "*.j2": "jinja2",
    "*.jinja": "jinja2",
    "*.jinja2": "jinja2",
    "*.mustache": "mustache",
    "*.hbs": "handlebars",
    "*.handlebars": "handlebars",
    "*.prompt.md": "jinja2",
}
ENGINES = ("jinja2", "handlebars", "mustache")
CODE_LANGUAGES = ("python", "typescript", "javascript")
DEFAULT_DATASET_GLOBS = ("*train*.jsonl", "*finetune*.jsonl", "*fine_tune*.jsonl", "*fine-tune*.jsonl",
                         "*valid*.jsonl", "*dpo*.jsonl", "*sft*.jsonl", "datasets/*.jsonl", "data/*.jsonl")


CODE_SUFFIXES = {".py": "python", ".pyi": "python", ".ts": "typescript", ".mts": "typescript",
                 ".cts": "typescript", ".tsx": "tsx", ".js": "javascript", ".mjs": "javascript",
                 ".cjs": "javascript", ".jsx": "javascript"}


@dataclass(frozen=True, slots=True)
class TemplateOverride:
    """Model and declared inputs for plain templates matching `glob`."""

    glob: str
    model: str | None = None
    inputs: tuple[str, ...] | None = None
    engine: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()  # per-code severity overrides
    default_model: str | None = None
    model_override: str | None = None  # CLI --model: replaces every file's model
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom models / overrides for the catalog
    template_globs: tuple[tuple[str, str], ...] = tuple(DEFAULT_TEMPLATE_GLOBS.items())
    template_overrides: tuple[TemplateOverride, ...] = ()
    per_call_budget_usd: float | None = None
    budget_severity: Severity = Severity.WARNING
    calls_per_month: int | None = None  # projected calls, for monthly cost (`[cost] calls-per-month`)
    today: _dt.date | None = None  # pin "today" for deprecation checks (reproducible CI)
    max_file_bytes: int = 10_000_000
    code_languages: tuple[str, ...] = CODE_LANGUAGES  # SDK call-site analysis; () turns it off
    code_long_prompt_tokens: int = 1000  # SD006 threshold
    dataset_globs: tuple[str, ...] = DEFAULT_DATASET_GLOBS  # JSONL files always treated as datasets
    dataset_sniff: bool = True  # other .jsonl files are datasets when their first lines look like one
    dataset_model: str = "gpt-4o-mini-2024-07-18"
    dataset_epochs: int = 3
    dataset_max_example_tokens: int | None = None
    dataset_training_price_per_mtok: float | None = None
    dataset_max_bytes: int = 4_000_000_000  # `check` streams datasets, so they may exceed max-file-bytes
    deployments: dict[str, str] = field(default_factory=dict)  # Azure OpenAI deployment name -> model id
    tokens_online: bool = False  # `[tokens] online`: exact counts from the providers' counting endpoints
    raw: dict[str, Any] = field(default_factory=dict)  # the whole table; owners read theirs with `section`
    # Values derived from this configuration (typed sections, the catalog), each kept with the part of the
    # configuration it was built from, compared by identity: a `replace` that changes that part rebuilds it.
    _derived: dict[str, tuple[Any, Any]] = field(default_factory=dict, compare=False, repr=False)

    def derived(self, key: str, basis: Any, build: Callable[[], T]) -> T:
        """`build()`, once per configuration (per `basis` object): the model catalog is built once per
        configuration change, not once per analysis."""
        hit = self._derived.get(key)
        if hit is not None and hit[0] is basis:
            return hit[1]
        value = build()
        self._derived[key] = (basis, value)
        return value

    def __getstate__(self) -> tuple[Any, ...]:
        # Derived values (catalog, parsed sections) hold locks and caches: a worker process rebuilds its own.
        return tuple({} if f.name == "_derived" else getattr(self, f.name) for f in fields(self))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for f, value in zip(fields(self), state, strict=True):
            object.__setattr__(self, f.name, value)

    def section(self, section: Section[T]) -> T:
        """The typed settings of a section another package declared (`config/sections.py`), parsed once."""
        return self.derived("section:" + section.name, self.raw, lambda: section.parse(self.raw)[0])

    def engine_for(self, path: str) -> str | None:
        name = Path(path).name
        for over in self.template_overrides:
            if over.engine and _glob_match(path, over.glob):
                return over.engine
        for glob, engine in self.template_globs:
            if fnmatch.fnmatch(name, glob) or _glob_match(path, glob):
                return engine
        return None

    def code_language_for(self, path: str) -> str | None:
        """The parser for a source file (python, typescript, tsx, javascript) when its language is enabled."""
        lang = CODE_SUFFIXES.get(Path(path).suffix.lower())
        if lang is None:
            return None
        family = "typescript" if lang == "tsx" else lang
        return lang if family in self.code_languages else None

    def is_dataset_glob(self, path: str) -> bool:
        return path.endswith(".jsonl") and any(_glob_match(path, g) for g in self.dataset_globs)

    def override_for(self, path: str) -> TemplateOverride | None:
        for over in self.template_overrides:
            if _glob_match(path, over.glob):
                return over
        return None

    def ignored_for(self, path: str) -> tuple[str, ...]:
        out: list[str] = []
        for glob, codes in self.per_file_ignores:
            if _glob_match(path, glob):
                out.extend(codes)
        return tuple(out)


def _glob_match(path: str, glob: str) -> bool:
    p = path.replace("\\", "/")
    if fnmatch.fnmatch(p, glob) or fnmatch.fnmatch(Path(p).name, glob):
        return True
    # `dir/**/x` and relative globs match anywhere below the root
    return fnmatch.fnmatch(p, "*/" + glob.lstrip("/"))


class ConfigErrors(list):
    def add(self, where: str, msg: str) -> None:
        self.append(f"{where}: {msg}")


def _str_list(v: Any, where: str, errs: ConfigErrors) -> tuple[str, ...] | None:
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    errs.add(where, f"expected a list of strings, got {_show(v)}")
    return None


def _show(v: Any) -> str:
    s = repr(v)
    return s if len(s) < 60 else s[:57] + "..."


_KNOWN_TOP = {
    "select", "ignore", "per-file-ignores", "per_file_ignores", "severity", "model", "models", "templates",
    "cost", "today", "max-file-bytes", "max_file_bytes", "code", "datasets", "tokens", "deployments",
}  # and the keys of the sections other packages declare (config/sections.py)


def from_dict(data: dict[str, Any], base: Config | None = None) -> tuple[Config, list[str]]:
    """Validate a promptls table. Unknown or invalid entries produce messages and keep defaults."""
    cfg = base or Config()
    errs = ConfigErrors()
    if not isinstance(data, dict):
        return cfg, [f"promptls settings: expected a table/object, got {_show(data)}"]
    from promptls.core.registry import lookup

    changes: dict[str, Any] = {}
    for key in data:
        if key not in _KNOWN_TOP and key not in declared_keys():
            errs.add(key, "unknown setting")

    def codes(v: Any, where: str) -> tuple[str, ...] | None:
        items = _str_list(v, where, errs)
        if items is None:
            return None
        good = []
        for c in items:
            if c.upper() == "ALL" or lookup(c) or any(k.startswith(c.upper()) for k in _all_codes()):
                good.append(c)
            else:
                errs.add(where, f"unknown rule code or name {c!r}")
        return tuple(good)

    if "select" in data and (v := codes(data["select"], "select")) is not None:
        changes["select"] = v
    if "ignore" in data and (v := codes(data["ignore"], "ignore")) is not None:
        changes["ignore"] = v
    pfi = data.get("per-file-ignores", data.get("per_file_ignores"))
    if pfi is not None:
        if isinstance(pfi, dict):
            pairs = []
            for glob, cs in pfi.items():
                v = codes(cs, f"per-file-ignores.{glob}")
                if v is not None:
                    pairs.append((glob, v))
            changes["per_file_ignores"] = tuple(pairs)
        else:
            errs.add("per-file-ignores", "expected a table of glob = [codes]")
    if "severity" in data:
        sev = data["severity"]
        if isinstance(sev, dict):
            pairs2 = []
            for code, level in sev.items():
                r = lookup(code)
                if r is None:
                    errs.add(f"severity.{code}", "unknown rule")
                    continue
                try:
                    pairs2.append((r.code, Severity.parse(str(level))))
                except ValueError as e:
                    errs.add(f"severity.{code}", str(e))
            changes["severity"] = tuple(pairs2)
        else:
            errs.add("severity", "expected a table of code = level")
    if "model" in data:
        if isinstance(data["model"], str) and data["model"].strip():
            changes["default_model"] = data["model"].strip()
        else:
            errs.add("model", f"expected a model id string, got {_show(data['model'])}")
    if "models" in data:
        models = data["models"]
        if isinstance(models, dict) and all(isinstance(v, dict) for v in models.values()):
            changes["models"] = _validate_models(models, errs)
        else:
            errs.add("models", "expected a table of model-id = { context_window = ..., ... }")
    if "templates" in data:
        _templates(data["templates"], changes, errs)
    if "cost" in data:
        cost = data["cost"]
        if not isinstance(cost, dict):
            errs.add("cost", "expected a table")
        else:
            b = cost.get("per-call-budget-usd", cost.get("per_call_budget_usd"))
            if b is not None:
                if isinstance(b, int | float) and not isinstance(b, bool) and b >= 0:
                    changes["per_call_budget_usd"] = float(b)
                else:
                    errs.add("cost.per-call-budget-usd", f"expected a non-negative number, got {_show(b)}")
            s = cost.get("budget-severity", cost.get("budget_severity"))
            if s is not None:
                try:
                    changes["budget_severity"] = Severity.parse(str(s))
                except ValueError as e:
                    errs.add("cost.budget-severity", str(e))
            cpm = cost.get("calls-per-month", cost.get("calls_per_month"))
            if cpm is not None:
                if isinstance(cpm, int) and not isinstance(cpm, bool) and cpm >= 0:
                    changes["calls_per_month"] = cpm
                else:
                    errs.add("cost.calls-per-month", f"expected a whole number >= 0, got {_show(cpm)}")
            for k in cost:
                if k not in {"per-call-budget-usd", "per_call_budget_usd", "budget-severity", "budget_severity",
                             "calls-per-month", "calls_per_month"}:
                    errs.add(f"cost.{k}", "unknown setting")
    if "today" in data:
        t = data["today"]
        try:
            changes["today"] = t if isinstance(t, _dt.date) else _dt.date.fromisoformat(str(t))
        except ValueError:
            errs.add("today", f"expected a date YYYY-MM-DD, got {_show(t)}")
    mfb = data.get("max-file-bytes", data.get("max_file_bytes"))
    if mfb is not None:
        if isinstance(mfb, int) and not isinstance(mfb, bool) and mfb > 0:
            changes["max_file_bytes"] = mfb
        else:
            errs.add("max-file-bytes", f"expected a positive integer, got {_show(mfb)}")
    if "code" in data:
        _code(data["code"], changes, errs)
    if "datasets" in data:
        _datasets(data["datasets"], changes, errs)
    if "deployments" in data:
        _deployments(data["deployments"], changes, errs)
    if "tokens" in data:
        _tokens(data["tokens"], changes, errs)
    raw = dict(cfg.raw)
    raw.update(data)
    changes["raw"] = raw
    return replace(cfg, **changes), list(errs) + _section_errors(raw)


def _all_codes() -> list[str]:
    from promptls.core.registry import RULES

    return list(RULES)


_MODEL_KEYS = {
    "context_window": int, "max_output": int, "input_per_mtok": (int, float), "output_per_mtok": (int, float),
    "cached_input_per_mtok": (int, float), "tokenizer": str, "alias_of": str, "provider": str,
    "deprecation_date": (str, _dt.date), "successor": str, "supports_prompt_caching": bool,
}


def _validate_models(models: dict[str, dict[str, Any]], errs: ConfigErrors) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for mid, spec in models.items():
        good: dict[str, Any] = {}
        for k, v in spec.items():
            typ = _MODEL_KEYS.get(k)
            if typ is None:
                errs.add(f"models.{mid}.{k}", "unknown setting")
            elif not isinstance(v, typ) or (isinstance(v, bool) and typ is not bool):
                errs.add(f"models.{mid}.{k}", f"wrong type {_show(v)}")
            else:
                good[k] = v
        out[mid] = good
    return out


def _templates(t: Any, changes: dict[str, Any], errs: ConfigErrors) -> None:
    if not isinstance(t, dict):
        errs.add("templates", "expected a table")
        return
    globs = t.get("globs")
    if globs is not None:
        if isinstance(globs, dict) and all(isinstance(v, str) for v in globs.values()):
            bad = {g: e for g, e in globs.items() if e not in ENGINES}
            for g, e in bad.items():
                errs.add(f"templates.globs.{g}", f"unknown engine {e!r}; use one of {', '.join(ENGINES)}")
            changes["template_globs"] = tuple((g, e) for g, e in globs.items() if e in ENGINES)
        else:
            errs.add("templates.globs", "expected a table of glob = engine")
    overrides = t.get("overrides")
    if overrides is not None:
        if not isinstance(overrides, list):
            errs.add("templates.overrides", "expected a list of tables")
        else:
            outs = []
            for i, o in enumerate(overrides):
                where = f"templates.overrides[{i}]"
                if not isinstance(o, dict) or not isinstance(o.get("glob"), str):
                    errs.add(where, "each override needs a `glob` string")
                    continue
                inputs = o.get("inputs")
                if inputs is not None:
                    inputs = _str_list(inputs, where + ".inputs", errs)
                eng = o.get("engine")
                if eng is not None and eng not in ENGINES:
                    errs.add(where + ".engine", f"unknown engine {eng!r}")
                    eng = None
                model = o.get("model") if isinstance(o.get("model"), str) else None
                outs.append(TemplateOverride(o["glob"], model, inputs, eng))
            changes["template_overrides"] = tuple(outs)
    for k in t:
        if k not in {"globs", "overrides"}:
            errs.add(f"templates.{k}", "unknown setting")


def _get(t: dict[str, Any], key: str) -> Any:
    return t.get(key, t.get(key.replace("-", "_")))


def _positive_int(v: Any, where: str, errs: ConfigErrors) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return v
    errs.add(where, f"expected a positive integer, got {_show(v)}")
    return None


def _code(t: Any, changes: dict[str, Any], errs: ConfigErrors) -> None:
    if not isinstance(t, dict):
        errs.add("code", "expected a table")
        return
    langs = _get(t, "languages")
    if langs is not None and (v := _str_list(langs, "code.languages", errs)) is not None:
        bad = [x for x in v if x not in CODE_LANGUAGES]
        for x in bad:
            errs.add("code.languages", f"unknown language {x!r}; use {', '.join(CODE_LANGUAGES)}")
        changes["code_languages"] = tuple(x for x in v if x in CODE_LANGUAGES)
    n = _get(t, "long-prompt-tokens")
    if n is not None and (v2 := _positive_int(n, "code.long-prompt-tokens", errs)) is not None:
        changes["code_long_prompt_tokens"] = v2
    for k in t:
        if k.replace("_", "-") not in {"languages", "long-prompt-tokens"}:
            errs.add(f"code.{k}", "unknown setting")


def _datasets(t: Any, changes: dict[str, Any], errs: ConfigErrors) -> None:
    if not isinstance(t, dict):
        errs.add("datasets", "expected a table")
        return
    globs = _get(t, "globs")
    if globs is not None and (v := _str_list(globs, "datasets.globs", errs)) is not None:
        changes["dataset_globs"] = v
    sniff = _get(t, "sniff")
    if sniff is not None:
        if isinstance(sniff, bool):
            changes["dataset_sniff"] = sniff
        else:
            errs.add("datasets.sniff", f"expected true or false, got {_show(sniff)}")
    model = _get(t, "model")
    if model is not None:
        if isinstance(model, str) and model.strip():
            changes["dataset_model"] = model.strip()
        else:
            errs.add("datasets.model", f"expected a model id string, got {_show(model)}")
    for key, field_name in (("epochs", "dataset_epochs"), ("max-example-tokens", "dataset_max_example_tokens"),
                            ("max-bytes", "dataset_max_bytes")):
        v = _get(t, key)
        if v is not None and (n := _positive_int(v, f"datasets.{key}", errs)) is not None:
            changes[field_name] = n
    price = _get(t, "training-price-per-mtok")
    if price is not None:
        if isinstance(price, int | float) and not isinstance(price, bool) and price >= 0:
            changes["dataset_training_price_per_mtok"] = float(price)
        else:
            errs.add("datasets.training-price-per-mtok", f"expected a non-negative number, got {_show(price)}")
    known = {"globs", "sniff", "model", "epochs", "max-example-tokens", "max-bytes", "training-price-per-mtok"}
    for k in t:
        if k.replace("_", "-") not in known:
            errs.add(f"datasets.{k}", "unknown setting")


def _tokens(t: Any, changes: dict[str, Any], errs: ConfigErrors) -> None:
    if not isinstance(t, dict):
        errs.add("tokens", "expected a table")
        return
    online = _get(t, "online")
    if online is not None:
        if isinstance(online, bool):
            changes["tokens_online"] = online
        else:
            errs.add("tokens.online", f"expected true or false, got {_show(online)}")
    for k in t:
        if k != "online":
            errs.add(f"tokens.{k}", "unknown setting")


def _deployments(t: Any, changes: dict[str, Any], errs: ConfigErrors) -> None:
    """`[deployments]`: an Azure OpenAI deployment name (what `model=` holds for an Azure client) -> model id."""
    if not isinstance(t, dict):
        errs.add("deployments", "expected a table of deployment-name = \"model-id\"")
        return
    good: dict[str, str] = {}
    for name, model in t.items():
        if isinstance(model, str) and model.strip():
            good[name] = model.strip()
        else:
            errs.add(f"deployments.{name}", f"expected a model id string, got {_show(model)}")
    changes["deployments"] = good


def _section_errors(raw: dict[str, Any]) -> list[str]:
    """Messages for the tables owned by other packages (router, assist, eval...), each validated by the
    section its owner declared (`config/sections.py`)."""
    errors: list[str] = []
    for s in declared():
        if s.present_in(raw):
            errors.extend(s.parse(raw)[1])
    return errors


# -- files ----------------------------------------------------------------------------------------------
def find_config_file(start: Path) -> Path | None:
    """`promptls.toml` (or `.promptls.toml`), else a `pyproject.toml` with `[tool.promptls]`, upward. A
    `promptls.toml` that is there but no regular file is still the one (`load_file` says why it is not read); a
    `pyproject.toml` that cannot be read is passed over, like one without `[tool.promptls]`."""
    start = start if start.is_dir() else start.parent
    for d in [start, *start.parents]:
        for name in ("promptls.toml", ".promptls.toml"):
            if (d / name).exists():
                return d / name
        pp = d / "pyproject.toml"
        try:
            if "promptls" in tomllib.loads(safe_read.read_text(pp)).get("tool", {}):
                return pp
        except (tomllib.TOMLDecodeError, safe_read.Refused):
            continue
    return None


def load_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The promptls table of a config file (a regular file of at most 1 MiB), or the reason it was not read."""
    try:
        data = tomllib.loads(safe_read.read_text(path))
    except safe_read.Refused as e:
        return {}, [f"{path}: {e.reason}"]
    except tomllib.TOMLDecodeError as e:
        return {}, [f"{path}: invalid TOML: {e}"]
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("promptls", {})
    return data, []


def load(start: Path | None = None, explicit: Path | None = None) -> tuple[Config, list[str], Path | None]:
    """The config for a workspace or CLI run, with its validation messages and the file it came from."""
    path = explicit or (find_config_file(start) if start else None)
    if path is None:
        return Config(), [], None
    data, errs = load_file(path)
    cfg, more = from_dict(data)
    return cfg, [f"{path.name}: {m}" for m in errs + more] if errs or more else [], path


# -- JSON Schema (drives editor settings) ----------------------------------------------------------------
def json_schema() -> dict[str, Any]:
    codes = {"type": "array", "items": {"type": "string"}}
    sev = {"type": "string", "enum": ["error", "warning", "info", "hint"]}
    props: dict[str, Any] = {
        "select": {**codes, "default": ["ALL"], "description": "Rule codes, prefixes or names to enable."},
        "ignore": {**codes, "default": [], "description": "Rule codes, prefixes or names to disable."},
        "per-file-ignores": {"type": "object", "additionalProperties": codes, "default": {},
                             "description": "Glob → rule codes to ignore in matching files."},
        "severity": {"type": "object", "additionalProperties": sev, "default": {},
                     "description": "Rule code → severity override."},
        "model": {"type": ["string", "null"], "default": None,
                  "description": "Model assumed for files that name none."},
        "models": {"type": "object", "default": {}, "description": "Custom models and catalog overrides.",
                   "additionalProperties": {"type": "object"}},
        "templates": {"type": "object", "default": {}, "description": "Plain template globs and overrides.",
                      "properties": {
                          "globs": {"type": "object", "additionalProperties": {"enum": list(ENGINES)}},
                          "overrides": {"type": "array", "items": {"type": "object"}}}},
        "cost": {"type": "object", "default": {}, "description": "Per-call cost budget.",
                 "properties": {"per-call-budget-usd": {"type": ["number", "null"]},
                                "budget-severity": sev,
                                "calls-per-month": {"type": ["integer", "null"], "minimum": 0,
                                                    "description": "Projected calls per month (monthly cost)."}}},
        "today": {"type": ["string", "null"], "default": None,
                  "description": "Pin today's date (YYYY-MM-DD) for deprecation checks."},
        "max-file-bytes": {"type": "integer", "default": 10_000_000,
                           "description": "Files larger than this are skipped with a finding."},
        "code": {"type": "object", "default": {}, "description": "LLM SDK call sites in source code.",
                 "properties": {
                     "languages": {"type": "array", "items": {"enum": list(CODE_LANGUAGES)},
                                   "default": list(CODE_LANGUAGES),
                                   "description": "Languages whose SDK calls are analysed ([] turns it off)."},
                     "long-prompt-tokens": {"type": "integer", "default": 1000,
                                            "description": "SD006: literal prompts from this many tokens."}}},
        "datasets": {"type": "object", "default": {}, "description": "Fine-tuning datasets (JSONL).",
                     "properties": {
                         "globs": {"type": "array", "items": {"type": "string"},
                                   "default": list(DEFAULT_DATASET_GLOBS),
                                   "description": "JSONL files always analysed as datasets."},
                         "sniff": {"type": "boolean", "default": True,
                                   "description": "Also analyse other .jsonl files whose lines look like one."},
                         "model": {"type": "string", "default": "gpt-4o-mini-2024-07-18",
                                   "description": "Model being fine-tuned (training context and price)."},
                         "epochs": {"type": "integer", "default": 3},
                         "max-example-tokens": {"type": ["integer", "null"], "default": None},
                         "training-price-per-mtok": {"type": ["number", "null"], "default": None},
                         "max-bytes": {"type": "integer", "default": 4_000_000_000}}},
        "deployments": {"type": "object", "default": {}, "additionalProperties": {"type": "string"},
                        "description": "Azure OpenAI deployment name → the model it serves (`model=` of an "
                                       "Azure client names a deployment)."},
        "tokens": {"type": "object", "default": {}, "description": "Token counting.",
                   "properties": {
                       "online": {"type": "boolean", "default": False,
                                  "description": "Exact counts from the providers' counting endpoints (cached, "
                                                 "throttled; on save in the editor, never per keystroke)."}}},
    }
    for s in declared():
        props.update(s.schema())
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": "promptls settings",
            "type": "object", "properties": props, "additionalProperties": False}
