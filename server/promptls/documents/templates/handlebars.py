"""Analyse a Handlebars or Mustache body: variables of the input (scope-aware), partials, helpers, issues.

Parsing is done by the hand-written scanner in `hb_parse` (no Python library gives positions). This
module walks the tree with each engine's scoping rules:

* Handlebars: `each`/`with` change the context, so bare names inside are relative to the item and are
  not input variables; `../` climbs one context, `@root.x` is always the input; block params
  (`as |item i|`) are locals; `if`/`unless`/`ifEquals`/`unlessEquals` keep the context. A section on a
  plain value (`{{#user}}`) or an unknown block helper may or may not change it: names inside count as
  uses (`maybe=True`) but are never reported as undefined.
* Mustache: sections push a context and lookups walk up the stack, so any name inside a section is a
  `maybe` reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from promptls.core.positions import Span
from promptls.documents.templates.hb_nodes import (
    BlockTag,
    Call,
    CommentTag,
    DecoratorTag,
    Expr,
    Literal,
    MustacheTag,
    Node,
    PartialTag,
    PathExpr,
    Program,
    SubExpr,
    Text,
)
from promptls.documents.templates.hb_parse import parse
from promptls.documents.templates.model import HelperCall, PartialRef, TemplateInfo, VarRef

BUILTIN_HELPERS = frozenset({"if", "unless", "each", "with", "lookup", "log"})
DOTPROMPT_HELPERS = frozenset({"role", "history", "section", "media", "json", "ifEquals", "unlessEquals"})
DEFAULT_HELPERS = BUILTIN_HELPERS | DOTPROMPT_HELPERS

# Block helpers that render their content in a new context / in the same context.
_CONTEXT_HELPERS = frozenset({"each", "with"})
# Every other built-in or Dotprompt helper keeps it (`{{#role "x"}}...{{/role}}` is a misuse whose
# content Handlebars drops, but it is written, and read, in the outer context).
_SAME_CONTEXT_HELPERS = DEFAULT_HELPERS - _CONTEXT_HELPERS


def analyze_handlebars(
    body: str,
    base: int = 0,
    *,
    mustache: bool = False,
    known_helpers: frozenset[str] = DEFAULT_HELPERS,
) -> TemplateInfo:
    """Variables, partials, helper calls, comments and issues of a Handlebars (or Mustache) body.

    Spans are offsets into the whole document: `base` is the body's offset in it.
    """
    parsed = parse(body, base, mustache=mustache, whitespace=False)
    info = TemplateInfo(engine="mustache" if mustache else "handlebars")
    info.issues = parsed.issues
    info.comments = parsed.comments
    info.tree = parsed
    walker = _Walker(info, mustache, known_helpers)
    walker.collect_inline_partials(parsed.program)
    walker.program(parsed.program, _Scope())
    return info


@dataclass(frozen=True, slots=True)
class _Scope:
    # One entry per enclosing block that may change the context: 'push' (it does) or 'maybe'.
    frames: tuple[str, ...] = ()
    block_params: frozenset[str] = frozenset()

    def push(self, kind: str, params: list[tuple[str, Span]]) -> _Scope:
        return _Scope((*self.frames, kind), self.block_params | {name for name, _ in params})

    def with_params(self, params: list[tuple[str, Span]]) -> _Scope:
        if not params:
            return self
        return _Scope(self.frames, self.block_params | {name for name, _ in params})


class _Walker:
    def __init__(self, info: TemplateInfo, mustache: bool, known_helpers: frozenset[str]) -> None:
        self.info = info
        self.mustache = mustache
        self.known = frozenset() if mustache else known_helpers
        self.inline_partials: set[str] = set()

    def collect_inline_partials(self, program: Program) -> None:
        stack = [program]
        while stack:
            prog = stack.pop()
            for node in prog.body:
                if isinstance(node, BlockTag):
                    if node.kind == "inline" and node.call.params and isinstance(node.call.params[0], Literal):
                        self.inline_partials.add(str(node.call.params[0].value))
                    stack.extend(p for p in (node.program, node.inverse) if p is not None)

    def program(self, program: Program | None, scope: _Scope) -> None:
        if program is None:
            return
        for node in program.body:
            self.node(node, scope)

    def node(self, node: Node, scope: _Scope) -> None:
        if isinstance(node, Text | CommentTag):
            return
        if isinstance(node, MustacheTag):
            self.mustache_tag(node, scope)
        elif isinstance(node, PartialTag):
            self.partial(node.call, scope)
        elif isinstance(node, DecoratorTag):
            self.args(node.call, scope)
        else:
            self.block(node, scope)

    # -- statements -------------------------------------------------------------------------------
    def mustache_tag(self, tag: MustacheTag, scope: _Scope) -> None:
        call = tag.call
        name = call.helper_name()
        if name is not None and (call.params or call.hash or name in self.known):
            self.helper(name, call, block=False)
            self.args(call, scope)
            return
        self.expr(call.path, scope)
        self.args(call, scope)

    def block(self, block: BlockTag, scope: _Scope) -> None:
        call = block.call
        if block.kind == "raw":
            self.helper(block.name, call, block=True)
            return
        if block.kind == "partial":
            self.partial(call, scope)
            self.program(block.program, scope)
            return
        if block.kind == "inline":
            # The body runs wherever the partial is used: its names may resolve anywhere.
            self.args(call, scope)
            self.program(block.program, scope.push("maybe", []))
            return
        if self.mustache:
            self.expr(call.path, scope)
            # A Mustache section pushes its value; the {{^x}} content keeps the context.
            self.program(block.program, scope.push("push", []) if block.kind == "block" else scope)
            self.program(block.inverse, scope)
            return

        name = call.helper_name()
        if name is not None and (call.params or call.hash or name in self.known):
            self.helper(name, call, block=True)
            self.args(call, scope)
            if name in _CONTEXT_HELPERS:
                inner = scope.push("push", call.block_params)
            elif name in _SAME_CONTEXT_HELPERS:
                inner = scope.with_params(call.block_params)
            else:
                inner = scope.push("maybe", call.block_params)
        else:
            # A section on a value (blockHelperMissing): an object or list becomes the context,
            # `true` keeps it.
            self.expr(call.path, scope)
            self.args(call, scope)
            inner = scope.push("maybe", call.block_params)
        # `program` is what the helper renders with its new context; `inverse` ({{else}}, a chained
        # {{else if}}, or the content of an inverted {{^x}} block) renders in the outer one.
        self.program(block.program, inner)
        self.program(block.inverse, scope)

    def partial(self, call: Call, scope: _Scope) -> None:
        head = call.path
        if isinstance(head, PathExpr) and not head.data:
            self.info.partials.append(
                PartialRef(head.original, head.span, inline=head.original in self.inline_partials)
            )
        elif isinstance(head, Literal) and isinstance(head.value, str | int | float):
            name = str(head.value)
            self.info.partials.append(PartialRef(name, head.span, inline=name in self.inline_partials))
        elif isinstance(head, SubExpr):
            self.expr(head, scope)
        self.args(call, scope)

    # -- expressions ------------------------------------------------------------------------------
    def args(self, call: Call, scope: _Scope) -> None:
        for param in call.params:
            self.expr(param, scope)
        for pair in call.hash:
            self.expr(pair.value, scope)

    def expr(self, expr: Expr, scope: _Scope) -> None:
        if isinstance(expr, Literal):
            return
        if isinstance(expr, SubExpr):
            call = expr.call
            name = call.helper_name()
            if name is not None:
                self.helper(name, call, block=False)
            else:
                self.expr(call.path, scope)
            self.args(call, scope)
            return
        ref = self.resolve(expr, scope)
        if ref is not None:
            self.info.refs.append(ref)

    def resolve(self, path: PathExpr, scope: _Scope) -> VarRef | None:
        parts = path.parts
        if path.data:
            if len(parts) > 1 and parts[0] == "root":
                return VarRef(parts[1], ".".join(parts[1:]), path.span, root_span=path.part_spans[1])
            return None
        if not parts or path.head_span is None:
            return None  # `this`, `.`, `..`: a whole context, not a named variable
        if self.mustache:
            return VarRef(parts[0], ".".join(parts), path.span, maybe=bool(scope.frames), root_span=path.head_span)
        if path.depth == 0 and not path.scoped and parts[0] in scope.block_params:
            return None
        pushed = scope.frames.count("push")
        maybe = len(scope.frames) - pushed
        # The name reads the root context when `../` climbs exactly the contexts pushed above it.
        if maybe == 0:
            if path.depth != pushed:
                return None
            return VarRef(parts[0], ".".join(parts), path.span, root_span=path.head_span)
        if not pushed <= path.depth <= pushed + maybe:
            return None
        return VarRef(parts[0], ".".join(parts), path.span, maybe=True, root_span=path.head_span)

    def helper(self, name: str, call: Call, *, block: bool) -> None:
        args = [p.value for p in call.params if isinstance(p, Literal)]
        hash_values = {pair.key: pair.value.value for pair in call.hash if isinstance(pair.value, Literal)}
        name_span = call.path.span if isinstance(call.path, PathExpr | Literal) else call.span
        self.info.helpers.append(HelperCall(name, call.span, name_span, args, block, hash=hash_values))
