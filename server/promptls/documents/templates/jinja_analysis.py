"""Jinja2 analysis on jinja2's own lexer, parser and scope tracking, with exact spans.

jinja2 nodes carry line numbers only, so we record where every token is: the lexer's raw tokens are
contiguous pieces of the (newline-normalised) source, which gives each token an offset; a Parser
subclass remembers which token produced each `Name`/string `Const` node and which statement was being
parsed when a `TemplateSyntaxError` was raised. Free variables come from the same machinery as
`jinja2.meta.find_undeclared_variables` (the code generator's symbol tables, which understand loops,
`set`, macros and `with`), but per occurrence, so every use gets its own span.

Imported lazily by `promptls.documents.templates.jinja` (jinja2 is not needed to start the server).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Any

from jinja2 import Environment, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import TemplateSyntaxError
from jinja2.idtracking import VAR_LOAD_RESOLVE
from jinja2.lexer import Token, TokenStream, newline_re
from jinja2.parser import Parser

from promptls.core.positions import Span
from promptls.documents.templates.model import PartialRef, TemplateInfo, TemplateIssue, VarRef

# Names Jinja provides itself; never input variables.
_JINJA_NAMES = frozenset(Environment().globals) | {"loop", "self", "caller", "varargs", "kwargs"}

# Handlebars/Mustache constructs that Jinja would report as a cryptic "unexpected char".
_HANDLEBARS_RE = re.compile(
    r"\{\{~?!--.*?--~?\}\}"  # {{!-- comment --}}
    r"|\{\{~?\s*[#/^>!&][^{}\n]*?\}\}"  # {{#if x}} {{/if}} {{^x}} {{> p}} {{! c}} {{&x}}
    r"|\{\{~?\s*else(?:\s+if\b[^{}\n]*?)?\s*~?\}\}"  # {{else}} {{else if y}}
    r"|\{\{\{\s*[\w.@/-]+\s*\}\}\}",  # {{{raw}}}
    re.S,
)
_JINJA_ACCEPTS_RE = re.compile(r"\{\{\s*else(?:\s+if\b[^{}\n~]*?)?\s*\}\}")
_JINJA_VERBATIM_RE = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}|\{#.*?#\}", re.S)
_UNEXPECTED_CHAR_RE = re.compile(r"unexpected char .* at (\d+)$")
_INNERMOST_RE = re.compile(r"The innermost block that needs to be closed is '(\w+)'")
_NESTING_TOKENS = {"lparen": 1, "lbracket": 1, "lbrace": 1, "rparen": -1, "rbracket": -1, "rbrace": -1}
_BLOCK_TAGS = frozenset({"for", "if", "macro", "call", "filter", "block", "with", "autoescape", "trans"})
_TOO_DEEP = 100
_TAG_REST_RE = re.compile(r"[^{}%]*?[-+]?%\}")


def analyze(body: str, base: int = 0) -> TemplateInfo:
    info = TemplateInfo(engine="jinja2")
    masked = _report_handlebars(body, base, info)
    env = Environment()
    rec = _TokenRecorder(env, masked)
    parser: _SpanParser | None = None
    ast: nodes.Template | None = None
    try:
        # The parser lexes its first token as it is built: `{#x` (a comment never closed) fails right there.
        parser = _SpanParser(env, rec)
        ast = parser.parse()
    except TemplateSyntaxError as err:
        info.issues.append(_syntax_issue(err, parser, rec, body, base))
    except RecursionError:
        info.issues.append(_too_deep_issue(rec, base))
    rec.drain()
    info.comments = rec.comments(base)
    if ast is None or parser is None:
        return info
    try:
        _collect(ast, env, parser, rec, body, base, info)
    except RecursionError:
        info.issues.append(_too_deep_issue(rec, base))
    except TemplateSyntaxError as err:  # TemplateAssertionError from the code generator
        line = err.lineno or 1
        start = rec.line_start(line)
        end = body.find("\n", start)
        info.issues.append(
            TemplateIssue("syntax", err.message or str(err), Span(base + start, base + (len(body) if end < 0 else end)))
        )
    return info


# -- positions of tokens --------------------------------------------------------------------------


class _TokenRecorder:
    """Lexes the source with jinja2's lexer and remembers the offset of every token."""

    def __init__(self, env: Environment, source: str) -> None:
        self.env = env
        self.source = source
        lines = newline_re.split(source)[::2]
        if not env.keep_trailing_newline and lines[-1] == "":
            del lines[-1]
        self.norm = "\n".join(lines)  # what tokeniter() lexes
        # Normalised offsets of each "\r\n" (one char there, two in the source).
        self.crlf: list[int] = []
        for k, m in enumerate(re.finditer(r"\r\n", source)):
            self.crlf.append(m.start() - k)
        self.raw: list[tuple[str, str, int, int]] = []  # (type, text, start, end) in normalised offsets
        self.spans: dict[int, tuple[int, int]] = {}  # id(Token) -> normalised span
        self.tokens: list[Token] = []  # wrapped tokens, kept alive so their ids stay unique
        self.index: dict[int, int] = {}
        self.cursor = 0
        self.lexer_failed = False
        self.wrap_failed = False
        self._raw_iter = self._raw_tokens()

    def orig(self, p: int) -> int:
        return p + bisect.bisect_left(self.crlf, p)

    def line_start(self, lineno: int) -> int:
        pos = 0
        for _ in range(max(0, lineno - 1)):
            nl = self.norm.find("\n", pos)
            if nl < 0:
                break
            pos = nl + 1
        return self.orig(pos)

    def _raw_tokens(self) -> Iterator[tuple[int, str, str]]:
        try:
            for lineno, kind, text in self.env.lexer.tokeniter(self.source, None):
                start = self.norm.find(text, self.cursor) if text else self.cursor
                if start < 0:
                    start = self.cursor
                self.cursor = start + len(text)
                self.raw.append((kind, text, start, self.cursor))
                yield lineno, kind, text
        except TemplateSyntaxError:
            self.lexer_failed = True
            raise

    def stream(self) -> TokenStream:
        def wrapped() -> Iterator[Token]:
            try:
                for tok in self.env.lexer.wrap(self._raw_iter):
                    _, _, start, end = self.raw[-1]
                    self.spans[id(tok)] = (start, end)
                    self.index[id(tok)] = len(self.tokens)
                    self.tokens.append(tok)
                    yield tok
            except TemplateSyntaxError:
                if not self.lexer_failed:
                    self.wrap_failed = True
                raise

        return TokenStream(wrapped(), None, None)

    def drain(self) -> None:
        """Lex the rest after a parse error, so comments further on are still known."""
        try:
            for _ in self._raw_iter:
                pass
        except TemplateSyntaxError:
            pass

    def span(self, tok: Token) -> tuple[int, int] | None:
        if tok.type == "eof":
            return (len(self.norm), len(self.norm))
        return self.spans.get(id(tok))

    def doc_span(self, start: int, end: int, base: int) -> Span:
        return Span(base + self.orig(start), base + self.orig(end))

    def comments(self, base: int) -> list[tuple[Span, str]]:
        out: list[tuple[Span, str]] = []
        start, text = -1, ""
        for kind, value, s, e in self.raw:
            if kind == "comment_begin":
                start, text = s, ""
            elif kind == "comment":
                text = value
            elif kind == "comment_end" and start >= 0:
                out.append((self.doc_span(start, e, base), text))
                start = -1
        return out


