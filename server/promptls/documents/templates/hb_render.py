"""A small interpreter over the Handlebars/Mustache parse tree, to render prompts with sample inputs.

Written by hand because pybars3 is unmaintained and neither it nor chevron knows the Dotprompt
helpers or our parse tree. Semantics follow Handlebars.js 4 (`if`/`unless`/`each`/`with`/`lookup`/
`log`, blockHelperMissing sections, `../`, `@root`, `@index`/`@key`/`@first`/`@last`, block params,
partials with context and hash, standalone partial indentation, `{{#> partial-block}}`,
`{{#*inline}}`) and Mustache (context-stack lookups, sections, inverted sections). Dotprompt helpers
render the markers of google/dotprompt `js/src/helpers.ts`.

Deliberately lenient, as a renderer for token counting must be: missing values and unknown helpers
render as empty text, an unknown block helper renders its content once. Output size, loop iterations
and partial depth are bounded; exceeding a bound raises `RenderLimitError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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

MAX_OUTPUT_CHARS = 5_000_000
MAX_ITERATIONS = 100_000
MAX_PARTIAL_DEPTH = 32

ROLE_MARKER = "<<<dotprompt:role:{}>>>"
HISTORY_MARKER = "<<<dotprompt:history>>>"
SECTION_MARKER = "<<<dotprompt:section {}>>>"
MEDIA_MARKER = "<<<dotprompt:media:url {}>>>"


class RenderError(Exception):
    """The template cannot be rendered (syntax error, runtime error in the engine)."""


class RenderLimitError(RenderError):
    """A bound was hit (output size, loop iterations, nesting); `output` is what was rendered so far."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class _Missing:
    """JavaScript's `undefined`: a key that is not there (distinct from a `None`/null value)."""

    def __repr__(self) -> str:
        return "undefined"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class _Scope:
    depths: tuple[Any, ...]  # depths[0] is the current context; Mustache looks up the whole stack
    data: Mapping[str, Any]  # @-variables: root, index, key, first, last, user-provided
    block_params: tuple[Mapping[str, Any], ...] = ()

    @property
    def ctx(self) -> Any:
        return self.depths[0]


