"""The core settings (rule selection, models, templates, cost, code, datasets, deployments, tokens), each declared
once as a field of `Config` (`declare.setting`): key, type, default, description and check. The loader validates
them and the JSON Schema describes them from these declarations; the tables other packages own are declared by
those packages (`config/sections.py`)."""

from __future__ import annotations

import datetime as _dt
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from promptls.config.declare import (
    BOOLEAN,
    DATE,
    INVALID,
    MODEL_ID,
    NON_NEGATIVE,
    POSITIVE_INT,
    SEVERITY,
    STRINGS,
    WHOLE_NUMBER,
    ConfigErrors,
    Kind,
    Schema,
    Table,
    setting,
    show,
    table_of,
)
from promptls.config.sections import Section
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


# -- kinds of the core tables -----------------------------------------------------------------------------
def _rule_codes(v: Any, where: str, errs: ConfigErrors) -> Any:
    items = STRINGS.check(v, where, errs)
    if items is INVALID:
        return INVALID
    from promptls.core.registry import RULES, lookup  # every rule's text: loaded when a config names rules

    good = []
    for c in items:
        if c.upper() == "ALL" or lookup(c) or any(k.startswith(c.upper()) for k in RULES):
            good.append(c)
        else:
            errs.add(where, f"unknown rule code or name {c!r}")
    return tuple(good)


def _severities(v: Any, where: str, errs: ConfigErrors) -> Any:
    if not isinstance(v, dict):
        return errs.bad(where, "expected a table of code = level")
    from promptls.core.registry import lookup  # as in _rule_codes

    pairs = []
    for code, level in v.items():
        rule = lookup(code)
        if rule is None:
            errs.add(f"{where}.{code}", "unknown rule")
        elif (sev := SEVERITY.check(level, f"{where}.{code}", errs)) is not INVALID:
            pairs.append((rule.code, sev))
    return tuple(pairs)


_MODEL_KEYS = {
    "context_window": int, "max_output": int, "input_per_mtok": (int, float), "output_per_mtok": (int, float),
    "cached_input_per_mtok": (int, float), "tokenizer": str, "alias_of": str, "provider": str,
    "deprecation_date": (str, _dt.date), "successor": str, "supports_prompt_caching": bool,
}


def _models(v: Any, where: str, errs: ConfigErrors) -> Any:
    if not isinstance(v, dict) or not all(isinstance(spec, dict) for spec in v.values()):
        return errs.bad(where, "expected a table of model-id = { context_window = ..., ... }")
    out: dict[str, dict[str, Any]] = {}
    for mid, spec in v.items():
        good: dict[str, Any] = {}
        for k, value in spec.items():
            typ = _MODEL_KEYS.get(k)
            if typ is None:
                errs.add(f"{where}.{mid}.{k}", "unknown setting")
            elif not isinstance(value, typ) or (isinstance(value, bool) and typ is not bool):
                errs.add(f"{where}.{mid}.{k}", f"wrong type {show(value)}")
            else:
                good[k] = value
        out[mid] = good
    return out


def _template_globs(v: Any, where: str, errs: ConfigErrors) -> Any:
    if not isinstance(v, dict) or not all(isinstance(e, str) for e in v.values()):
        return errs.bad(where, "expected a table of glob = engine")
    for g, e in v.items():
        if e not in ENGINES:
            errs.add(f"{where}.{g}", f"unknown engine {e!r}; use one of {', '.join(ENGINES)}")
    return tuple((g, e) for g, e in v.items() if e in ENGINES)


def _template_overrides(v: Any, where: str, errs: ConfigErrors) -> Any:
    if not isinstance(v, list):
        return errs.bad(where, "expected a list of tables")
    outs = []
    for i, o in enumerate(v):
        at = f"{where}[{i}]"
        if not isinstance(o, dict) or not isinstance(o.get("glob"), str):
            errs.add(at, "each override needs a `glob` string")
            continue
        inputs = o.get("inputs")
        if inputs is not None and (inputs := STRINGS.check(inputs, at + ".inputs", errs)) is INVALID:
            inputs = None
        engine = o.get("engine")
        if engine is not None and engine not in ENGINES:
            errs.add(at + ".engine", f"unknown engine {engine!r}")
            engine = None
        model = o.get("model") if isinstance(o.get("model"), str) else None
        outs.append(TemplateOverride(o["glob"], model, inputs, engine))
    return tuple(outs)


def _code_languages(v: Any, where: str, errs: ConfigErrors) -> Any:
    items = STRINGS.check(v, where, errs)
    if items is INVALID:
        return INVALID
    for x in items:
        if x not in CODE_LANGUAGES:
            errs.add(where, f"unknown language {x!r}; use {', '.join(CODE_LANGUAGES)}")
    return tuple(x for x in items if x in CODE_LANGUAGES)


RULE_CODES = Kind(_rule_codes, STRINGS.schema)
PER_FILE_IGNORES = table_of(RULE_CODES, "expected a table of glob = [codes]", lambda good: tuple(good.items()))
SEVERITIES = Kind(_severities, {"type": "object", "additionalProperties": dict(SEVERITY.schema)})
MODELS = Kind(_models, {"type": "object", "additionalProperties": {"type": "object"}})
TEMPLATE_GLOBS = Kind(_template_globs, {"type": "object", "additionalProperties": {"enum": list(ENGINES)}})
TEMPLATE_OVERRIDES = Kind(_template_overrides, {"type": "array", "items": {"type": "object"}})
LANGUAGES = Kind(_code_languages, {"type": "array", "items": {"enum": list(CODE_LANGUAGES)}})
DEPLOYMENTS = table_of(MODEL_ID, 'expected a table of deployment-name = "model-id"')

