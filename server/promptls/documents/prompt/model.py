"""The typed prompt document every parser produces and every rule reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptls.core.positions import Span
from promptls.documents.prompt.frontmatter import Frontmatter
from promptls.documents.templates.model import TemplateInfo

_MISSING = object()


@dataclass(slots=True)
class InputDecl:
    """One declared input variable (Dotprompt schema field, Prompty input, or config-declared)."""

    name: str
    span: Span  # where it is declared (its key); empty span when declared outside the file
    kind: str | None = None  # string, number, integer, boolean, object, array, thread, any, ...
    required: bool = True
    default: Any = _MISSING
    sample: Any = _MISSING
    default_span: Span | None = None
    sample_span: Span | None = None
    description: str | None = None
    removal_span: Span | None = None  # what to delete to remove the declaration (quick fix)

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    @property
    def has_sample(self) -> bool:
        return self.sample is not _MISSING

    def value(self) -> Any:
        """The value used to render a preview: the sample, else the default, else None."""
        if self.has_sample:
            return self.sample
        if self.has_default:
            return self.default
        return None


@dataclass(slots=True)
class Message:
    """A message of the prompt as written: its role marker (if any) and the body text it covers."""

    role: str
    content_span: Span
    role_span: Span | None = None  # the role name as written


@dataclass(slots=True)
class Reference:
    """A Prompty `${env:VAR[:default]}` or `${file:path}` reference in the frontmatter."""

    kind: str  # "env" | "file"
    value: str
    default: str | None
    span: Span


@dataclass(slots=True)
class ModelRef:
    ref: str  # as written (or configured)
    span: Span | None  # None when it came from config or the CLI
    provider: str | None = None  # dialect-provided provider hint (Prompty `model.provider`)
    source: str = "file"  # "file" | "config" | "cli"


@dataclass(slots=True)
class PromptDocument:
    path: str
    text: str
    dialect: str  # "dotprompt" | "prompty" | "jinja2" | "handlebars" | "mustache"
    engine: str  # template engine of the body: "handlebars" | "mustache" | "jinja2"
    frontmatter: Frontmatter
    body_span: Span
    template: TemplateInfo
    version: str | None = None  # Prompty "v1"/"v2"
    dialect_note: str | None = None  # set when the dialect was guessed
    inputs: dict[str, InputDecl] = field(default_factory=dict)
    inputs_declared: bool = False  # False: the file declares no inputs, so undefined-variable is off
    model: ModelRef | None = None
    max_output: int | None = None
    max_output_span: Span | None = None
    params: dict[str, Any] = field(default_factory=dict)  # temperature, top_p, ... as normalised names
    messages: list[Message] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    roles: frozenset[str] = frozenset({"system", "user", "assistant"})
    # Role-marker lines whose word is not a role but looks like a typo of one (`sytem:`), found while splitting
    role_typos: list[tuple[str, Span]] = field(default_factory=list)

    @property
    def body(self) -> str:
        return self.text[self.body_span.start:self.body_span.end]
