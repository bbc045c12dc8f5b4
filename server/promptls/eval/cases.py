"""Read test suites: `NAME.tests.yaml` beside a prompt file, and promptfoo configurations (the subset promptls
runs: `prompts`, `providers`, `tests`, `defaultTest`, `evaluateOptions.maxConcurrency/repeat`). Every key that is
not supported yields a finding with its line instead of being skipped silently."""

from __future__ import annotations

import glob as globmod
import json
import os
import re
from pathlib import Path
from typing import Any

from promptls.eval import yamlpos
from promptls.eval.model import Assertion, Case, Finding, PromptSpec, Suite, TargetSpec
from promptls.eval.names import PROMPT_SUFFIXES, PROMPTFOO_NAMES, TESTS_SUFFIXES
from promptls.eval.safe_expr import ExprError, compile_expr

TEXT_TYPES = {"equals", "contains", "icontains", "contains-any", "icontains-any", "contains-all", "icontains-all",
              "regex", "starts-with", "is-json", "contains-json", "json-schema"}
METRIC_TYPES = {"cost", "latency", "tokens"}
EXPR_TYPES = {"python", "expr"}
ASSERT_TYPES = TEXT_TYPES | METRIC_TYPES | EXPR_TYPES | {"llm-rubric"}
LIST_TYPES = {"contains-any", "icontains-any", "contains-all", "icontains-all"}

_ASSERT_KEYS = {"type", "value", "threshold", "weight", "metric", "provider"}
_CASE_KEYS = {"description", "vars", "assert", "threshold", "provider", "metadata", "options"}
_DEFAULT_KEYS = {"vars", "assert", "threshold", "metadata", "options"}
_PROVIDER_KEYS = {"id", "label", "config"}
_PROVIDER_CONFIG = {"apiBaseUrl": "base_url", "apiKeyEnvar": "api_key_env", "temperature": "temperature",
                    "max_tokens": "max_tokens"}
_TOP_PROMPTFOO = {"description", "prompts", "providers", "tests", "defaultTest", "evaluateOptions", "tags",
                  "metadata"}
_TOP_TESTS = {"description", "providers", "tests", "defaultTest", "evaluateOptions", "tags", "metadata"}

# promptfoo provider prefixes and the promptls provider kind each maps to
_KIND_OF_PREFIX = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama", "google": "gemini",
                   "vertex": "gemini", "gemini": "gemini"}
_API_OF_KIND = {"openai": {"chat"}, "anthropic": {"messages"}, "ollama": {"chat"}, "gemini": set()}


def parse_provider_id(ref: str) -> tuple[str | None, str | None, str | None]:
    """`(kind, model, problem)` for a provider id. Kind None with no problem: not a promptfoo id (a configured
    provider name, `kind/model` or a bare model id, resolved against the settings later)."""
    if ":" not in ref:
        return None, None, None
    prefix, _, rest = ref.partition(":")
    kind = _KIND_OF_PREFIX.get(prefix)
    if kind is None:
        return None, None, (f"provider '{ref}': promptls runs openai:, anthropic:, ollama: and google:/vertex: "
                            "providers (or a provider name from promptls.toml)")
    api, sep, model = rest.partition(":")
    if sep and api in ("chat", "messages", "completion", "responses"):
        if api not in _API_OF_KIND[kind]:
            wanted = ", ".join(f"{prefix}:{a}:MODEL" for a in sorted(_API_OF_KIND[kind])) or f"{prefix}:MODEL"
            return None, None, f"provider '{ref}': the {api} API is not supported; use {wanted}"
    else:
        model = rest
    if not model:
        return None, None, f"provider '{ref}' names no model"
    return kind, model, None