TABLES = (
    Table("templates", "Plain template globs and overrides."),
    Table("cost", "Per-call cost budget."),
    Table("code", "LLM SDK call sites in source code."),
    Table("datasets", "Fine-tuning datasets (JSONL)."),
    Table("tokens", "Token counting."),
)


@dataclass(frozen=True, slots=True)
class Config:
    """The configuration of a workspace or a CLI run. Each field made with `setting` is a key of promptls.toml
    (the field order is the JSON Schema's); the tables other packages declare are read from `raw` with
    `section`. (`setting` returns a `dataclasses.field`, which ruff's RUF009 does not know.)"""

    select: tuple[str, ...] = setting("select", RULE_CODES, ("ALL",), "Rule codes, prefixes or names to enable.")
    ignore: tuple[str, ...] = setting("ignore", RULE_CODES, (), "Rule codes, prefixes or names to disable.")
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = setting(
        "per-file-ignores", PER_FILE_IGNORES, (), "Glob → rule codes to ignore in matching files.", null_unset=True)
    severity: tuple[tuple[str, Severity], ...] = setting(  # per-code severity overrides
        "severity", SEVERITIES, (), "Rule code → severity override.")
    default_model: str | None = setting("model", MODEL_ID, None, "Model assumed for files that name none.")
    model_override: str | None = None  # CLI --model: replaces every file's model
    models: dict[str, dict[str, Any]] = setting(  # noqa: RUF009 (custom models / overrides for the catalog)
        "models", MODELS, {}, "Custom models and catalog overrides.")
    template_globs: tuple[tuple[str, str], ...] = setting(
        "templates.globs", TEMPLATE_GLOBS, tuple(DEFAULT_TEMPLATE_GLOBS.items()), document_default=False)
    template_overrides: tuple[TemplateOverride, ...] = setting(
        "templates.overrides", TEMPLATE_OVERRIDES, (), document_default=False)
    per_call_budget_usd: float | None = setting("cost.per-call-budget-usd", NON_NEGATIVE, None,
                                                document_default=False)
    budget_severity: Severity = setting(  # noqa: RUF009
        "cost.budget-severity", SEVERITY, Severity.WARNING, document_default=False)
    calls_per_month: int | None = setting("cost.calls-per-month", WHOLE_NUMBER, None,
                                          "Projected calls per month (monthly cost).", document_default=False)
    today: _dt.date | None = setting(  # noqa: RUF009 (pins "today" for deprecation checks: reproducible CI)
        "today", DATE, None, "Pin today's date (YYYY-MM-DD) for deprecation checks.")
    max_file_bytes: int = setting("max-file-bytes", POSITIVE_INT, 10_000_000,
                                  "Files larger than this are skipped with a finding.", null_unset=True)
    code_languages: tuple[str, ...] = setting(  # SDK call-site analysis; () turns it off
        "code.languages", LANGUAGES, CODE_LANGUAGES, "Languages whose SDK calls are analysed ([] turns it off).")
    code_long_prompt_tokens: int = setting("code.long-prompt-tokens", POSITIVE_INT, 1000,
                                           "SD006: literal prompts from this many tokens.")
    dataset_globs: tuple[str, ...] = setting("datasets.globs", STRINGS, DEFAULT_DATASET_GLOBS,
                                             "JSONL files always analysed as datasets.")
    dataset_sniff: bool = setting("datasets.sniff", BOOLEAN, True,
                                  "Also analyse other .jsonl files whose lines look like one.")
    dataset_model: str = setting("datasets.model", MODEL_ID, "gpt-4o-mini-2024-07-18",
                                 "Model being fine-tuned (training context and price).")
    dataset_epochs: int = setting("datasets.epochs", POSITIVE_INT, 3)
    dataset_max_example_tokens: int | None = setting("datasets.max-example-tokens", POSITIVE_INT, None)
    dataset_training_price_per_mtok: float | None = setting("datasets.training-price-per-mtok", NON_NEGATIVE, None)
    # `check` streams datasets, so they may exceed max-file-bytes
    dataset_max_bytes: int = setting("datasets.max-bytes", POSITIVE_INT, 4_000_000_000)
    deployments: dict[str, str] = setting(  # noqa: RUF009 (Azure OpenAI deployment name -> model id)
        "deployments", DEPLOYMENTS, {},
        "Azure OpenAI deployment name → the model it serves (`model=` of an Azure client names a deployment).")
    tokens_online: bool = setting(  # exact counts from the providers' counting endpoints
        "tokens.online", BOOLEAN, False, "Exact counts from the providers' counting endpoints (cached, "
        "throttled; on save in the editor, never per keystroke).")
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


#: The core settings, as declared by `Config`.
CORE = Schema(Config, TABLES)


def _glob_match(path: str, glob: str) -> bool:
    p = path.replace("\\", "/")
    if fnmatch.fnmatch(p, glob) or fnmatch.fnmatch(Path(p).name, glob):
        return True
    # `dir/**/x` and relative globs match anywhere below the root
    return fnmatch.fnmatch(p, "*/" + glob.lstrip("/"))
