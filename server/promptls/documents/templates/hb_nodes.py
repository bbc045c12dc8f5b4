"""The parse tree shared by the Handlebars/Mustache parser, analyser and renderer.

Shapes follow handlebars-parser's AST (Program, BlockStatement with `program`/`inverse`, chained
`{{else if}}` programs) so that its whitespace-control algorithm can be applied unchanged. Every
node carries document spans (body offset + base).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptls.core.positions import Span


@dataclass(frozen=True, slots=True)
class Strip:
    """`~` whitespace control on one tag: `open` is `{{~`, `close` is `~}}`."""

    open: bool = False
    close: bool = False


NO_STRIP = Strip()


# -- expressions --------------------------------------------------------------------------------


@dataclass(slots=True)
class PathExpr:
    """`a.b`, `../x`, `this.x`, `@root.x`, `[weird key]`, `.`: `parts` are the segments after any
    `@`, `../`, `this` or `./` prefix (so `this` alone has no parts)."""

    original: str
    parts: list[str]
    data: bool
    depth: int  # number of `../`
    scoped: bool  # starts with `this` or `.`: never a helper or a block param
    span: Span
    head_span: Span | None  # span of parts[0] as written
    part_spans: list[Span] = field(default_factory=list)  # span of each of `parts` as written

    @property
    def is_simple(self) -> bool:
        """A bare identifier such as `name`: the only form that can name a helper or a block param."""
        return not self.data and self.depth == 0 and not self.scoped and len(self.parts) == 1


@dataclass(slots=True)
class Literal:
    value: Any  # str, int, float, bool or None
    span: Span


@dataclass(slots=True)
class SubExpr:
    """`(helper arg key=value)`, optionally followed by a path tail: `(helper x).field`."""

    call: Call
    tail: list[str] = field(default_factory=list)


Expr = PathExpr | Literal | SubExpr


@dataclass(slots=True)
class HashPair:
    key: str
    key_span: Span
    value: Expr


@dataclass(slots=True)
class Call:
    """What a tag or subexpression holds: head, positional params, hash, block params."""

    path: Expr
    params: list[Expr]
    hash: list[HashPair]
    span: Span  # the whole tag `{{...}}`, or the parentheses of a subexpression
    block_params: list[tuple[str, Span]] = field(default_factory=list)

    def helper_name(self) -> str | None:
        """The head as a helper name when it could be one (a bare identifier)."""
        path = self.path
        if isinstance(path, PathExpr) and path.is_simple:
            return path.parts[0]
        return None


# -- statements ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Text:
    original: str
    value: str  # after standalone-line and `~` stripping
    span: Span
    # `\{{...` escaped mustache content and raw-block content: no brace checks apply.
    literal: bool = False
    left_stripped: bool = False
    right_stripped: bool = False


@dataclass(slots=True)
class MustacheTag:
    """`{{x}}`, `{{{x}}}`, `{{&x}}`, `{{helper a b=c}}`."""

    call: Call
    escaped: bool
    strip: Strip
    span: Span


@dataclass(slots=True)
class DecoratorTag:
    """`{{* decorator}}`: parsed so positions stay right; it renders nothing."""

    call: Call
    strip: Strip
    span: Span


@dataclass(slots=True)
class CommentTag:
    """`{{! x}}`, `{{!-- x --}}`, and Mustache `{{=<% %>=}}` (which renders nothing either)."""

    text: str
    strip: Strip
    span: Span


@dataclass(slots=True)
class PartialTag:
    """`{{> name ctx key=value}}`; `call.path` is the name expression (path, string or subexpression)."""

    call: Call
    strip: Strip
    span: Span
    indent: str = ""  # leading whitespace of a standalone partial line, applied to every output line


@dataclass(slots=True)
class Program:
    body: list[Node] = field(default_factory=list)
    chained: bool = False  # the inverse of a block whose `{{else if}}` chain continues in body[0]


@dataclass(slots=True)
class BlockTag:
    """A block: `{{#x}}`, `{{^x}}` (kind 'inverted'), `{{{{raw}}}}` ('raw'), `{{#> partial}}`
    ('partial'), `{{#*inline "n"}}` ('inline'), or a link of an `{{else if}}` chain ('block').

    As in Handlebars, an inverted block stores its content in `inverse` and its `{{else}}` part in
    `program`.
    """

    kind: str
    name: str  # the head as written, which the closing tag must repeat
    call: Call
    program: Program | None
    inverse: Program | None
    span: Span  # the opening tag
    open_strip: Strip = NO_STRIP
    inverse_strip: Strip = NO_STRIP
    close_strip: Strip = NO_STRIP
    close_span: Span | None = None


Node = Text | MustacheTag | DecoratorTag | CommentTag | PartialTag | BlockTag