class _SpanParser(Parser):
    def __init__(self, env: Environment, rec: _TokenRecorder) -> None:
        super().__init__(env, "")
        self.rec = rec
        self.stream = rec.stream()
        self.node_spans: dict[int, tuple[int, int]] = {}
        self.statements: list[Token] = []  # tag-name tokens of the statements being parsed
        self.failed_statements: list[Token] | None = None

    def parse_primary(self, *args: Any, **kwargs: Any) -> nodes.Expr:
        token = self.stream.current
        node = super().parse_primary(*args, **kwargs)
        span = self.rec.span(token)
        if span is not None and (
            isinstance(node, nodes.Name) or (isinstance(node, nodes.Const) and token.type == "string")
        ):
            end = span[1]
            if isinstance(node, nodes.Const):
                # Adjacent strings concatenate: the span ends at the last one.
                idx = self.rec.index.get(id(self.stream.current), len(self.rec.tokens)) - 1
                last = self.rec.spans.get(id(self.rec.tokens[idx])) if idx >= 0 else None
                end = last[1] if last else end
            self.node_spans[id(node)] = (span[0], end)
        return node

    def parse_statement(self) -> nodes.Node | list[nodes.Node]:
        self.statements.append(self.stream.current)
        try:
            return super().parse_statement()
        except TemplateSyntaxError:
            if self.failed_statements is None:
                self.failed_statements = list(self.statements)
            raise
        finally:
            self.statements.pop()


# -- issues ----------------------------------------------------------------------------------------


