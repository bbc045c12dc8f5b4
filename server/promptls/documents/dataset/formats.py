"""Fine-tuning example formats: detect which one a parsed JSONL line is, validate it, and collect its texts.

One pass over an example does both jobs, because datasets are large: `validate` appends `Issue`s (rule code,
message, and the JSON path of the offending key or value, located in the raw line later and only when there
are issues) and returns an `Example` with the texts to count and the framing tokens already known.

Formats: OpenAI chat (`messages`), OpenAI preference/DPO (`input`, `preferred_output`,
`non_preferred_output`), prompt/completion and Alpaca (`instruction`, `input`, `output`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from promptls.core.secrets import redact

CHAT: Final = "chat"
PREFERENCE: Final = "preference"
PROMPT_COMPLETION: Final = "prompt-completion"
ALPACA: Final = "alpaca"
UNKNOWN: Final = "unknown"
FORMATS: Final = (CHAT, PREFERENCE, PROMPT_COMPLETION, ALPACA)

ROLES: Final = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_PLAIN_ROLES = frozenset({"system", "developer", "user", "assistant"})  # need nothing besides role and content
_CHAT_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
_PREFERENCE_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
_PREFERENCE_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
_PROMPT_KEYS = frozenset({"prompt", "completion"})
_ALPACA_KEYS = frozenset({"instruction", "input", "output"})
_MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "function_call", "tool_call_id", "refusal"}
)
_ASSISTANT_ONLY = ("weight", "tool_calls", "function_call", "refusal")
_PART_KEYS = {"text": frozenset({"type", "text"}), "image_url": frozenset({"type", "image_url"})}

Path = tuple[str | int, ...]
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False)


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem in one example. `path` leads to the key (`at_key`) or value to underline; () is the line."""

    code: str
    message: str
    path: Path = ()
    at_key: bool = False


@dataclass(frozen=True, slots=True)
class Framing:
    """Tokens the chat format adds that need no tokenizer call per example: per message, per name, the reply
    priming, and the (few) role words, counted once each."""

    per_message: int
    per_name: int
    reply_priming: int
    role_tokens: Callable[[str], int]


@dataclass(slots=True)
class Example:
    """What counting needs from one example: the texts to tokenise and the tokens already known."""

    texts: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)  # texts most examples share (system prompts, tools)
    extra_tokens: int = 0
    approximate: bool = False  # images, tool calls or tool definitions: counted as text, not as billed
    system: str | None = None  # the first system prompt, canonicalised
    system_path: Path = ()


