"""The language-neutral model of LLM SDK use in a source file: client constructions, call sites and their
arguments as far as static analysis can know them.

Extractors (`python_sites` over `ast`, `ts_sites` over tree-sitter) produce a `CodeDocument`; the SD rules,
hovers, inlay hints and code actions read only this model, so both languages share every rule.
Offsets are Python string offsets (code points) into the whole file, like everywhere in the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptls.core.positions import Span


class _Unknown:
    """The value of an expression static analysis cannot evaluate (a call, an f-string with holes, ...)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True, slots=True)
class Location:
    """A place in another file (or this one): path, 0-based line, code-point columns on that line."""

    path: str
    line: int
    col: int = 0
    end_col: int = 0


@dataclass(slots=True)
class ClientRef:
    """The client a call goes through, as far as it is proven: where and how it was created.

    `endpoint` is "azure" (the `model=` argument names a deployment), "self-hosted" (a vLLM/TGI/Ollama/LM Studio/
    llama.cpp server serving its own ids) or None (the provider's own API)."""

    sdk: str
    callee: str  # the constructor as written where it was created, e.g. "anthropic.Anthropic"
    name: str | None = None  # the variable or function it is known by (`claude`, `make_client`)
    location: Location | None = None  # where it was created (None: in this file, at an unknown place)
    endpoint: str | None = None
    base_url: str | None = None


@dataclass(slots=True)
class Value:
    """One expression in the source and what it evaluates to, when that is knowable.

    `value` holds str/int/float/bool/None for scalars, `list[Value]` for list/array literals,
    `dict[str, Value]` for dict/object literals (string keys only; `{**x}`/spreads make the dict partial),
    and UNKNOWN otherwise. A name bound to a module-level constant resolves to the constant's value, with
    `name` set and `origin` the span of the constant's value expression (where a fix must edit it).
    """

    span: Span  # the expression as written at this place
    value: Any = UNKNOWN
    name: str | None = None  # the constant's name, when resolved through one
    origin: Span | None = None  # where the value is written (the constant's definition), if not here
    partial: bool = False  # dict/list with spreads, or a string with interpolations (value = static parts)
    source: str = ""  # the expression's source text (for rewrites)
    defined_in: Location | None = None  # a constant of another module: where it is written (no fix edits it)

    @property
    def known(self) -> bool:
        return self.value is not UNKNOWN

    @property
    def written_at(self) -> Span:
        return self.origin or self.span

    def get(self, key: str) -> Value | None:
        """A key of a dict value, or None."""
        return self.value.get(key) if isinstance(self.value, dict) else None

    def plain(self) -> Any:
        """The value with nested Values unwrapped (UNKNOWN stays UNKNOWN)."""
        v = self.value
        if isinstance(v, dict):
            return {k: x.plain() for k, x in v.items()}
        if isinstance(v, list):
            return [x.plain() for x in v]
        return v


@dataclass(slots=True)
class ClientInit:
    """A client constructed in the file: `anthropic.Anthropic(...)`, `new OpenAI({...})`, `genai.Client()`..."""

    sdk: str  # "anthropic" | "openai" | "gemini" | "ollama"
    span: Span  # the whole constructor call / new-expression
    callee: str  # as written, e.g. "anthropic.AsyncAnthropic" or "OpenAI"
    args: dict[str, Value]  # keyword arguments (Python) or properties of the options object (TS/JS)
    insert_at: int  # offset where a new argument/property can be inserted
    insert_prefix: str  # text to put before a new argument there: "", ", " (and "{ " ... " }" cases, see edits)
    insert_suffix: str = ""  # text to put after it (e.g. " }" when TS has no options object yet)
    var: str | None = None  # the name it is assigned to (`client`, `self.client`), if any
    has_spread: bool = False  # `**kwargs` / `...opts` among the arguments


@dataclass(slots=True)
class CallSite:
    """One call of an SDK method that talks to a model."""

    sdk: str  # "anthropic" | "openai" | "gemini" | "ollama" | "litellm"
    api: str  # normalised method path, see API_NAMES
    span: Span  # the call expression
    callee_span: Span  # the callee expression (`client.messages.create`)
    method_span: Span  # the last name of the callee (`create`), for `create` -> `stream` rewrites
    args: dict[str, Value]  # keyword arguments (Python) or properties of the first object argument (TS/JS)
    insert_at: int  # offset where a new argument/property can be inserted
    insert_prefix: str  # ", " when other arguments precede the insertion point, else ""
    statement_span: Span  # the whole enclosing statement (line-complete), for rewrites
    indent: str  # the statement's indentation
    receiver: str = ""  # source of the client expression (`client`, `self.client`, `openai`)
    awaited: bool = False  # `await client...` (or inside `async with`)
    assigned_to: str | None = None  # `resp = client.messages.create(...)`: "resp"
    positional: list[Value] = field(default_factory=list)  # positional args (ollama/litellm style; rare)
    has_spread: bool = False  # `**kwargs` / `...opts` among the arguments: absent arguments may still be passed
    insert_suffix: str = ""  # text after a new argument (" }" when a TS/JS call has no options object yet)
    client: ClientRef | None = None  # the proven client the call goes through (None: an SDK module function)
    deployment_model: str | None = None  # Azure: the model `[deployments]` maps this call's deployment to


# Normalised API names, per SDK:
#   anthropic: messages.create, messages.stream, messages.count_tokens, completions.create (legacy Text Completions)
#   openai:    chat.completions.create, chat.completions.parse, chat.completions.stream, responses.create,
#              responses.parse, responses.stream, completions.create (legacy), ChatCompletion.create (pre-1.0),
#              Completion.create (pre-1.0)
#   gemini:    models.generate_content, models.generate_content_stream, models.count_tokens
#              (TS spellings generateContent/generateContentStream/countTokens normalise to these)
#   ollama:    chat, generate
#   litellm:   completion, acompletion
API_NAMES: dict[str, frozenset[str]] = {
    "anthropic": frozenset({"messages.create", "messages.stream", "messages.count_tokens", "completions.create"}),
    "openai": frozenset({"chat.completions.create", "chat.completions.parse", "chat.completions.stream",
                         "responses.create", "responses.parse", "responses.stream", "completions.create",
                         "ChatCompletion.create", "Completion.create"}),
    "gemini": frozenset({"models.generate_content", "models.generate_content_stream", "models.count_tokens"}),
    "ollama": frozenset({"chat", "generate"}),
    "litellm": frozenset({"completion", "acompletion"}),
}


@dataclass(slots=True)
class CodeDocument:
    path: str
    text: str
    language: str  # "python" | "typescript" | "tsx" | "javascript"
    calls: list[CallSite] = field(default_factory=list)
    clients: list[ClientInit] = field(default_factory=list)
    sdks: frozenset[str] = frozenset()  # SDKs imported by the file
    comments: list[tuple[Span, str]] = field(default_factory=list)  # only comments holding "promptls-"
    syntax_error: str | None = None  # the parser's message when the file does not parse (Python)
    import_insert_at: int = 0  # offset after the last top-level import (where a helper/import can go)
    has_os_import: bool = False  # Python: `import os` present
    top_level_names: frozenset[str] = frozenset()  # names defined at module level (to avoid clashes)

    @property
    def dialect(self) -> str:
        return self.language