def _report_handlebars(body: str, base: int, info: TemplateInfo) -> str:
    """Report Handlebars-only tags as 'wrong-engine' and blank them out for Jinja's parser."""
    if "{{" not in body:
        return body
    verbatim = [(m.start(), m.end()) for m in _JINJA_VERBATIM_RE.finditer(body)]
    chars: list[str] | None = None
    for m in _HANDLEBARS_RE.finditer(body):
        if any(a <= m.start() < b for a, b in verbatim):
            continue
        # `{{else}}` and `{{else if y}}` are Jinja expressions too (the variable `else`, `else if y`): jinja2
        # renders them, empty, without an error.
        accepted = _JINJA_ACCEPTS_RE.fullmatch(m.group()) is not None
        info.issues.append(
            TemplateIssue(
                "wrong-engine",
                f"'{_short(m.group())}' is Handlebars syntax, not Jinja "
                "(Jinja uses '{% if %}', '{% for %}', '{% include %}', '{# #}')"
                + (": Jinja renders it as an expression of the undefined variable `else`, empty" if accepted else ""),
                Span(base + m.start(), base + m.end()),
                reaches_model=accepted,
            )
        )
        if chars is None:
            chars = list(body)
        for k in range(m.start(), m.end()):
            if chars[k] not in "\r\n":
                chars[k] = " "
    return body if chars is None else "".join(chars)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _tag_span(rec: _TokenRecorder, name_tok: Token) -> tuple[int, int] | None:
    """From the `{%` before a tag name to the `%}` after it."""
    idx = rec.index.get(id(name_tok))
    if idx is None:
        return rec.span(name_tok)
    start = rec.spans[id(name_tok)][0]
    if idx > 0 and rec.tokens[idx - 1].type == "block_begin":
        start = rec.spans[id(rec.tokens[idx - 1])][0]
    end = rec.spans[id(name_tok)][1]
    m = _TAG_REST_RE.match(rec.norm, end)
    return start, m.end() if m else end


def _syntax_issue(
    err: TemplateSyntaxError, parser: _SpanParser | None, rec: _TokenRecorder, body: str, base: int
) -> TemplateIssue:
    message = err.message or str(err)
    kind = "syntax"
    span: tuple[int, int] | None = None
    if rec.lexer_failed or parser is None:
        m = _UNEXPECTED_CHAR_RE.search(message)
        if m:
            pos = int(m.group(1))
            span = (pos, pos + 1)
            message = message[: m.start(1) - 4]  # drop " at N": the span says where
        elif message.startswith("Missing end") and rec.raw:
            span = rec.raw[-1][2:4]
        else:
            pos = rec.cursor
            while pos < len(rec.norm) and rec.norm[pos].isspace():
                pos += 1
            span = (pos, min(pos + 1, len(rec.norm)))
    elif rec.wrap_failed and rec.raw:
        span = rec.raw[-1][2:4]
    else:
        current = parser.stream.current
        stack = parser.failed_statements or []
        if message.startswith("Unexpected end of template") and stack:
            opener = stack[-1]
            kind = "unclosed-block"
            span = _tag_span(rec, opener)
            message = f"Block '{{% {opener.value} %}}' was never closed (expected '{{% end{opener.value} %}}')"
        elif message.startswith("Encountered unknown tag") and current.type == "name":
            name = str(current.value)
            span = _tag_span(rec, current)
            if name.startswith("end"):
                kind = "unmatched-close"
                inner = _INNERMOST_RE.search(message)
                if inner:
                    message = (
                        f"Found '{{% {name} %}}' but the open block is '{{% {inner.group(1)} %}}' "
                        f"(close it with '{{% end{inner.group(1)} %}}')"
                    )
                else:
                    message = f"Found '{{% {name} %}}' but no '{{% {name[3:]} %}}' is open"
        else:
            span = rec.span(current)
            if current.type == "eof" and rec.tokens:
                span = rec.spans.get(id(rec.tokens[-1]), span)
    if span is None:
        start = rec.line_start(err.lineno or 1)
        return TemplateIssue(kind, message, Span(base + start, base + start))
    return TemplateIssue(kind, message, rec.doc_span(span[0], span[1], base))


def _too_deep_issue(rec: _TokenRecorder, base: int) -> TemplateIssue:
    """Point at the first tag or bracket nested beyond _TOO_DEEP levels (or at the deepest one the
    parser reached before Python's recursion limit stopped it)."""
    depth = deepest = 0
    where: Token | None = None
    prev: Token | None = None
    for tok in rec.tokens:
        step = _NESTING_TOKENS.get(tok.type, 0)
        if tok.type == "name" and prev is not None and prev.type == "block_begin":
            if tok.value in _BLOCK_TAGS:
                step = 1
            elif str(tok.value).startswith("end"):
                step = -1
        depth += step
        prev = tok
        if depth > deepest:
            deepest, where = depth, tok
            if depth > _TOO_DEEP:
                break
    message = f"Nesting is too deep to analyse ({deepest} levels and more)"
    if where is None:
        return TemplateIssue("too-deep", message, Span(base, base))
    span = _tag_span(rec, where) if where.type == "name" else rec.spans[id(where)]
    assert span is not None
    return TemplateIssue("too-deep", message, rec.doc_span(span[0], span[1], base))


