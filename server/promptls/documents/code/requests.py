"""What a call site asks the provider for, independent of language and SDK spelling.

Each SDK names the same things differently (`max_tokens`, `max_output_tokens` inside Gemini's `config`,
`maxOutputTokens` in TypeScript, `options.num_predict` for Ollama); `request_of` maps a `CallSite`'s arguments
to one `Request` view that the SD rules, hovers, inlay hints and code actions read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from promptls.documents.code.model import CallSite, Value

# Where the output limit lives, per SDK, in order of preference. Dotted names walk into dict arguments.
_MAX_OUTPUT = {
    "anthropic": ("max_tokens", "max_tokens_to_sample"),
    "openai": ("max_completion_tokens", "max_output_tokens", "max_tokens"),
    "litellm": ("max_completion_tokens", "max_tokens"),
    "gemini": ("config.max_output_tokens", "config.maxOutputTokens", "generation_config.max_output_tokens"),
    "ollama": ("options.num_predict",),
}
_SAMPLING_CONTAINERS = {"gemini": "config", "ollama": "options"}
_CAMEL = {"top_p": "topP", "max_output_tokens": "maxOutputTokens", "system_instruction": "systemInstruction",
          "response_mime_type": "responseMimeType", "response_schema": "responseSchema",
          "response_json_schema": "responseJsonSchema"}


@dataclass(slots=True)
class PromptPart:
    """A piece of prompt text in the request: a system prompt, a message's content, a legacy `prompt`."""

    role: str  # system | developer | user | assistant | tool | prompt | instructions
    value: Value  # the string expression (its span is where the text is written or used)
    text: str  # the known text (static parts only when `value.partial`)

    @property
    def static(self) -> bool:
        return not self.value.partial


@dataclass(slots=True)
class Request:
    model: Value | None = None
    max_output: Value | None = None
    max_output_name: str | None = None  # the parameter as written (`max_tokens`, `maxOutputTokens`, ...)
    temperature: Value | None = None
    top_p: Value | None = None
    system: Value | None = None  # Anthropic `system`, Gemini `system_instruction`, OpenAI Responses `instructions`
    prompts: list[PromptPart] = field(default_factory=list)
    messages_known: bool = False  # every message of the request could be read statically

    @property
    def static_text(self) -> list[tuple[str, str]]:
        return [(p.role, p.text) for p in self.prompts]


def lookup(args: dict[str, Value], dotted: str) -> Value | None:
    """`config.max_output_tokens` walks into a dict-valued argument; None when absent or not a literal dict."""
    head, _, rest = dotted.partition(".")
    v = args.get(head)
    if v is None or not rest:
        return v
    inner = v.value if isinstance(v.value, dict) else None
    if inner is None:
        return None
    return lookup(inner, rest)


def _first(args: dict[str, Value], names: tuple[str, ...]) -> tuple[Value | None, str | None]:
    for n in names:
        v = lookup(args, n)
        if v is not None:
            return v, n.rpartition(".")[2]
    return None, None


def _sampling(site: CallSite, name: str) -> Value | None:
    args = site.args
    container = _SAMPLING_CONTAINERS.get(site.sdk)
    names = [name, _CAMEL.get(name, name)]
    if container:
        names = [f"{container}.{n}" for n in names] + [f"generation_config.{name}"]
    return _first(args, tuple(names))[0]


def request_of(site: CallSite) -> Request:
    args = site.args
    req = Request()
    req.model = args.get("model") or (site.positional[0] if site.sdk in ("litellm",) and site.positional else None)
    req.max_output, req.max_output_name = _first(args, _MAX_OUTPUT.get(site.sdk, ("max_tokens",)))
    req.temperature = _sampling(site, "temperature")
    req.top_p = _sampling(site, "top_p")
    known = True
    if site.sdk == "anthropic":
        req.system = args.get("system")
        known &= _add_text_or_blocks(req, "system", req.system)
        known &= _add_messages(req, args.get("messages"))
        known &= _add_text_or_blocks(req, "prompt", args.get("prompt"))
    elif site.sdk in ("openai", "litellm"):
        req.system = args.get("instructions")
        known &= _add_text_or_blocks(req, "instructions", req.system)
        known &= _add_messages(req, args.get("messages"))
        inp = args.get("input")
        if inp is not None and isinstance(inp.value, list):
            known &= _add_messages(req, inp)
        else:
            known &= _add_text_or_blocks(req, "user", inp)
        known &= _add_text_or_blocks(req, "prompt", args.get("prompt"))
    elif site.sdk == "gemini":
        req.system = lookup(args, "config.system_instruction") or lookup(args, "config.systemInstruction")
        known &= _add_text_or_blocks(req, "system", req.system)
        contents = args.get("contents")
        if contents is not None and isinstance(contents.value, list):
            for item in contents.value:
                if isinstance(item.value, str):
                    _add(req, "user", item)
                elif isinstance(item.value, dict):
                    role = item.get("role")
                    role_name = role.value if role is not None and isinstance(role.value, str) else "user"
                    parts = item.get("parts")
                    for p in parts.value if parts is not None and isinstance(parts.value, list) else []:
                        t = p.get("text") if isinstance(p.value, dict) else p if isinstance(p.value, str) else None
                        if t is not None and isinstance(t.value, str):
                            _add(req, "assistant" if role_name == "model" else role_name, t)
                        else:
                            known = False
                else:
                    known = False
        else:
            known &= _add_text_or_blocks(req, "user", contents)
    elif site.sdk == "ollama":
        known &= _add_messages(req, args.get("messages"))
        req.system = args.get("system")
        known &= _add_text_or_blocks(req, "system", req.system)
        known &= _add_text_or_blocks(req, "prompt", args.get("prompt"))
    req.messages_known = known and bool(req.prompts)
    return req


def _add(req: Request, role: str, v: Value) -> None:
    req.prompts.append(PromptPart(role, v, v.value))


def _add_text_or_blocks(req: Request, role: str, v: Value | None) -> bool:
    """A string, or a list of content blocks (`{"type": "text", "text": ...}`); False when not readable."""
    if v is None:
        return True
    if isinstance(v.value, str):
        _add(req, role, v)
        return not v.partial
    if isinstance(v.value, list):
        ok = True
        for block in v.value:
            if isinstance(block.value, str):
                _add(req, role, block)
                continue
            text = block.get("text") if isinstance(block.value, dict) else None
            if text is not None and isinstance(text.value, str):
                _add(req, role, text)
                ok &= not text.partial
            elif not (isinstance(block.value, dict) and block.get("type") is not None):
                ok = False
        return ok
    return False


def _add_messages(req: Request, v: Value | None) -> bool:
    if v is None:
        return True
    if not isinstance(v.value, list) or v.partial:
        return False
    ok = True
    for msg in v.value:
        if not isinstance(msg.value, dict):
            ok = False
            continue
        role_v = msg.get("role")
        role = role_v.value if role_v is not None and isinstance(role_v.value, str) else "user"
        content = msg.get("content")
        ok &= _add_text_or_blocks(req, role, content) if content is not None else True
    return ok
