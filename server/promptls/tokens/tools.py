"""Tool (function) definitions in tokens, rendered the way each provider documents it.

OpenAI: the OpenAI Cookbook's "How to count tokens with tiktoken", `num_tokens_for_tools` (function name and
description as `name:description`, each property as `name:type:description`, enum items, plus per-function and
per-property constants for the gpt-4o and gpt-4/3.5 families). Anthropic: the tool-use system prompt the API adds
(per model and `tool_choice`, "Tool use system prompt token count" in
https://docs.anthropic.com/en/docs/build-with-claude/tool-use/overview#pricing) plus the definitions themselves,
counted as their JSON (Anthropic does not publish how it renders them). Gemini: no published rendering; the function
declarations' JSON is counted. All of these are estimates; online counts (`[tokens] online`) are exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from promptls.tokens.counter import TokenCounter


@dataclass(frozen=True, slots=True)
class _OpenAIToolConstants:
    func_init: int
    prop_init: int
    prop_key: int
    enum_init: int
    enum_item: int
    func_end: int


# num_tokens_for_tools: gpt-4o and gpt-4o-mini (and, by the same o200k chat format, later models) / gpt-3.5, gpt-4.
_GPT4O = _OpenAIToolConstants(func_init=7, prop_init=3, prop_key=3, enum_init=-3, enum_item=3, func_end=12)
_GPT4 = _OpenAIToolConstants(func_init=10, prop_init=3, prop_key=3, enum_init=-3, enum_item=3, func_end=12)


def _function_of(tool: dict[str, Any]) -> dict[str, Any]:
    """Chat Completions nests the function (`{"type": "function", "function": {...}}`); Responses does not."""
    inner = tool.get("function")
    return inner if isinstance(inner, dict) else tool


def _strip_dot(s: str) -> str:
    return s[:-1] if s.endswith(".") else s


def openai_tool_tokens(tools: list[dict[str, Any]], counter: TokenCounter, model: str = "") -> int:
    """Tokens of OpenAI function definitions (the cookbook's `num_tokens_for_tools`, without the messages)."""
    if not tools:
        return 0
    name = model.lower().rsplit("/", 1)[-1]
    older = name.startswith(("gpt-3.5", "gpt-4")) and not name.startswith(("gpt-4o", "gpt-4."))
    c = _GPT4 if older else _GPT4O
    n = 0
    for tool in tools:
        f = _function_of(tool)
        n += c.func_init
        n += counter.count(f"{f.get('name', '')}:{_strip_dot(str(f.get('description') or ''))}")
        props = ((f.get("parameters") or {}).get("properties") or {}) if isinstance(f.get("parameters"), dict) \
            else {}
        if props:
            n += c.prop_init
            for key, spec in props.items():
                spec = spec if isinstance(spec, dict) else {}
                n += c.prop_key
                if isinstance(spec.get("enum"), list):
                    n += c.enum_init
                    for item in spec["enum"]:
                        n += c.enum_item + counter.count(str(item))
                n += counter.count(f"{key}:{spec.get('type', '')}:{_strip_dot(str(spec.get('description') or ''))}")
    return n + c.func_end


# (auto/none, any/tool) tool-use system prompt tokens, from Anthropic's table; the first matching prefix wins.
_ANTHROPIC_TOOL_PROMPT: tuple[tuple[str, int, int], ...] = (
    ("claude-3-opus", 530, 281),
    ("claude-3-sonnet", 159, 235),
    ("claude-3-haiku", 264, 340),
    ("claude-3-5-haiku", 264, 340),
    ("claude-3-5-sonnet-20240620", 294, 261),
)
_ANTHROPIC_DEFAULT = (346, 313)  # Claude 3.5 Sonnet (Oct 2024), 3.7 Sonnet, and the Claude 4 models


def anthropic_tool_tokens(tools: list[dict[str, Any]], counter: TokenCounter, model: str = "",
                          tool_choice: str | None = None) -> int:
    """The tool-use system prompt for `model` and `tool_choice` plus the definitions' JSON."""
    if not tools:
        return 0
    name = model.lower().rsplit("/", 1)[-1]
    auto, forced = next(((a, f) for prefix, a, f in _ANTHROPIC_TOOL_PROMPT if name.startswith(prefix)),
                        _ANTHROPIC_DEFAULT)
    system = forced if tool_choice in ("any", "tool") else auto
    return system + sum(counter.count(json.dumps(t, ensure_ascii=False, separators=(",", ":"))) for t in tools)


def gemini_tool_tokens(tools: list[dict[str, Any]], counter: TokenCounter) -> int:
    """Gemini publishes no rendering of function declarations: their JSON is counted."""
    return sum(counter.count(json.dumps(t, ensure_ascii=False, separators=(",", ":"))) for t in tools)


def tool_tokens(kind: str, tools: list[dict[str, Any]], counter: TokenCounter, model: str = "",
                tool_choice: str | None = None) -> int:
    """Tokens of `tools` for a provider kind (`openai`, `anthropic`, `gemini`; others are counted as OpenAI's)."""
    tools = [t for t in tools if isinstance(t, dict)]
    if kind == "anthropic":
        return anthropic_tool_tokens(tools, counter, model, tool_choice)
    if kind == "gemini":
        return gemini_tool_tokens(tools, counter)
    return openai_tool_tokens(tools, counter, model)


def tools_from_frontmatter(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Tool definitions a prompt file states (Dotprompt `toolDefs`, Prompty v2 `tools`, Prompty v1
    `model.parameters.tools`) as `{"name", "description", "parameters"}` dicts, and the names of tools it only
    names (Dotprompt `tools: [name]`: defined in code, so not countable from the file)."""
    defs: list[dict[str, Any]] = []
    names: list[str] = []
    model = data.get("model") if isinstance(data.get("model"), dict) else {}
    params = model.get("parameters") if isinstance(model.get("parameters"), dict) else {}
    for source in (data.get("toolDefs"), data.get("tools"), params.get("tools")):
        if not isinstance(source, list):
            continue
        for t in source:
            if isinstance(t, str):
                names.append(t)
            elif isinstance(t, dict):
                f = _function_of(t)
                schema = f.get("parameters", f.get("inputSchema"))
                if isinstance(schema, list):  # Prompty v2: a list of {name, kind, description}
                    schema = {"type": "object", "properties": {
                        str(p.get("name")): {"type": p.get("kind", p.get("type", "string")),
                                             "description": p.get("description", "")}
                        for p in schema if isinstance(p, dict)}}
                defs.append({"name": f.get("name", ""), "description": f.get("description", ""),
                             "parameters": schema if isinstance(schema, dict) else {}})
    return defs, names
