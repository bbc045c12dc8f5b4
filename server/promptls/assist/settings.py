"""The `assist` settings table (inline completions, LLM code actions, run-a-prompt), validated with clear messages.

Plain dataclasses like the router's settings; `parse_assist_settings` never raises: bad values keep their
defaults and each problem yields one message naming the key, the value and what is expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promptls.config.sections import Section, declare

RESULT_MODES = ("replace", "insert_below", "new_file", "show")
PLACEHOLDERS = ("selection", "file", "language", "diagnostics", "instruction")


@dataclass(frozen=True, slots=True)
class UserAction:
    """A code action defined in config: its prompt template may use {selection}, {file}, {language},
    {diagnostics} and {instruction}; `mode` says what happens with the answer."""

    title: str
    prompt: str
    mode: str = "replace"
    instruction: str = ""


@dataclass(slots=True)
class AssistSettings:
    #: Answer `textDocument/inlineCompletion`.
    inline: bool = True
    #: Offer LLM `textDocument/completion` items to clients without inline completion (never in prompt files).
    completion_fallback: bool = False
    #: Wait this long after a keystroke before asking a provider (0 turns debouncing off entirely).
    debounce_ms: int = 75
    #: Stretch the debounce to the user's typing rhythm (80th percentile of recent key gaps x 1.25, at most
    #: `debounce_max_ms`), so steady typing asks only when the user pauses.
    adaptive_debounce: bool = True
    debounce_max_ms: int = 400
    #: Token budget of the completion context (prefix + suffix + snippets), counted with the model's tokenizer.
    context_tokens: int = 1536
    #: Share of the prefix/suffix window given to the prefix (the rest goes to the suffix).
    prefix_share: float = 0.75
    #: Share of the whole budget kept for snippets of other open documents and recently edited places.
    snippet_share: float = 0.25
    max_tokens_single: int = 64
    max_tokens_multi: int = 256
    max_lines: int = 12
    prefix_cache_entries: int = 256
    #: Provider names whose backend takes a native `suffix` (fill-in-the-middle); by default the Ollama ones.
    fim_providers: list[str] | None = None
    #: Sample inputs for `promptls.runPrompt` beyond the file's own defaults and examples.
    run_inputs: dict[str, Any] = field(default_factory=dict)
    actions: list[UserAction] = field(default_factory=list)


_INT_KEYS = ("debounce_ms", "debounce_max_ms", "context_tokens", "max_tokens_single", "max_tokens_multi", "max_lines",
             "prefix_cache_entries")
_BOOL_KEYS = ("inline", "completion_fallback", "adaptive_debounce")
_SHARE_KEYS = ("prefix_share", "snippet_share")


def parse_assist_settings(raw: Mapping[str, Any] | None) -> tuple[AssistSettings, list[str]]:
    """Read `assist` from the whole promptls table. Accepts snake_case and camelCase keys (editors send the
    latter)."""
    out = AssistSettings()
    errors: list[str] = []
    table = raw.get("assist") if isinstance(raw, Mapping) else None
    if table is None:
        return out, errors
    if not isinstance(table, Mapping):
        return out, [f"[assist] must be a table, got {type(table).__name__}"]
    for key, value in table.items():
        name = _snake(key)
        where = f"assist.{key}"
        if name in _BOOL_KEYS:
            if isinstance(value, bool):
                setattr(out, name, value)
            else:
                errors.append(f"'{where}' must be true or false, got {value!r}")
        elif name in _INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or int(value) != value:
                errors.append(f"'{where}' must be a whole number >= 0, got {value!r}")
            else:
                setattr(out, name, int(value))
        elif name in _SHARE_KEYS:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                errors.append(f"'{where}' must be a number between 0 and 1, got {value!r}")
            else:
                setattr(out, name, float(value))
        elif name == "fim_providers":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                out.fim_providers = list(value)
            else:
                errors.append(f"'{where}' must be a list of provider names, got {value!r}")
        elif name == "run_inputs":
            if isinstance(value, Mapping):
                out.run_inputs = dict(value)
            else:
                errors.append(f"'{where}' must be a table of input values, got {value!r}")
        elif name == "actions":
            out.actions = _actions(value, where, errors)
        else:
            errors.append(f"[assist] unknown key '{key}'")
    if out.context_tokens < 64:
        errors.append(f"'assist.context_tokens' must be at least 64, got {out.context_tokens}")
        out.context_tokens = AssistSettings.context_tokens
    return out, errors


def _actions(value: Any, where: str, errors: list[str]) -> list[UserAction]:
    if not isinstance(value, list):
        errors.append(f"'{where}' must be a list of tables with title, prompt and mode, got {value!r}")
        return []
    out = []
    for i, item in enumerate(value):
        w = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            errors.append(f"'{w}' must be a table with title, prompt and mode, got {item!r}")
            continue
        title, prompt = item.get("title"), item.get("prompt")
        mode = item.get("mode", "replace")
        instruction = item.get("instruction", "")
        bad = False
        if not isinstance(title, str) or not title.strip():
            errors.append(f"'{w}.title' must be a non-empty string")
            bad = True
        if not isinstance(prompt, str) or not prompt.strip():
            errors.append(f"'{w}.prompt' must be a non-empty string (placeholders: "
                          + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ")")
            bad = True
        if mode not in RESULT_MODES:
            errors.append(f"'{w}.mode' must be one of {', '.join(RESULT_MODES)}, got {mode!r}")
            bad = True
        if not isinstance(instruction, str):
            errors.append(f"'{w}.instruction' must be a string")
            bad = True
        for k in item:
            if k not in ("title", "prompt", "mode", "instruction"):
                errors.append(f"'{w}' unknown key '{k}'")
        if isinstance(prompt, str) and not bad:
            unknown = _unknown_placeholders(prompt)
            if unknown:
                errors.append(f"'{w}.prompt' uses unknown placeholder(s) {', '.join(unknown)}; known: "
                              + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
                bad = True
        if not bad:
            out.append(UserAction(title.strip(), prompt, mode, instruction))
    return out


def _unknown_placeholders(template: str) -> list[str]:
    import string

    found = []
    try:
        for _, name, _, _ in string.Formatter().parse(template):
            if name is not None and name not in PLACEHOLDERS:
                found.append("{" + name + "}")
    except ValueError as exc:
        found.append(f"(bad braces: {exc}; write {{{{ and }}}} for literal braces)")
    return found


def _snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


#: The assist layer's part of the configuration schema (`[assist]`; no JSON Schema yet: editors send camelCase).
SECTION: Section[AssistSettings] = declare(Section("assist", ("assist",), parse_assist_settings, dict))