class HandlebarsRenderer:
    def __init__(
        self,
        *,
        mustache: bool,
        partials: Callable[[str], str | None],
        escape: bool,
        max_output_chars: int = MAX_OUTPUT_CHARS,
    ) -> None:
        self.mustache = mustache
        self.partial_source = partials
        self.escape = escape
        self.max_output = max_output_chars
        self.size = 0
        self.iterations = 0
        self.partial_depth = 0
        self.partial_cache: dict[str, Program | None] = {}
        self.inline_partials: dict[str, Program] = {}
        self.top: list[str] = []

    def render(self, program: Program, data: Any, context: Mapping[str, Any] | None) -> str:
        at_vars = dict(context or {})
        at_vars["root"] = data
        scope = _Scope((data,), at_vars)
        try:
            self.program(program, scope, self.top)
        except RecursionError:
            raise RenderLimitError("template nesting is too deep to render", "".join(self.top)) from None
        except RenderLimitError as err:
            err.output = "".join(self.top)
            raise
        return "".join(self.top)

    # -- output -----------------------------------------------------------------------------------
    def emit(self, out: list[str], text: str) -> None:
        if not text:
            return
        self.size += len(text)
        if self.size > self.max_output:
            out.append(text[: max(0, len(text) - (self.size - self.max_output))])
            raise RenderLimitError(f"rendered output exceeds {self.max_output} characters")
        out.append(text)

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise RenderLimitError(f"more than {MAX_ITERATIONS} loop iterations")

    # -- statements -------------------------------------------------------------------------------
    def program(self, program: Program | None, scope: _Scope, out: list[str]) -> None:
        if program is None:
            return
        for node in program.body:
            if isinstance(node, BlockTag) and node.kind == "inline":
                self.register_inline(node, scope)
        for node in program.body:
            self.node(node, scope, out)

    def node(self, node: Node, scope: _Scope, out: list[str]) -> None:
        if isinstance(node, Text):
            self.emit(out, node.value)
        elif isinstance(node, MustacheTag):
            value = self.mustache_value(node.call, scope)
            text = _to_text(value)
            if node.escaped and self.escape and not getattr(value, "safe", False):
                text = _escape_html(text)
            self.emit(out, text)
        elif isinstance(node, PartialTag):
            self.partial(node, scope, out)
        elif isinstance(node, BlockTag):
            self.block(node, scope, out)
        elif isinstance(node, CommentTag | DecoratorTag):
            return

    def mustache_value(self, call: Call, scope: _Scope) -> Any:
        name = call.helper_name()
        if not self.mustache and name is not None:
            helper = _HELPERS.get(name)
            if helper is not None:
                return helper(self, self.args(call, scope), self.hash(call, scope))
            if call.params or call.hash:
                return MISSING  # Handlebars would throw "Missing helper"; render nothing
        return self.expr(call.path, scope)

    def block(self, block: BlockTag, scope: _Scope, out: list[str]) -> None:
        if block.kind == "raw":
            for node in block.program.body if block.program else []:
                if isinstance(node, Text):
                    self.emit(out, node.value)
            return
        if block.kind == "inline":
            return  # registered when its program started
        if block.kind == "partial":
            self.partial_block(block, scope, out)
            return
        call = block.call
        if self.mustache:
            self.section(block, self.expr(call.path, scope), scope, out)
            return
        name = call.helper_name()
        fn, inverse = block.program, block.inverse
        if name in _BLOCK_HELPERS:
            _BLOCK_HELPERS[name](self, block, fn, inverse, self.args(call, scope), self.hash(call, scope), scope, out)
        elif name is not None and (call.params or call.hash):
            # An unknown block helper: render its content once in the same context.
            self.program(fn, scope, out)
        else:
            self.missing_block(block, self.expr(call.path, scope), fn, inverse, scope, out)

    def missing_block(
        self,
        block: BlockTag,
        value: Any,
        fn: Program | None,
        inverse: Program | None,
        scope: _Scope,
        out: list[str],
    ) -> None:
        """Handlebars' blockHelperMissing: a section on a plain value."""
        if value is True:
            self.program(fn, scope, out)
        elif value is False or value is None or value is MISSING:
            self.program(inverse, scope, out)
        elif isinstance(value, list | tuple):
            if value:
                self.each(block, value, fn, scope, out)
            else:
                self.program(inverse, scope, out)
        else:
            self.program(fn, self.push(scope, value), out)

    def section(self, block: BlockTag, value: Any, scope: _Scope, out: list[str]) -> None:
        """A Mustache section or inverted section."""
        if block.kind == "inverted":
            if not _js_truthy(value) or (isinstance(value, list | tuple) and not value):
                self.program(block.inverse, scope, out)
            return
        if isinstance(value, list | tuple):
            for item in value:
                self.tick()
                self.program(block.program, self.push(scope, item), out)
        elif _js_truthy(value):
            self.program(block.program, self.push(scope, value), out)

    def each(self, block: BlockTag, items: Any, fn: Program | None, scope: _Scope, out: list[str]) -> None:
        if isinstance(items, Mapping):
            pairs: list[tuple[Any, Any]] = list(items.items())
        else:
            pairs = list(enumerate(items))
        names = [n for n, _ in block.call.block_params]
        last = len(pairs) - 1
        for i, (key, item) in enumerate(pairs):
            self.tick()
            data = dict(scope.data)
            data.update(index=i, first=i == 0, last=i == last)
            if isinstance(items, Mapping):
                data["key"] = key
            inner = _Scope(_push_depth(scope.depths, item), data, scope.block_params)
            if names:
                inner = _with_params(inner, names, [item, key])
            self.program(fn, inner, out)

    def push(self, scope: _Scope, value: Any) -> _Scope:
        if self.mustache:
            return _Scope((value, *scope.depths), scope.data, scope.block_params)
        return _Scope(_push_depth(scope.depths, value), scope.data, scope.block_params)

    # -- partials ---------------------------------------------------------------------------------
    def register_inline(self, block: BlockTag, scope: _Scope) -> None:
        params = self.args(block.call, scope)
        if params and block.program is not None:
            self.inline_partials[str(_to_text(params[0]))] = block.program

    def partial_name(self, call: Call, scope: _Scope) -> str | None:
        head = call.path
        if isinstance(head, PathExpr):
            return head.original
        if isinstance(head, Literal):
            return _to_text(head.value)
        value = self.expr(head, scope)
        return None if value is MISSING or value is None else _to_text(value)

    def load_partial(self, name: str) -> Program | None:
        if name in self.inline_partials:
            return self.inline_partials[name]
        if name not in self.partial_cache:
            source = self.partial_source(name)
            self.partial_cache[name] = None if source is None else parse(source, mustache=self.mustache).program
        return self.partial_cache[name]

    def partial_scope(self, call: Call, scope: _Scope) -> _Scope:
        if self.mustache:
            return scope
        ctx = self.expr(call.params[0], scope) if call.params else scope.ctx
        if call.hash:
            extra = self.hash(call, scope)
            ctx = {**ctx, **extra} if isinstance(ctx, Mapping) else extra
        return _Scope((ctx,), scope.data)

    def partial(self, tag: PartialTag, scope: _Scope, out: list[str]) -> None:
        name = self.partial_name(tag.call, scope)
        if name is None:
            return
        if name == "@partial-block":
            block = scope.data.get("partial-block")
            if block is not None:
                program, outer = block
                self.program(program, outer, out)
            return
        program = self.load_partial(name)
        if program is None:
            return  # Handlebars throws "The partial could not be found"; render nothing
        self.invoke_partial(program, self.partial_scope(tag.call, scope), tag.indent, out)

    def partial_block(self, block: BlockTag, scope: _Scope, out: list[str]) -> None:
        name = self.partial_name(block.call, scope)
        program = self.load_partial(name) if name is not None else None
        if program is None:
            self.program(block.program, scope, out)
            return
        inner = self.partial_scope(block.call, scope)
        data = dict(inner.data)
        data["partial-block"] = (block.program, scope)
        self.invoke_partial(program, _Scope(inner.depths, data), "", out)

    def invoke_partial(self, program: Program, scope: _Scope, indent: str, out: list[str]) -> None:
        if self.partial_depth >= MAX_PARTIAL_DEPTH:
            raise RenderLimitError(f"partials nested more than {MAX_PARTIAL_DEPTH} deep")
        self.partial_depth += 1
        try:
            if not indent:
                self.program(program, scope, out)
                return
            buf: list[str] = []
            self.program(program, scope, buf)
            lines = "".join(buf).split("\n")
            for i, line in enumerate(lines):
                if not line and i + 1 == len(lines):
                    break
                lines[i] = indent + line
            self.size -= len("".join(buf))
            self.emit(out, "\n".join(lines))
        finally:
            self.partial_depth -= 1

    # -- expressions ------------------------------------------------------------------------------
    def args(self, call: Call, scope: _Scope) -> list[Any]:
        return [self.expr(p, scope) for p in call.params]

    def hash(self, call: Call, scope: _Scope) -> dict[str, Any]:
        return {pair.key: self.expr(pair.value, scope) for pair in call.hash}

    def expr(self, expr: Expr, scope: _Scope) -> Any:
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, SubExpr):
            value = self.mustache_value(expr.call, scope)
            for part in expr.tail:
                value = _get(value, part)
            return value
        return self.lookup(expr, scope)

    def lookup(self, path: PathExpr, scope: _Scope) -> Any:
        parts = path.parts
        if path.data:
            value = scope.data.get(parts[0], MISSING) if parts else MISSING
            return _walk(value, parts[1:])
        if self.mustache:
            if not parts:
                return scope.ctx
            for ctx in scope.depths:
                if isinstance(ctx, Mapping) and parts[0] in ctx:
                    return _walk(ctx[parts[0]], parts[1:])
            return MISSING
        if path.depth == 0 and not path.scoped and parts:
            for params in reversed(scope.block_params):
                if parts[0] in params:
                    return _walk(params[parts[0]], parts[1:])
        if path.depth >= len(scope.depths):
            return MISSING
        return _walk(scope.depths[path.depth], parts)