# -- variables, locals, partials --------------------------------------------------------------------


class _FreeNames(CodeGenerator):
    """Collects every `Name` load that resolves from the render context (an input variable)."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env, "<promptls>", "<promptls>")
        self.free: list[nodes.Name] = []
        self.seen: set[int] = set()

    def write(self, x: str) -> None:
        """Generate no code."""

    def visit_Name(self, node: nodes.Name, frame: Frame) -> None:
        if node.ctx == "load" and id(node) not in self.seen:
            ref = frame.symbols.find_ref(node.name)
            load = frame.symbols.find_load(ref) if ref is not None else None
            if load is not None and load[0] == VAR_LOAD_RESOLVE:
                self.seen.add(id(node))
                self.free.append(node)
        super().visit_Name(node, frame)


def _collect(
    ast: nodes.Template,
    env: Environment,
    parser: _SpanParser,
    rec: _TokenRecorder,
    body: str,
    base: int,
    info: TemplateInfo,
) -> None:
    gen = _FreeNames(env)
    gen.visit(ast)
    parents: dict[int, nodes.Node] = {}
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        parents[id(node.node)] = node
    for name in gen.free:
        if name.name in _JINJA_NAMES:
            continue
        span = parser.node_spans.get(id(name))
        if span is None:
            continue
        start, end = rec.orig(span[0]), rec.orig(span[1])
        path, end_of_path = _dotted_path(name, parents, body, end)
        info.refs.append(
            VarRef(name.name, path, Span(base + start, base + end_of_path), root_span=Span(base + start, base + end))
        )
    info.refs.sort(key=lambda r: r.span.start)
    _top_level_names(ast.body, info.locals)
    for node in ast.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        template = node.template
        consts = template.items if isinstance(template, nodes.List | nodes.Tuple) else [template]
        for const in consts:
            span = parser.node_spans.get(id(const))
            if isinstance(const, nodes.Const) and isinstance(const.value, str) and span is not None:
                info.partials.append(PartialRef(const.value, rec.doc_span(span[0], span[1], base)))


def _dotted_path(name: nodes.Name, parents: dict[int, nodes.Node], body: str, end: int) -> tuple[str, int]:
    """`user.name`, `user['name']`, `items[0]`: the path from Getattr/Getitem, and where it ends."""
    parts = [name.name]
    node: nodes.Node = name
    span_ok = True
    while id(node) in parents:
        parent = parents[id(node)]
        if isinstance(parent, nodes.Getattr):
            key: Any = parent.attr
        elif (
            isinstance(parent, nodes.Getitem)
            and isinstance(parent.arg, nodes.Const)
            and isinstance(parent.arg.value, str | int)
            and not isinstance(parent.arg.value, bool)
        ):
            key = parent.arg.value
        else:
            break
        parts.append(str(key))
        if span_ok:
            m = _segment_re(key).match(body, end)
            if m:
                end = m.end()
            else:
                span_ok = False
        node = parent
    return ".".join(parts), end


def _segment_re(key: Any) -> re.Pattern[str]:
    k = re.escape(str(key))
    if isinstance(key, int):
        return re.compile(rf"\s*(?:\.\s*{k}|\[\s*{k}\s*\])")
    return re.compile(rf"""\s*(?:\.\s*{k}\b|\[\s*(['"]){k}\1\s*\])""")


def _top_level_names(body: list[nodes.Node], out: set[str]) -> None:
    for node in body:
        if isinstance(node, nodes.Assign | nodes.AssignBlock):
            out.update(n.name for n in node.target.find_all(nodes.Name) if n.ctx == "store")
            if isinstance(node.target, nodes.Name):
                out.add(node.target.name)
        elif isinstance(node, nodes.Macro):
            out.add(node.name)
        elif isinstance(node, nodes.Import):
            out.add(node.target)
        elif isinstance(node, nodes.FromImport):
            out.update(n if isinstance(n, str) else n[1] for n in node.names)
        elif isinstance(node, nodes.If):
            # `if` opens no scope in Jinja: a `set` inside it is visible after it.
            _top_level_names(node.body, out)
            for elif_ in node.elif_:
                _top_level_names([elif_], out)
            _top_level_names(node.else_, out)
