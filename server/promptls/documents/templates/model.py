"""What analysing a template body yields, whatever the engine: the contract between templates/ and analysis/.

All spans are offsets into the string given to the analyser plus `base` (the body's offset in the file),
so they are offsets into the whole document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from promptls.core.positions import Span

Engine = Literal["handlebars", "mustache", "jinja2"]


@dataclass(slots=True)
class VarRef:
    """A reference to a variable of the root (input) context, after scope resolution.

    `path` is the dotted path as written relative to the root (`user.name`, `@root.x` gives `x`);
    `root` is its first segment, the input variable it needs.
    """

    root: str
    path: str
    span: Span  # the variable name as written
    # True when the reference may resolve to something other than the root context (e.g. a bare name
    # inside a Mustache section, which looks up the context stack): it counts as a use of `root`
    # but is never reported as undefined.
    maybe: bool = False
    # The first segment alone (`user` in `{{user.name}}`, `x` in `{{@root.x}}` or `{{../x}}`);
    # `span` covers the whole path as written.
    root_span: Span | None = None


@dataclass(slots=True)
class PartialRef:
    name: str
    span: Span  # the partial name as written
    # Defined in the same template by `{{#*inline "name"}}`: needs no partial file.
    inline: bool = False


@dataclass(slots=True)
class HelperCall:
    """A helper or block helper use: `{{role "system"}}`, `{{#each items}}`, `{{media url=x}}`, `{{history}}`."""

    name: str
    span: Span  # the whole tag `{{...}}`
    name_span: Span
    args: list[Any] = field(default_factory=list)  # literal args (strings/numbers); paths as VarRef are in refs
    block: bool = False
    hash: dict[str, Any] = field(default_factory=dict)  # literal `key=value` args (`indent=2`, `url="..."`)


@dataclass(slots=True)
class TemplateIssue:
    """A syntax problem. `kind` maps to a rule code in analysis/: one of
    'syntax' (engine parse error), 'unclosed-block', 'unmatched-close', 'stray-brace', 'wrong-engine'
    (syntax of another engine in this file), 'too-deep' (nesting beyond a safe bound), 'operator'
    (a comparison/arithmetic operator inside a Handlebars tag).
    `reaches_model`: the engine accepts it and renders it (a stray `}}` or a Jinja tag in Handlebars as text, an
    odd Mustache variable name as an empty value), so it is worth a warning saying what reaches the model, not an
    error.
    """

    kind: str
    message: str
    span: Span
    reaches_model: bool = False


@dataclass(slots=True)
class TemplateInfo:
    engine: Engine
    refs: list[VarRef] = field(default_factory=list)
    partials: list[PartialRef] = field(default_factory=list)
    helpers: list[HelperCall] = field(default_factory=list)
    issues: list[TemplateIssue] = field(default_factory=list)
    # Spans of template comments ({{! }}, {{!-- --}}, {# #}), for inline suppression comments.
    comments: list[tuple[Span, str]] = field(default_factory=list)
    # Names the template itself defines at top level (Jinja {% set %}, macros); never "undefined".
    locals: set[str] = field(default_factory=set)
    # The engine's parse tree, so rendering the same body need not parse it again (opaque to analysis).
    tree: Any = field(default=None, repr=False, compare=False)