# -- helpers ------------------------------------------------------------------------------------


class _Safe(str):
    """A helper result that is never HTML-escaped (Handlebars' SafeString)."""

    safe = True


def _role(r: HandlebarsRenderer, args: list[Any], hash: dict[str, Any]) -> Any:
    return _Safe(ROLE_MARKER.format(_js_template(args[0] if args else MISSING)))


def _history(r: HandlebarsRenderer, args: list[Any], hash: dict[str, Any]) -> Any:
    return _Safe(HISTORY_MARKER)


def _section(r: HandlebarsRenderer, args: list[Any], hash: dict[str, Any]) -> Any:
    return _Safe(SECTION_MARKER.format(_js_template(args[0] if args else MISSING)))


def _media(r: HandlebarsRenderer, args: list[Any], hash: dict[str, Any]) -> Any:
    content_type = hash.get("contentType", MISSING)
    tail = f" {_js_template(content_type)}" if _js_truthy(content_type) else ""
    return _Safe(MEDIA_MARKER.format(_js_template(hash.get("url", MISSING)) + tail))


def _json(r: HandlebarsRenderer, args: list[Any], hash: dict[str, Any]) -> Any:
    value = args[0] if args else MISSING
    if value is MISSING:
        return ""
    indent = hash.get("indent")
    indent = int(indent) if isinstance(indent, int | float | str) and str(indent).strip("-").isdigit() else 0
    plain = _jsonable(value)
    if indent > 0:
        return _Safe(json.dumps(plain, indent=min(indent, 10), ensure_ascii=False))
    return _Safe(json.dumps(plain, separators=(",", ":"), ensure_ascii=False))