def quote(value: object, limit: int = 40) -> str:
    """A key or value for a finding message: short, repr-quoted, never carrying an API key."""
    text = redact(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:1000])
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def type_name(value: object) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def canonical(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, ASCII), so that equal examples hash equal however written."""
    return _CANONICAL.encode(value)


def detect(obj: dict[str, Any]) -> str | None:
    """The format a JSON object's keys say it is in, or None when it has none of the formats' keys."""
    if "messages" in obj:
        return CHAT
    if "preferred_output" in obj or "non_preferred_output" in obj or isinstance(obj.get("input"), dict):
        return PREFERENCE
    if "prompt" in obj or "completion" in obj:
        return PROMPT_COMPLETION
    if "instruction" in obj or "output" in obj:
        return ALPACA
    return None


def validate(fmt: str, obj: dict[str, Any], framing: Framing, issues: list[Issue]) -> Example:
    """Check `obj` as an example of `fmt`, appending issues; return its texts for counting."""
    example = Example()
    if fmt == CHAT:
        _chat(obj, framing, issues, example)
    elif fmt == PREFERENCE:
        _preference(obj, framing, issues, example)
    elif fmt == PROMPT_COMPLETION:
        _prompt_completion(obj, issues, example)
    elif fmt == ALPACA:
        _alpaca(obj, issues, example)
    return example


# -- shared pieces ---------------------------------------------------------------------------------------------
def _unknown_keys(obj: dict[str, Any], allowed: frozenset[str], where: Path, what: str, issues: list[Issue]) -> None:
    if obj.keys() <= allowed:
        return
    for key in obj:
        if key not in allowed:
            issues.append(Issue("DS004", f"unknown key {quote(key)} in {what}", (*where, key), True))


def _wrong_type(path: Path, what: str, expected: str, value: object) -> Issue:
    return Issue("DS002", f"{what} must be {expected}, not {type_name(value)}", path)


def _string_field(obj: dict[str, Any], key: str, where: Path, issues: list[Issue], *, required: bool) -> str | None:
    value = obj.get(key)
    if type(value) is str:
        return value
    if key not in obj:
        if required:
            issues.append(Issue("DS003", f"missing required field `{key}`", where))
    else:
        issues.append(_wrong_type((*where, key), f"`{key}`", "a string", value))
    return None


def _is_blank(text: str) -> bool:
    return not text or text.isspace()


# -- chat ----------------------------------------------------------------------------------------------------
def _chat(obj: dict[str, Any], framing: Framing, issues: list[Issue], example: Example) -> None:
    _unknown_keys(obj, _CHAT_KEYS, (), "a chat example", issues)
    if "messages" not in obj:
        issues.append(Issue("DS003", "missing required field `messages`"))
        return
    _tool_definitions(obj, (), issues, example)
    assistants = _messages(obj["messages"], ("messages",), framing, issues, example)
    if assistants is None:
        return
    total, weighted_out = assistants
    if total == 0:
        issues.append(Issue("DS007", "no assistant message: training learns only from assistant turns",
                            ("messages",), True))
    elif total == weighted_out:
        issues.append(Issue("DS007", "every assistant message has `weight: 0`: nothing to learn from",
                            ("messages",), True))
    example.extra_tokens += framing.reply_priming


def _tool_definitions(obj: dict[str, Any], where: Path, issues: list[Issue], example: Example) -> None:
    for key in ("tools", "functions"):
        if key not in obj:
            continue
        value = obj[key]
        if type(value) is not list:
            issues.append(_wrong_type((*where, key), f"`{key}`", "an array", value))
            continue
        for i, item in enumerate(value):
            if type(item) is not dict:
                issues.append(_wrong_type((*where, key, i), f"`{key}[{i}]`", "an object", item))
        if value:
            # The service renders definitions into a hidden system text we cannot reproduce: count the JSON.
            example.repeated.append(canonical(value))
            example.approximate = True
    if "parallel_tool_calls" in obj and type(obj["parallel_tool_calls"]) is not bool:
        value = obj["parallel_tool_calls"]
        issues.append(_wrong_type((*where, "parallel_tool_calls"), "`parallel_tool_calls`", "a boolean", value))


def _messages(value: object, where: Path, framing: Framing, issues: list[Issue],
              example: Example) -> tuple[int, int] | None:
    """Validate a message list; returns (assistant messages, those with weight 0), or None if not a list."""
    if type(value) is not list:
        issues.append(_wrong_type(where, f"`{where[-1]}`", "an array of messages", value))
        return None
    if not value:
        issues.append(Issue("DS003", f"`{where[-1]}` is empty", where))
        return None
    assistants = weighted_out = 0
    texts, per_message, role_tokens = example.texts, framing.per_message, framing.role_tokens
    for i, message in enumerate(value):
        if type(message) is dict and len(message) == 2:
            # The common message, exactly {"role": <plain role>, "content": <non-blank text>}: nothing to report.
            role, content = message.get("role"), message.get("content")
            if (type(content) is str and type(role) is str and role in _PLAIN_ROLES and content
                    and not content.isspace()):
                example.extra_tokens += per_message + role_tokens(role)
                if role == "assistant":
                    assistants += 1
                elif role == "system":
                    example.repeated.append(content)
                    if example.system is None:
                        example.system, example.system_path = content, (*where, i, "content")
                    continue
                texts.append(content)
                continue
        path = (*where, i)
        if type(message) is not dict:
            issues.append(_wrong_type(path, f"message {i + 1}", "an object", message))
            continue
        role = _message(message, path, framing, issues, example)
        if role == "assistant":
            assistants += 1
            if message.get("weight") == 0:
                weighted_out += 1
    return assistants, weighted_out


def _message(message: dict[str, Any], path: Path, framing: Framing, issues: list[Issue],
             example: Example) -> str | None:
    """Validate one message and collect its texts; returns its role when that is a known one."""
    _unknown_keys(message, _MESSAGE_KEYS, path, "a message", issues)
    role = message.get("role")
    known_role: str | None = None
    if type(role) is not str:
        if "role" not in message:
            issues.append(Issue("DS003", "message without `role`", path))
        else:
            issues.append(_wrong_type((*path, "role"), "`role`", "a string", role))
    elif role not in ROLES:
        issues.append(Issue("DS005", f"unknown role {quote(role)}: use system, developer, user, assistant, tool "
                                     "or function", (*path, "role")))
    else:
        known_role = role
    example.extra_tokens += framing.per_message + (framing.role_tokens(role) if type(role) is str else 0)
    if known_role is not None and known_role != "assistant":
        for key in _ASSISTANT_ONLY:
            if key in message:
                issues.append(Issue("DS004", f"`{key}` is only allowed on assistant messages", (*path, key), True))
    calls = _tool_calls(message, path, issues, example)
    _content(message, path, known_role, calls, issues, example)
    _extra_fields(message, path, known_role, framing, issues, example)
    if known_role == "system" and example.system is None and type(message.get("content")) in (str, list):
        content = message["content"]
        example.system = content if type(content) is str else canonical(content)
        example.system_path = (*path, "content")
    return known_role


def _content(message: dict[str, Any], path: Path, role: str | None, calls: bool, issues: list[Issue],
             example: Example) -> None:
    content = message.get("content")
    if content is None:
        if not (role == "assistant" and calls):
            what = "assistant message without `content`, `tool_calls` or `function_call`" if role == "assistant" \
                else "message without `content`"
            issues.append(Issue("DS006", what, path))
        return
    if type(content) is str:
        if _is_blank(content) and not calls:
            issues.append(Issue("DS010", "content is empty or whitespace only", (*path, "content")))
        (example.repeated if role == "system" else example.texts).append(content)
        return
    if type(content) is not list:
        issues.append(_wrong_type((*path, "content"), "`content`", "a string or an array of parts", content))
        return
    if not _parts(content, (*path, "content"), issues, example) and not calls:
        issues.append(Issue("DS010", "content has no text and no image", (*path, "content")))


def _parts(parts: list[Any], where: Path, issues: list[Issue], example: Example) -> bool:
    """Validate content parts; True when some part carries non-blank text or an image."""
    substantial = False
    for i, part in enumerate(parts):
        path = (*where, i)
        if type(part) is not dict:
            issues.append(_wrong_type(path, f"content part {i + 1}", "an object", part))
            continue
        kind = part.get("type")
        if type(kind) is not str or kind not in _PART_KEYS:
            message = f"content part type {quote(kind)} is not `text` or `image_url`" if "type" in part \
                else "content part without `type`"
            issues.append(Issue("DS002" if "type" in part else "DS003", message, path))
            continue
        _unknown_keys(part, _PART_KEYS[kind], path, f"a {kind} part", issues)
        if kind == "text":
            text = _string_field(part, "text", path, issues, required=True)
            if text is not None:
                example.texts.append(text)
                substantial = substantial or not _is_blank(text)
        else:
            image = part.get("image_url")
            if type(image) is not dict:
                if "image_url" not in part:
                    issues.append(Issue("DS003", "image part without `image_url`", path))
                else:
                    issues.append(_wrong_type((*path, "image_url"), "`image_url`", "an object", image))
            elif _string_field(image, "url", (*path, "image_url"), issues, required=True) is not None:
                substantial = True
            example.approximate = True  # image tokens depend on the image's size and detail setting
    return substantial


def _tool_calls(message: dict[str, Any], path: Path, issues: list[Issue], example: Example) -> bool:
    """Validate `tool_calls`/`function_call`; True when the message calls something."""
    calls = False
    if "tool_calls" in message:
        value = message["tool_calls"]
        if type(value) is not list:
            issues.append(_wrong_type((*path, "tool_calls"), "`tool_calls`", "an array", value))
        else:
            for i, call in enumerate(value):
                call_path = (*path, "tool_calls", i)
                if type(call) is not dict:
                    issues.append(_wrong_type(call_path, f"tool call {i + 1}", "an object", call))
                    continue
                if "function" not in call:
                    issues.append(Issue("DS003", "tool call without `function`", call_path))
                    continue
                calls = _function(call["function"], (*call_path, "function"), issues, example) or calls
    if "function_call" in message:
        calls = _function(message["function_call"], (*path, "function_call"), issues, example) or calls
    return calls


def _function(value: object, path: Path, issues: list[Issue], example: Example) -> bool:
    if type(value) is not dict:
        issues.append(_wrong_type(path, f"`{path[-1]}`", "an object", value))
        return False
    name = _string_field(value, "name", path, issues, required=True)
    arguments = _string_field(value, "arguments", path, issues, required=True)
    example.texts.extend(text for text in (name, arguments) if text)
    example.approximate = True
    return name is not None


def _extra_fields(message: dict[str, Any], path: Path, role: str | None, framing: Framing, issues: list[Issue],
                  example: Example) -> None:
    if "name" in message:
        name = _string_field(message, "name", path, issues, required=False)
        if name is not None:
            example.texts.append(name)
            example.extra_tokens += framing.per_name
    elif role == "function":
        issues.append(Issue("DS003", "function message without `name`", path))
    if "weight" in message:
        weight = message["weight"]
        if type(weight) is not int or weight not in (0, 1):
            issues.append(Issue("DS002", f"`weight` must be 0 or 1, not {quote(weight)}", (*path, "weight")))
    if role == "tool":
        _string_field(message, "tool_call_id", path, issues, required=True)
    elif "tool_call_id" in message and role is not None:
        issues.append(Issue("DS004", "`tool_call_id` is only allowed on tool messages", (*path, "tool_call_id"),
                            True))
    if "refusal" in message and message["refusal"] is not None and type(message["refusal"]) is not str:
        issues.append(_wrong_type((*path, "refusal"), "`refusal`", "a string or null", message["refusal"]))


# -- preference (DPO) ------------------------------------------------------------------------------------------
def _preference(obj: dict[str, Any], framing: Framing, issues: list[Issue], example: Example) -> None:
    _unknown_keys(obj, _PREFERENCE_KEYS, (), "a preference example", issues)
    given = obj.get("input")
    if type(given) is not dict:
        if "input" not in obj:
            issues.append(Issue("DS003", "missing required field `input`"))
        else:
            issues.append(_wrong_type(("input",), "`input`", "an object with `messages`", given))
    else:
        _unknown_keys(given, _PREFERENCE_INPUT_KEYS, ("input",), "`input`", issues)
        _tool_definitions(given, ("input",), issues, example)
        if "messages" not in given:
            issues.append(Issue("DS003", "`input` without `messages`", ("input",)))
        else:
            _messages(given["messages"], ("input", "messages"), framing, issues, example)
    for key in ("preferred_output", "non_preferred_output"):
        if key not in obj:
            issues.append(Issue("DS003", f"missing required field `{key}`"))
            continue
        _output(obj[key], key, framing, issues, example)
    example.extra_tokens += framing.reply_priming


def _output(value: object, key: str, framing: Framing, issues: list[Issue], example: Example) -> None:
    if type(value) is not list:
        issues.append(_wrong_type((key,), f"`{key}`", "an array of assistant messages", value))
        return
    if not value:
        issues.append(Issue("DS007", f"`{key}` is empty: it must hold an assistant message", (key,), True))
        return
    for i, message in enumerate(value):
        path = (key, i)
        if type(message) is not dict:
            issues.append(_wrong_type(path, f"`{key}` message {i + 1}", "an object", message))
            continue
        role = _message(message, path, framing, issues, example)
        if role is not None and role != "assistant":
            issues.append(Issue("DS007", f"`{key}` must hold assistant messages, not {quote(role)}",
                                (*path, "role")))


# -- prompt/completion and Alpaca ------------------------------------------------------------------------------
def _prompt_completion(obj: dict[str, Any], issues: list[Issue], example: Example) -> None:
    _unknown_keys(obj, _PROMPT_KEYS, (), "a prompt/completion example", issues)
    prompt = _string_field(obj, "prompt", (), issues, required=True)
    completion = _string_field(obj, "completion", (), issues, required=True)
    # An empty prompt is a legitimate unconditional example; an empty completion teaches nothing.
    if completion is not None and _is_blank(completion):
        issues.append(Issue("DS010", "`completion` is empty or whitespace only", ("completion",)))
    # The legacy format trains on the two strings concatenated, so they are counted as one text.
    example.texts.append((prompt or "") + (completion or ""))


def _alpaca(obj: dict[str, Any], issues: list[Issue], example: Example) -> None:
    _unknown_keys(obj, _ALPACA_KEYS, (), "an Alpaca example", issues)
    instruction = _string_field(obj, "instruction", (), issues, required=True)
    given = _string_field(obj, "input", (), issues, required=False)  # empty input is normal in Alpaca data
    output = _string_field(obj, "output", (), issues, required=True)
    for key, text in (("instruction", instruction), ("output", output)):
        if text is not None and _is_blank(text):
            issues.append(Issue("DS010", f"`{key}` is empty or whitespace only", (key,)))
    example.texts.append("\n".join(text for text in (instruction, given, output) if text))


# -- parsing one line, sniffing a file ---------------------------------------------------------------------
SNIFF_LINES = 5
_BOM = "\ufeff"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_scan_once = _DECODER.scan_once


def parse_line(text: str) -> Any:
    """The JSON value of one line; raises ValueError (with a readable message) when it is not valid JSON."""
    try:
        value, end = _scan_once(text, 0)
        if end == len(text) or text[end:].isspace():
            return value
    except (StopIteration, ValueError):
        pass
    # The slow path only for lines that need it: leading space, or an error whose message we want.
    return _DECODER.decode(text)


def looks_like_dataset(first_lines: list[str]) -> bool:
    """True when most (at least half) of the first non-empty lines, up to SNIFF_LINES, are JSON objects of a
    fine-tuning format; a broken line among them does not hide a dataset, plain JSON Lines logs are not one."""
    lines = [line for line in (raw.strip().lstrip(_BOM) for raw in first_lines) if line][:SNIFF_LINES]
    known = 0
    for line in lines:
        try:
            obj = parse_line(line)
        except (ValueError, RecursionError):
            continue
        if type(obj) is dict and detect(obj) is not None:
            known += 1
    return known >= 1 and known * 2 >= len(lines)