class _Reader:
    """Reads one YAML file, collecting findings with lines."""

    def __init__(self, path: str, lines: dict[tuple[Any, ...], int]) -> None:
        self.path = path
        self.lines = lines
        self.findings: list[Finding] = []
        self.base = Path(path).resolve().parent

    def line(self, where: tuple[Any, ...]) -> int:
        return yamlpos.line_of(self.lines, where)

    def error(self, where: tuple[Any, ...], msg: str) -> None:
        self.findings.append(Finding(self.path, self.line(where), "error", msg))

    def warn(self, where: tuple[Any, ...], msg: str) -> None:
        self.findings.append(Finding(self.path, self.line(where), "warning", msg))

    def unknown(self, table: dict[str, Any], known: set[str], where: tuple[Any, ...], what: str) -> None:
        for key in table:
            if key not in known:
                self.warn((*where, key), f"{what} key '{key}' is not supported by promptls eval and is ignored")

    # -- files referenced with file:// ---------------------------------------------------------------------
    def file_ref(self, value: str) -> Path:
        return (self.base / value[len("file://"):]).resolve()

    def load_value(self, value: Any, where: tuple[Any, ...]) -> Any:
        """A `file://` value read (JSON/YAML parsed, else text); other values as they are."""
        if not (isinstance(value, str) and value.startswith("file://")):
            return value
        p = self.file_ref(value)
        try:
            text = p.read_text("utf-8")
        except OSError as exc:
            self.error(where, f"cannot read {value}: {exc.strerror or exc}")
            return None
        if p.suffix == ".json":
            try:
                return json.loads(text)
            except ValueError as exc:
                self.error(where, f"{value} is not valid JSON: {exc}")
                return None
        if p.suffix in (".yaml", ".yml"):
            try:
                return yamlpos.load(text)[0]
            except yamlpos.YamlError as exc:
                self.error(where, f"{value}: {exc}")
                return None
        return text

    # -- providers -----------------------------------------------------------------------------------------
    def providers(self, value: Any, where: tuple[Any, ...]) -> list[TargetSpec]:
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if isinstance(value, dict) and "id" not in value:  # {"openai:gpt-4o": {config...}, ...}
            items = [{"id": k, **(v if isinstance(v, dict) else {})} for k, v in value.items()]
        out = []
        for i, item in enumerate(items):
            w = (*where, i) if isinstance(value, list) else where
            spec = self.provider(item, w)
            if spec is not None:
                out.append(spec)
        return out

    def provider(self, item: Any, where: tuple[Any, ...]) -> TargetSpec | None:
        if isinstance(item, str):
            spec = TargetSpec(ref=item, line=self.line(where), path=self.path)
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            self.unknown(item, _PROVIDER_KEYS, where, "provider")
            spec = TargetSpec(ref=item["id"], label=item.get("label") if isinstance(item.get("label"), str) else None,
                              line=self.line(where), path=self.path)
            cfg = item.get("config")
            if cfg is not None and not isinstance(cfg, dict):
                self.error((*where, "config"), "provider config must be a mapping")
            for key, val in (cfg or {}).items():
                w = (*where, "config", key)
                if key == "apiKey":
                    self.error(w, "keys never go in a file: name an environment variable with apiKeyEnvar")
                elif key not in _PROVIDER_CONFIG:
                    self.warn(w, f"provider config key '{key}' is not supported by promptls eval and is ignored "
                                 f"(supported: {', '.join(_PROVIDER_CONFIG)})")
                elif key in ("temperature", "max_tokens"):
                    if isinstance(val, bool) or not isinstance(val, int | float) or val < 0:
                        self.error(w, f"'{key}' must be a non-negative number, got {val!r}")
                    elif key == "max_tokens":
                        spec.max_tokens = int(val)
                    else:
                        spec.temperature = float(val)
                elif not isinstance(val, str) or not val:
                    self.error(w, f"'{key}' must be a string, got {val!r}")
                else:
                    setattr(spec, _PROVIDER_CONFIG[key], val)
        else:
            self.error(where, "a provider is an id string or a mapping with an 'id'")
            return None
        _kind, _model, problem = parse_provider_id(spec.ref or "")
        if problem:
            self.error(where, problem)
            return None
        return spec

    # -- prompts -------------------------------------------------------------------------------------------
    def prompts(self, value: Any, where: tuple[Any, ...]) -> list[PromptSpec]:
        items = value if isinstance(value, list) else [value]
        out: list[PromptSpec] = []
        for i, item in enumerate(items):
            w = (*where, i) if isinstance(value, list) else where
            label = None
            if isinstance(item, dict):
                self.unknown(item, {"id", "label", "raw", "file"}, w, "prompt")
                label = item.get("label")
                item = item.get("raw") if "raw" in item else item.get("id", item.get("file"))
            if not isinstance(item, str):
                self.error(w, "a prompt is a string (file://path or the prompt text) or a mapping with raw/id")
                continue
            if item.startswith("file://"):
                ref = item[len("file://"):]
                if ref.endswith((".js", ".ts", ".py", ".cjs", ".mjs")) or re.search(r"\.(js|ts|py):\w+$", ref):
                    self.error(w, f"prompt {item}: prompts generated by code are not supported (promptls renders "
                                  "prompt files and templates)")
                    continue
                paths = sorted(globmod.glob(str(self.base / ref))) if any(c in ref for c in "*?[") \
                    else [str(self.base / ref)]
                if not paths:
                    self.error(w, f"prompt {item}: no file matches")
                for p in paths:
                    try:
                        text = Path(p).read_text("utf-8")
                    except OSError as exc:
                        self.error(w, f"cannot read prompt {item}: {exc.strerror or exc}")
                        continue
                    if p.endswith(".json"):
                        self.error(w, f"prompt {item}: JSON chat prompts are not supported; write the messages "
                                      "as a .prompt or .prompty file")
                        continue
                    out.append(PromptSpec(label or os.path.relpath(p), p, text, self.line(w)))
            else:
                # Inline text: promptfoo renders it with Nunjucks, which Jinja2 reads the same for `{{ var }}`.
                name = str(self.base / f"{Path(self.path).stem}.prompt{len(out) + 1}.txt")
                out.append(PromptSpec(label or _short(item), name, item, self.line(w)))
        return out

    # -- cases ---------------------------------------------------------------------------------------------
    def asserts(self, value: Any, where: tuple[Any, ...]) -> list[Assertion]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(where, "'assert' must be a list of assertions")
            return []
        out = []
        for i, item in enumerate(value):
            a = self.assertion(item, (*where, i))
            if a is not None:
                out.append(a)
        return out

    def assertion(self, item: Any, where: tuple[Any, ...]) -> Assertion | None:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            self.error(where, "an assertion is a mapping with a 'type'")
            return None
        self.unknown(item, _ASSERT_KEYS, where, "assertion")
        raw = item["type"]
        negate = raw.startswith("not-")
        base = raw[4:] if negate else raw
        if base not in ASSERT_TYPES:
            hint = " (write it as an `expr` assertion: a Python expression over `output`)" \
                if base == "javascript" else ""
            self.error((*where, "type"), f"assertion type '{raw}' is not supported{hint}; supported: "
                                         f"{', '.join(sorted(ASSERT_TYPES))} and their not- forms")
            return None
        if negate and base in METRIC_TYPES:
            self.error((*where, "type"), f"'{raw}': {base} takes a threshold, it has no not- form")
            return None
        a = Assertion(type=base, negate=negate, line=self.line(where), path=self.path)
        a.value = self.load_value(item.get("value"), (*where, "value"))
        if base in ("python",) and isinstance(item.get("value"), str) and item["value"].startswith("file://"):
            self.error((*where, "value"), "python assertions from files are not supported: promptls evaluates "
                                          "inline expressions only (no arbitrary code)")
            return None
        for key in ("threshold", "weight"):
            v = item.get(key)
            if v is not None:
                if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                    self.error((*where, key), f"'{key}' must be a non-negative number, got {v!r}")
                else:
                    setattr(a, key, float(v))
        if isinstance(item.get("metric"), str):
            a.metric = item["metric"]
        if item.get("provider") is not None:
            if base != "llm-rubric":
                self.warn((*where, "provider"), f"'provider' only applies to llm-rubric, not {base}")
            else:
                a.provider = self.provider(item["provider"], (*where, "provider"))
        self._check_value(a, (*where,))
        return a

    def _check_value(self, a: Assertion, where: tuple[Any, ...]) -> None:
        v = a.value
        if a.type in METRIC_TYPES:
            if a.threshold is None and not (a.type == "tokens" and isinstance(v, dict | int)):
                unit = {"cost": "USD", "latency": "ms", "tokens": "tokens"}[a.type]
                self.error(where, f"'{a.type}' needs a threshold ({unit})")
        elif a.type in LIST_TYPES:
            if isinstance(v, str):
                a.value = [s.strip() for s in v.split(",") if s.strip()]
            elif not (isinstance(v, list) and all(isinstance(s, str | int | float) for s in v)):
                self.error((*where, "value"), f"'{a.label}' needs a list of strings")
        elif a.type == "regex":
            try:
                re.compile(str(v))
            except re.error as exc:
                self.error((*where, "value"), f"invalid regular expression: {exc}")
        elif a.type in EXPR_TYPES:
            if not isinstance(v, str):
                self.error((*where, "value"), f"'{a.label}' needs an expression string")
            else:
                try:
                    compile_expr(v)
                except ExprError as exc:
                    self.error((*where, "value"), f"expression: {exc}")
        elif a.type == "json-schema":
            if not isinstance(v, dict):
                self.error((*where, "value"), "'json-schema' needs a schema (a mapping, or file://schema.json)")
        elif a.type in ("is-json", "contains-json") and v is not None and not isinstance(v, dict):
            self.error((*where, "value"), f"'{a.type}' takes an optional JSON Schema mapping as its value")
        elif a.type == "llm-rubric" and not isinstance(v, str):
            self.error((*where, "value"), "'llm-rubric' needs the rubric text")
        elif a.type in ("contains", "icontains", "starts-with") and v is None:
            self.error((*where, "value"), f"'{a.type}' needs a value")
        if a.type in TEXT_TYPES | EXPR_TYPES | {"llm-rubric"} and a.threshold is not None and a.type != "llm-rubric":
            self.warn(where, f"'threshold' does not apply to {a.type} and is ignored")

    def vars(self, value: Any, where: tuple[Any, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(where, "'vars' must be a mapping of name: value")
            return {}
        return {str(k): self.load_value(v, (*where, k)) for k, v in value.items()}

    def case(self, item: Any, where: tuple[Any, ...], default: dict[str, Any], index: int) -> Case | None:
        if not isinstance(item, dict):
            self.error(where, "a test case is a mapping (vars, assert, description)")
            return None
        self.unknown(item, _CASE_KEYS, where, "test case")
        opts = item.get("options")
        if isinstance(opts, dict):
            self.unknown(opts, set(), (*where, "options"), "test option")
        vars_ = {**default.get("vars", {}), **self.vars(item.get("vars"), (*where, "vars"))}
        asserts = [*default.get("assert", []), *self.asserts(item.get("assert"), (*where, "assert"))]
        threshold = item.get("threshold", default.get("threshold"))
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
            self.error((*where, "threshold"), f"'threshold' must be a number, got {threshold!r}")
            threshold = None
        desc = item.get("description")
        provider = self.provider(item["provider"], (*where, "provider")) if item.get("provider") else None
        return Case(description=str(desc) if desc else _case_name(vars_, index), vars=vars_, asserts=asserts,
                    threshold=None if threshold is None else float(threshold), provider=provider,
                    line=self.line(where), path=self.path)

    def default_test(self, value: Any, where: tuple[Any, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if isinstance(value, str) and value.startswith("file://"):
            value = self.load_value(value, where)
        if not isinstance(value, dict):
            self.error(where, "'defaultTest' must be a mapping")
            return {}
        self.unknown(value, _DEFAULT_KEYS, where, "defaultTest")
        if isinstance(value.get("options"), dict):
            self.unknown(value["options"], set(), (*where, "options"), "defaultTest option")
        return {"vars": self.vars(value.get("vars"), (*where, "vars")),
                "assert": self.asserts(value.get("assert"), (*where, "assert")),
                "threshold": value.get("threshold")}

    def cases(self, value: Any, where: tuple[Any, ...], default: dict[str, Any]) -> list[Case]:
        if value is None:
            return []
        if isinstance(value, str):
            loaded = self.load_value(value, where) if value.startswith("file://") and value.endswith(
                (".yaml", ".yml", ".json")) else None
            if loaded is None:
                self.error(where, f"tests '{value}': promptls reads tests inline or from a file://*.yaml/.json list "
                                  "(CSV, code and dataset sources are not supported)")
                return []
            value = loaded
        if not isinstance(value, list):
            self.error(where, "'tests' must be a list of test cases")
            return []
        return [c for i, item in enumerate(value) if (c := self.case(item, (*where, i), default, i)) is not None]

    def options(self, value: Any, where: tuple[Any, ...], suite: Suite) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.error(where, "'evaluateOptions' must be a mapping")
            return
        self.unknown(value, {"maxConcurrency", "repeat"}, where, "evaluateOptions")
        for key, attr in (("maxConcurrency", "concurrency"), ("repeat", "repeat")):
            v = value.get(key)
            if v is not None:
                if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
                    setattr(suite, attr, v)
                else:
                    self.error((*where, key), f"'{key}' must be a whole number >= 1, got {v!r}")


def _short(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= 40 else one[:37] + "..."


def _case_name(vars_: dict[str, Any], index: int) -> str:
    if not vars_:
        return f"case {index + 1}"
    return _short(", ".join(f"{k}={v}" for k, v in vars_.items()))


def _read_yaml(path: str, text: str | None = None) -> tuple[Any, _Reader | None, list[Finding]]:
    if text is None:
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return None, None, [Finding(path, 1, "error", f"cannot read: {exc}")]
    try:
        data, lines = yamlpos.load(text)
    except yamlpos.YamlError as exc:
        return None, None, [Finding(path, exc.line, "error", f"invalid YAML: {exc}")]
    rd = _Reader(path, lines)
    if not isinstance(data, dict):
        return None, None, [Finding(path, 1, "error", "expected a mapping at the top level")]
    return data, rd, []


def prompt_beside(tests_path: str) -> str | None:
    """The prompt file a `NAME.tests.yaml` belongs to: `NAME.prompt`, `NAME.prompty`, `NAME.j2`, ..."""
    p = Path(tests_path)
    stem = next((p.name[: -len(s)] for s in TESTS_SUFFIXES if p.name.endswith(s)), None)
    if stem is None:
        return None
    for suffix in PROMPT_SUFFIXES:
        cand = p.with_name(stem + suffix)
        if cand.is_file():
            return str(cand)
    return None


def load_tests_file(path: str, text: str | None = None) -> Suite:
    """A `NAME.tests.yaml`: cases for the prompt file beside it (`text`: the file's unsaved text, if any)."""
    data, rd, findings = _read_yaml(path, text)
    suite = Suite(path, [], [], [], findings=findings)
    if rd is None:
        return suite
    rd.unknown(data, _TOP_TESTS, (), "tests file")
    prompt = prompt_beside(path)
    if prompt is None:
        rd.error((), f"no prompt file beside {Path(path).name} (expected {Path(path).name.split('.tests.')[0]}"
                     f"{{{','.join(PROMPT_SUFFIXES)}}})")
    else:
        try:
            suite.prompts = [PromptSpec(os.path.relpath(prompt), prompt, Path(prompt).read_text("utf-8"), 1)]
        except (OSError, UnicodeDecodeError) as exc:
            rd.error((), f"cannot read {prompt}: {exc}")
    suite.targets = rd.providers(data.get("providers"), ("providers",)) or [TargetSpec(ref=None, path=path)]
    default = rd.default_test(data.get("defaultTest"), ("defaultTest",))
    suite.cases = rd.cases(data.get("tests"), ("tests",), default)
    rd.options(data.get("evaluateOptions"), ("evaluateOptions",), suite)
    if not suite.cases and "tests" not in data:
        rd.error((), "no 'tests' in the file")
    suite.findings = rd.findings
    return suite


def load_promptfoo(path: str, text: str | None = None) -> Suite:
    """A promptfoo configuration, as its documentation writes them."""
    data, rd, findings = _read_yaml(path, text)
    suite = Suite(path, [], [], [], findings=findings)
    if rd is None:
        return suite
    rd.unknown(data, _TOP_PROMPTFOO, (), "config")
    if "prompts" not in data:
        rd.error((), "no 'prompts' in the config")
    else:
        suite.prompts = rd.prompts(data["prompts"], ("prompts",))
    if not data.get("providers"):
        rd.error((), "no 'providers' in the config")
    else:
        suite.targets = rd.providers(data["providers"], ("providers",))
    default = rd.default_test(data.get("defaultTest"), ("defaultTest",))
    suite.cases = rd.cases(data.get("tests"), ("tests",), default)
    if "tests" not in data:
        # promptfoo runs each prompt once with defaultTest alone when there are no tests
        suite.cases = [Case("default", dict(default.get("vars", {})), list(default.get("assert", [])),
                            line=1, path=path)]
    rd.options(data.get("evaluateOptions"), ("evaluateOptions",), suite)
    suite.findings = rd.findings
    return suite


def is_promptfoo(path: str) -> bool:
    return Path(path).name in PROMPTFOO_NAMES or (
        path.endswith((".yaml", ".yml")) and not path.endswith(TESTS_SUFFIXES))


def load_path(path: str, text: str | None = None) -> Suite:
    return load_tests_file(path, text) if path.endswith(TESTS_SUFFIXES) else load_promptfoo(path, text)


_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build"}


def discover(paths: list[str]) -> tuple[list[str], list[str]]:
    """Case files under `paths` (files, folders): `*.tests.yaml` and promptfoo configs; and problems."""
    found: dict[str, None] = {}
    problems: list[str] = []
    for raw in paths or ["."]:
        if os.path.isdir(raw):
            for root, dirs, files in os.walk(raw):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
                for f in sorted(files):
                    if f.endswith(TESTS_SUFFIXES) or f in PROMPTFOO_NAMES:
                        found[os.path.normpath(os.path.join(root, f))] = None
        elif os.path.isfile(raw):
            if raw.endswith(TESTS_SUFFIXES) or raw.endswith((".yaml", ".yml")):
                found[os.path.normpath(raw)] = None
            elif (tests := next((raw.rsplit(".", 1)[0] + s for s in TESTS_SUFFIXES
                                 if os.path.isfile(raw.rsplit(".", 1)[0] + s)), None)) is not None:
                found[os.path.normpath(tests)] = None  # a prompt file: its cases
            else:
                problems.append(f"{raw}: not a case file (NAME.tests.yaml or a promptfoo config)")
        else:
            problems.append(f"{raw}: no such file or folder")
    if not found and not problems:
        problems.append(f"no case files (*.tests.yaml, promptfooconfig.yaml) under {', '.join(paths or ['.'])}")
    return list(found), problems