def _lookup(r: HandlebarsRenderer, args: list[Any], hash: dict[str, Any]) -> Any:
    if len(args) < 2:
        return MISSING
    return _get(args[0], _to_text(args[1]))


def _log(r: HandlebarsRenderer, args: list[Any], hash: dict[str, Any]) -> Any:
    return ""


def _if_value(r: HandlebarsRenderer, args: list[Any], hash: dict[str, Any]) -> Any:
    # `{{if x "a" "b"}}` is not a Handlebars inline helper; as a plain mustache it renders nothing.
    return MISSING


_HELPERS: dict[str, Callable[[HandlebarsRenderer, list[Any], dict[str, Any]], Any]] = {
    "role": _role,
    "history": _history,
    "section": _section,
    "media": _media,
    "json": _json,
    "lookup": _lookup,
    "log": _log,
    "if": _if_value,
    "unless": _if_value,
    "each": _if_value,
    "with": _if_value,
    "ifEquals": _if_value,
    "unlessEquals": _if_value,
}

BlockHelper = Callable[
    [HandlebarsRenderer, BlockTag, Program | None, Program | None, list[Any], dict[str, Any], _Scope, list[str]],
    None,
]


def _b_if(
    r: HandlebarsRenderer,
    block: BlockTag,
    fn: Program | None,
    inverse: Program | None,
    args: list[Any],
    hash: dict[str, Any],
    scope: _Scope,
    out: list[str],
) -> None:
    cond = args[0] if args else MISSING
    falsy = (not hash.get("includeZero") and not _js_truthy(cond)) or _is_empty(cond)
    r.program(inverse if falsy else fn, _with_params(scope, [n for n, _ in block.call.block_params], [cond]), out)


def _b_unless(
    r: HandlebarsRenderer,
    block: BlockTag,
    fn: Program | None,
    inverse: Program | None,
    args: list[Any],
    hash: dict[str, Any],
    scope: _Scope,
    out: list[str],
) -> None:
    _b_if(r, block, inverse, fn, args, hash, scope, out)


def _b_each(
    r: HandlebarsRenderer,
    block: BlockTag,
    fn: Program | None,
    inverse: Program | None,
    args: list[Any],
    hash: dict[str, Any],
    scope: _Scope,
    out: list[str],
) -> None:
    items = args[0] if args else MISSING
    if isinstance(items, Mapping | list | tuple) and items:
        r.each(block, items, fn, scope, out)
    else:
        r.program(inverse, scope, out)


