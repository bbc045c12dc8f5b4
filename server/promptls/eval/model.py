"""What a test suite is made of once read: prompts, targets (models to compare), cases with their assertions,
and findings about the files they came from (with line numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem in a case file. `error` stops the run before any call (exit 2); `warning` is reported."""

    path: str
    line: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(slots=True)
class Assertion:
    type: str  # the base type, without `not-`
    negate: bool = False
    value: Any = None
    threshold: float | None = None
    weight: float = 1.0
    #: A grader for llm-rubric (a provider id), instead of the judge chain.
    provider: TargetSpec | None = None
    metric: str | None = None
    line: int = 0
    path: str = ""

    @property
    def label(self) -> str:
        return ("not-" if self.negate else "") + self.type


@dataclass(slots=True)
class Case:
    description: str
    vars: dict[str, Any]
    asserts: list[Assertion]
    threshold: float | None = None
    #: A provider for this case only (instead of the suite's targets).
    provider: TargetSpec | None = None
    line: int = 0
    path: str = ""


@dataclass(slots=True)
class PromptSpec:
    """A prompt to render: a file (`.prompt`, `.prompty`, a template, text) or inline text given a path-like
    name (the name picks the template engine)."""

    label: str
    path: str
    text: str
    line: int = 0


@dataclass(slots=True)
class TargetSpec:
    """A model to run the cases on, as written: a promptfoo provider id (`openai:chat:gpt-4o-mini`), a
    configured provider name (`openai`), `kind/model`, or a bare model id. None of `ref` means the prompt's own
    model through the `run` chain, as `promptls run` does."""

    ref: str | None
    label: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    line: int = 0
    path: str = ""

    @property
    def display(self) -> str:
        return self.label or self.ref or "run chain"


@dataclass(slots=True)
class Suite:
    path: str
    prompts: list[PromptSpec]
    targets: list[TargetSpec]
    cases: list[Case]
    concurrency: int | None = None
    repeat: int | None = None
    findings: list[Finding] = field(default_factory=list)