def _b_with(
    r: HandlebarsRenderer,
    block: BlockTag,
    fn: Program | None,
    inverse: Program | None,
    args: list[Any],
    hash: dict[str, Any],
    scope: _Scope,
    out: list[str],
) -> None:
    value = args[0] if args else MISSING
    if _is_empty(value):
        r.program(inverse, scope, out)
        return
    inner = _Scope(_push_depth(scope.depths, value), scope.data, scope.block_params)
    r.program(fn, _with_params(inner, [n for n, _ in block.call.block_params], [value]), out)


def _b_if_equals(
    r: HandlebarsRenderer,
    block: BlockTag,
    fn: Program | None,
    inverse: Program | None,
    args: list[Any],
    hash: dict[str, Any],
    scope: _Scope,
    out: list[str],
) -> None:
    a = args[0] if args else MISSING
    b = args[1] if len(args) > 1 else MISSING
    r.program(fn if _strict_equal(a, b) else inverse, scope, out)


def _b_unless_equals(
    r: HandlebarsRenderer,
    block: BlockTag,
    fn: Program | None,
    inverse: Program | None,
    args: list[Any],
    hash: dict[str, Any],
    scope: _Scope,
    out: list[str],
) -> None:
    _b_if_equals(r, block, inverse, fn, args, hash, scope, out)


_BLOCK_HELPERS: dict[str, BlockHelper] = {
    "if": _b_if,
    "unless": _b_unless,
    "each": _b_each,
    "with": _b_with,
    "ifEquals": _b_if_equals,
    "unlessEquals": _b_unless_equals,
}


# -- JavaScript-like values -----------------------------------------------------------------------


def _push_depth(depths: tuple[Any, ...], value: Any) -> tuple[Any, ...]:
    # Handlebars 4 adds a `../` level only when the context really changes.
    if value is depths[0]:
        return depths
    return (value, *depths)


def _with_params(scope: _Scope, names: list[str], values: list[Any]) -> _Scope:
    if not names:
        return scope
    params = {name: values[i] if i < len(values) else MISSING for i, name in enumerate(names)}
    return _Scope(scope.depths, scope.data, (*scope.block_params, params))


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, MISSING)
    if isinstance(obj, list | tuple | str):
        if key == "length":
            return len(obj)
        if key.isdigit() and int(key) < len(obj):
            return obj[int(key)]
    return MISSING


def _walk(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if value is MISSING or value is None:
            return MISSING
        value = _get(value, part)
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _js_truthy(v: Any) -> bool:
    if v is None or v is MISSING:
        return False
    if isinstance(v, bool):
        return v
    if _is_number(v):
        return v != 0 and not (isinstance(v, float) and math.isnan(v))
    if isinstance(v, str):
        return v != ""
    return True


def _is_empty(v: Any) -> bool:
    # Handlebars utils.isEmpty: `!value && value !== 0`, or an empty array.
    if isinstance(v, list | tuple):
        return not v
    return not _js_truthy(v) and not (_is_number(v) and v == 0)


def _strict_equal(a: Any, b: Any) -> bool:
    """JavaScript `===` on JSON-like values (objects and arrays compare by identity)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None or a is MISSING or b is MISSING:
        return a is b
    return a is b


def _number_text(v: int | float) -> str:
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    return repr(v)


def _to_text(v: Any) -> str:
    """How Handlebars prints a value: null/undefined as '', arrays comma-joined, objects opaque."""
    if v is None or v is MISSING:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_number(v):
        return _number_text(v)
    if isinstance(v, list | tuple):
        return ",".join(_to_text(x) for x in v)
    if isinstance(v, Mapping):
        return "[object Object]"
    return str(v)


def _js_template(v: Any) -> str:
    """`${v}` in a JavaScript template string (used by the Dotprompt marker helpers)."""
    if v is MISSING:
        return "undefined"
    if v is None:
        return "null"
    return _to_text(v)


def _jsonable(v: Any) -> Any:
    if v is MISSING:
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return int(v)
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items() if x is not MISSING}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    return str(v)


_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "`": "&#x60;", "=": "&#x3D;"}
)


def _escape_html(text: str) -> str:
    return text.translate(_HTML_ESCAPES)
