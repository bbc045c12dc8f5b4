"""Scanner and block parser for Handlebars and Mustache bodies, keeping exact document offsets.

Written by hand because no maintained Python library gives positions: pybars3 is unmaintained and
position-less, and chevron's tokenizer yields no offsets. The token rules follow handlebars-parser's
lexer (`src/handlebars.l`) and grammar (`src/handlebars.yy`); standalone-line and `~` stripping is a
line-by-line port of its `whitespace-control.js`, so rendered text matches Handlebars.js.

The parser never raises on bad input: problems become `TemplateIssue`s and parsing recovers (a
mismatched close that matches an outer block closes the inner ones; an unknown close is skipped).
Nesting beyond `MAX_BLOCK_DEPTH` is reported once and skipped in linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from promptls.core.positions import Span
from promptls.documents.templates.hb_nodes import (
    NO_STRIP,
    BlockTag,
    Call,
    CommentTag,
    DecoratorTag,
    Expr,
    HashPair,
    Literal,
    MustacheTag,
    Node,
    PartialTag,
    PathExpr,
    Program,
    Strip,
    SubExpr,
    Text,
)
from promptls.documents.templates.model import TemplateIssue

MAX_BLOCK_DEPTH = 200
MAX_SUBEXPR_DEPTH = 40
MAX_ISSUES = 100

# Helpers a Handlebars user is likely to write in a Mustache file by mistake.
HANDLEBARS_ONLY_HEADS = frozenset(
    {
        "if",
        "unless",
        "each",
        "with",
        "lookup",
        "log",
        "else",
        "role",
        "history",
        "section",
        "media",
        "json",
        "ifEquals",
        "unlessEquals",
    }
)


@dataclass(slots=True)
class ParseResult:
    program: Program
    issues: list[TemplateIssue] = field(default_factory=list)
    comments: list[tuple[Span, str]] = field(default_factory=list)
    whitespace_applied: bool = False


def parse(body: str, base: int = 0, *, mustache: bool = False, whitespace: bool = True) -> ParseResult:
    """Parse a Handlebars (or Mustache) body; `whitespace` applies standalone/`~` stripping to text."""
    parser = _Parser(body, base, mustache)
    parser.run()
    result = ParseResult(parser.root, parser.issues[:MAX_ISSUES], parser.comments)
    if whitespace:
        apply_whitespace(result)
    return result


def apply_whitespace(result: ParseResult) -> ParseResult:
    """Standalone-line and `~` stripping, once: lets the analyser's tree (parsed without it) be rendered
    without parsing the body a second time."""
    if not result.whitespace_applied:
        _ws_program(result.program.body, is_root=True)
        result.whitespace_applied = True
    return result


# -- expression tokens --------------------------------------------------------------------------

# handlebars.l: ID is anything but whitespace and the control characters !"#%&'()*+,./;<=>@[\]^`{|}~
_ID_RE = re.compile(r'[^\s!"#%-,./;->@\[-\^`{-~]+')
_NUM_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_KEYWORD_RE = re.compile(r"(true|false|undefined|null)")
_BLOCK_PARAMS_RE = re.compile(r"as\s+\|")
_LOOKAHEAD = frozenset("=~}/.)]|")
_LITERAL_LOOKAHEAD = frozenset("~})]")
_ELSE_RE = re.compile(r"\s*else(?=[\s~}]|$)")
_COMMENT_END_RE = re.compile(r"--(~?)\}\}")
_OPERATOR_RE = re.compile(r"===?|!==?|<=?|>=?|&&|\|\||!")


class _SyntaxErr(Exception):
    def __init__(self, message: str, start: int, end: int, kind: str = "syntax") -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.kind = kind


@dataclass(slots=True)
class _Tok:
    kind: str  # ID SEP DATA STRING NUMBER BOOLEAN UNDEFINED NULL ( ) = OPEN_BP CLOSE_BP
    value: Any
    start: int
    end: int
    literal: bool = False  # an ID written as `[...]`


def _tokenize(src: str, s: int, e: int) -> list[_Tok]:
    toks: list[_Tok] = []
    k = s
    while k < e:
        if src[k].isspace():
            k += 1
            continue
        if op := _OPERATOR_RE.match(src, k, e):
            raise _SyntaxErr(
                f"Handlebars has no operators ('{op.group()}'): compare with a helper such as "
                "'{{#ifEquals a b}}' (Handlebars.js fails to compile this tag)",
                k,
                op.end(),
                kind="operator",
            )
        tok = _punctuation_token(src, k, e) or _literal_token(src, k, e) or _name_token(src, k, e, toks)
        toks.append(tok)
        k = tok.end
    return toks


def _followed_by(src: str, pos: int, e: int, allowed: frozenset[str]) -> bool:
    return pos >= e or src[pos] in allowed or src[pos].isspace()


def _punctuation_token(src: str, k: int, e: int) -> _Tok | None:
    """`(`, `)`, `=`, `[segment]`, `..`, `.`, and the `.#`, `.`, `/` separators."""
    c = src[k]
    if c in "()=":
        return _Tok(c, c, k, k + 1)
    if c == "[":
        q = k + 1
        while q < e and src[q] != "]":
            q += 2 if src[q] == "\\" and q + 1 < e else 1
        if q >= e:
            raise _SyntaxErr("Unclosed '[' in a path segment", k, k + 1)
        value = re.sub(r"\\([\\\]])", r"\1", src[k + 1 : q])
        return _Tok("ID", value, k, q + 1, literal=True)
    if src.startswith("..", k):
        return _Tok("ID", "..", k, k + 2)
    if c == "." and _followed_by(src, k + 1, e, _LOOKAHEAD):
        return _Tok("ID", ".", k, k + 1)
    if src.startswith(".#", k):
        return _Tok("SEP", ".#", k, k + 2)
    if c in "./":
        return _Tok("SEP", c, k, k + 1)
    return None


def _literal_token(src: str, k: int, e: int) -> _Tok | None:
    """A string, `@`, a keyword literal, or a number."""
    c = src[k]
    if c in "\"'":
        q = k + 1
        while q < e and src[q] != c:
            q += 2 if src[q] == "\\" and q + 1 < e and src[q + 1] == c else 1
        if q >= e:
            raise _SyntaxErr("Unterminated string", k, e)
        return _Tok("STRING", src[k + 1 : q].replace("\\" + c, c), k, q + 1)
    if c == "@":
        return _Tok("DATA", "@", k, k + 1)
    if (m := _KEYWORD_RE.match(src, k, e)) and _followed_by(src, m.end(), e, _LITERAL_LOOKAHEAD):
        word = m.group(1)
        kind = {"true": "BOOLEAN", "false": "BOOLEAN", "undefined": "UNDEFINED", "null": "NULL"}[word]
        return _Tok(kind, {"true": True, "false": False}.get(word), k, m.end())
    if (m := _NUM_RE.match(src, k, e)) and _followed_by(src, m.end(), e, _LITERAL_LOOKAHEAD):
        text = m.group()
        return _Tok("NUMBER", float(text) if "." in text else int(text), k, m.end())
    return None


def _name_token(src: str, k: int, e: int, toks: list[_Tok]) -> _Tok:
    """Block-param bars (`as |`, `|`) or an ID; anything else is a syntax error."""
    if m := _BLOCK_PARAMS_RE.match(src, k, e):
        return _Tok("OPEN_BP", "as |", k, m.end())
    if src[k] == "|":
        if not any(t.kind == "OPEN_BP" for t in toks):
            raise _SyntaxErr(
                "'|' filters are Jinja syntax; Handlebars calls helpers: '{{helper value}}'",
                k,
                k + 1,
                kind="wrong-engine",
            )
        return _Tok("CLOSE_BP", "|", k, k + 1)
    if m := _ID_RE.match(src, k, e):
        if not _followed_by(src, m.end(), e, _LOOKAHEAD):
            bad = src[m.end()]
            if bad == "(":
                raise _SyntaxErr(
                    f"'{m.group()}(...)' is not Handlebars: call helpers as '{{{{{m.group()} arg}}}}' "
                    f"or in a subexpression '({m.group()} arg)'",
                    k,
                    m.end() + 1,
                )
            raise _SyntaxErr(f"Unexpected '{bad}' after '{m.group()}'", m.end(), m.end() + 1)
        return _Tok("ID", m.group(), k, m.end())
    raise _SyntaxErr(f"Unexpected '{src[k]}' in a tag", k, k + 1)


class _ExprParser:
    """Recursive descent over one tag's tokens (grammar of handlebars.yy: expr, sexpr, hash, path)."""

    def __init__(self, toks: list[_Tok], src: str, base: int, end: int) -> None:
        self.toks = toks
        self.src = src
        self.base = base
        self.i = 0
        self.end = end  # offset just after the tag content, for "expected" errors
        self.depth = 0

    def sp(self, a: int, b: int) -> Span:
        return Span(a + self.base, b + self.base)

    def peek(self, ahead: int = 0) -> _Tok | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def fail_here(self, message: str) -> _SyntaxErr:
        tok = self.peek()
        if tok is None:
            return _SyntaxErr(message, self.end, self.end)
        return _SyntaxErr(message, tok.start, tok.end)

    def at_hash(self) -> bool:
        tok, nxt = self.peek(), self.peek(1)
        return tok is not None and tok.kind == "ID" and nxt is not None and nxt.kind == "="

    def call(self, span: Span, *, in_sexpr: bool = False, allow_block_params: bool = True) -> Call:
        stop = {")"} if in_sexpr else set()
        if self.peek() is None or self.peek().kind in stop:  # type: ignore[union-attr]
            raise self.fail_here("Expected a name or a value")
        if self.at_hash():
            raise self.fail_here("A tag must start with a name or a value, not 'key=value'")
        head = self.expr()
        params: list[Expr] = []
        while (tok := self.peek()) is not None and tok.kind not in stop and tok.kind != "OPEN_BP":
            if self.at_hash():
                break
            params.append(self.expr())
        pairs: list[HashPair] = []
        while self.at_hash():
            key = self.toks[self.i]
            self.i += 2
            if self.peek() is None or self.peek().kind in stop:  # type: ignore[union-attr]
                raise self.fail_here(f"Expected a value after '{key.value}='")
            pairs.append(HashPair(key.value, self.sp(key.start, key.end), self.expr()))
        block_params: list[tuple[str, Span]] = []
        tok = self.peek()
        if tok is not None and tok.kind == "OPEN_BP":
            if not allow_block_params or in_sexpr:
                raise self.fail_here("Block params 'as |x|' are only allowed on block tags")
            self.i += 1
            while (tok := self.peek()) is not None and tok.kind == "ID" and not tok.literal:
                block_params.append((tok.value, self.sp(tok.start, tok.end)))
                self.i += 1
            if not block_params:
                raise self.fail_here("Expected a name in 'as |...|'")
            if tok is None or tok.kind != "CLOSE_BP":
                raise self.fail_here("Expected '|' to close the block params")
            self.i += 1
        tok = self.peek()
        if tok is not None and tok.kind not in stop:
            raise self.fail_here(f"Unexpected '{self.src[tok.start : tok.end]}'")
        return Call(head, params, pairs, span, block_params)

    def expr(self) -> Expr:
        tok = self.peek()
        if tok is None:
            raise self.fail_here("Expected a value")
        kind = tok.kind
        if kind == "(":
            if self.depth >= MAX_SUBEXPR_DEPTH:
                raise _SyntaxErr(
                    f"Subexpressions nested more than {MAX_SUBEXPR_DEPTH} deep", tok.start, tok.end, "too-deep"
                )
            self.depth += 1
            self.i += 1
            call = self.call(self.sp(tok.start, tok.end), in_sexpr=True)
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.fail_here("Expected ')' to close the subexpression")
            self.i += 1
            self.depth -= 1
            call.span = self.sp(tok.start, close.end)
            sub = SubExpr(call)
            while (sep := self.peek()) is not None and sep.kind == "SEP":
                self.i += 1
                seg = self.peek()
                if seg is None or seg.kind != "ID":
                    raise self.fail_here("Expected a name after the separator")
                sub.tail.append(seg.value)
                self.i += 1
            return sub
        if kind in ("STRING", "NUMBER", "BOOLEAN", "UNDEFINED", "NULL"):
            self.i += 1
            return Literal(tok.value, self.sp(tok.start, tok.end))
        if kind == "DATA":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind != "ID":
                raise self.fail_here("Expected a name after '@'")
            return self.path(data=True, start=tok.start)
        if kind == "ID":
            return self.path(data=False, start=tok.start)
        raise _SyntaxErr(f"Unexpected '{self.src[tok.start : tok.end]}'", tok.start, tok.end)

    def path(self, *, data: bool, start: int) -> PathExpr:
        # preparePath() of handlebars-parser: `..`, `.` and `this` only before the first real segment.
        original = "@" if data else ""
        parts: list[str] = []
        part_spans: list[Span] = []
        depth = 0
        sep: str | None = None
        end = start
        while True:
            tok = self.peek()
            if tok is None or tok.kind != "ID":
                raise self.fail_here("Expected a name")
            self.i += 1
            part = tok.value
            original += (sep or "") + part
            end = tok.end
            if not tok.literal and part in ("..", ".", "this"):
                if parts:
                    raise _SyntaxErr(f"Invalid path: {original}", start, end)
                if part == "..":
                    depth += 1
            else:
                part_spans.append(self.sp(tok.start, tok.end))
                parts.append(("#" if sep == ".#" else "") + part)
            nxt = self.peek()
            if nxt is None or nxt.kind != "SEP":
                break
            sep = nxt.value
            self.i += 1
        scoped = bool(re.match(r"\.|this\b", original))
        head_span = part_spans[0] if part_spans else None
        return PathExpr(original, parts, data, depth, scoped, self.sp(start, end), head_span, part_spans)


# The sigils after `{{` (and `~`), longest first, and the tag kind each opens.
_SIGILS = (
    ("{", "unescaped"),
    ("&", "amp"),
    ("#>", "partial-block"),
    ("#*", "inline"),
    ("#", "block"),
    ("/", "close"),
    ("^", "inverted"),
    (">", "partial"),
    ("*", "decorator"),
)


def _tag_kind(src: str, j: int) -> tuple[str, int]:
    """The kind of the tag whose content (after `{{` and `~`) starts at j, and where its expression starts."""
    for sigil, kind in _SIGILS:
        if src.startswith(sigil, j):
            return kind, j + len(sigil)
    if m := _ELSE_RE.match(src, j):
        return "else", m.end()
    return "mustache", j


# -- the scanner/parser ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Frame:
    block: BlockTag
    target: BlockTag  # the block whose program/inverse is being filled (last link of an else-if chain)
    chain: list[BlockTag]
    parent_body: list[Node]
    seen_else: bool = False


@dataclass(slots=True)
class _Close:
    status: str  # 'ok' | 'nested' | 'eof'
    content_end: int = 0
    end: int = 0
    unescaped: bool = False  # closed with `}}}`
    strip: bool = False


class _Parser:
    def __init__(self, src: str, base: int, mustache: bool) -> None:
        self.src = src
        self.base = base
        self.mustache = mustache
        self.issues: list[TemplateIssue] = []
        self.comments: list[tuple[Span, str]] = []
        self.root = Program([])
        self.body: list[Node] = self.root.body
        self.stack: list[_Frame] = []
        self.skip = 0  # > 0 while inside blocks nested beyond MAX_BLOCK_DEPTH
        self.too_deep_reported = False
        self.otag, self.ctag = "{{", "}}"  # Mustache can change them with {{=<% %>=}}
        self.brace_depth = 0
        self.comment_hint: int | None = None  # a `{{! }}` comment that held `{{` (so ended early)

    def sp(self, a: int, b: int) -> Span:
        return Span(a + self.base, b + self.base)

    def issue(self, kind: str, message: str, a: int, b: int, reaches_model: bool = False) -> None:
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(TemplateIssue(kind, message, self.sp(a, b), reaches_model))

    # -- main loop --------------------------------------------------------------------------------
    def run(self) -> None:
        src, n = self.src, len(self.src)
        pos = text_start = 0
        while pos < n:
            i = src.find(self.otag, pos)
            if i < 0:
                break
            if not self.mustache and i > 0 and src[i - 1] == "\\":
                if i > 1 and src[i - 2] == "\\":
                    # `\\{{x}}`: a literal backslash, then a real tag.
                    self.text(text_start, i, src[text_start : i - 1])
                else:
                    # `\{{x}}`: the text up to the next `{{` is literal (handlebars.l `emu` state).
                    self.text(text_start, i, src[text_start : i - 1])
                    j = self.escaped_end(i)
                    self.text(i, j, src[i:j], literal=True)
                    pos = text_start = j
                    continue
            else:
                self.text(text_start, i, src[text_start:i])
            end, consumed = self.tag(i)
            if consumed:
                pos = text_start = end
            else:
                # An unterminated `{{` stays text; scanning resumes at the next `{{`.
                pos = end
                text_start = i
        self.text(text_start, n, src[text_start:n])
        self.finish()

    def escaped_end(self, i: int) -> int:
        src = self.src
        k = src.find("{{", i + 2)
        if k < 0:
            return len(src)
        for _ in range(2):
            if k - 1 >= i + 2 and src[k - 1] == "\\":
                k -= 1
        return k

    def text(self, a: int, b: int, value: str, *, literal: bool = False) -> None:
        if a >= b or self.skip:
            return
        if not literal:
            self.check_text(a, b)
        self.body.append(Text(value, value, self.sp(a, b), literal=literal))

    def check_text(self, a: int, b: int) -> None:
        """Stray `}}` and Jinja syntax in plain text."""
        src = self.src
        # A `}}` is stray when fewer than two `{` are open before it: JSON such as {"a": {"b": 1}}
        # balances its braces, a broken tag such as `{name}}` or `name}}` does not.
        k = a
        while True:
            k = _next_brace(src, k, b)
            if k < 0:
                break
            if src[k] == "{":
                self.brace_depth += 1
                k += 1
            elif src.startswith("}}", k) and k + 1 < b:
                if self.brace_depth < 2:
                    # Handlebars and Mustache lex a `}}` outside a tag as content: it renders, it is sent.
                    message = "Found '}}' with no opening '{{': the engine renders it as text, so it reaches the model"
                    if self.comment_hint is not None:
                        message += (
                            " (a '{{! }}' comment ends at the first '}}' inside it, and the rest of the comment is "
                            "sent too; write comments that contain '}}' as '{{!-- --}}')"
                        )
                        self.comment_hint = None
                    self.issue("stray-brace", message, k, k + 2, reaches_model=True)
                    self.brace_depth = 0
                    k += 2
                    while k < b and src[k] == "}":
                        k += 1
                else:
                    self.brace_depth -= 2
                    k += 2
            else:
                self.brace_depth = max(0, self.brace_depth - 1)
                k += 1
        for m in _JINJA_RE.finditer(src, a, b):
            what = "comment '{# #}'" if m.group().startswith("{#") else "tag '{% %}'"
            # Handlebars.js and mustache.js lex it as content: it renders as is and is sent to the model.
            self.issue(
                "wrong-engine",
                f"Jinja {what} in a {'Mustache' if self.mustache else 'Handlebars'} template: the engine renders "
                "it as text, so it reaches the model",
                m.start(),
                m.end(),
                reaches_model=True,
            )

    # -- tags -------------------------------------------------------------------------------------
    def tag(self, i: int) -> tuple[int, bool]:
        """Scan the tag opening at i; return where scanning resumes and whether the tag was consumed."""
        if self.mustache:
            return self.mustache_tag(i)
        src, n = self.src, len(self.src)
        if src.startswith("{{{{", i):
            return self.raw_block(i)
        j = i + 2
        strip_open = j < n and src[j] == "~"
        if strip_open:
            j += 1
        if src.startswith("!", j):
            return self.comment_tag(i, j, strip_open)
        kind, j = _tag_kind(src, j)
        close = self.find_close(j)
        if close.status == "nested":
            self.issue("stray-brace", "Unterminated '{{': a new '{{' starts before it is closed", i, i + 2)
            return close.content_end, False
        if close.status == "eof":
            self.issue("stray-brace", "Unterminated '{{': no matching '}}'", i, i + 2)
            return n, False
        self.check_stash(kind, i, close)
        self.tag_body(kind, (i, close.end), Strip(strip_open, close.strip), j, close.content_end)
        return close.end, True

    def comment_tag(self, i: int, j: int, strip_open: bool) -> tuple[int, bool]:
        """`{{!-- --}}` or `{{! }}` opening at i, its `!` at j."""
        src, n = self.src, len(self.src)
        if src.startswith("!--", j):
            # Handlebars.js matches the closing `--}}` from the `--` of the opener on: `{{!--}}` is a comment.
            m = _COMMENT_END_RE.search(src, j + 1)
            if m is None:
                self.issue("syntax", "Comment '{{!--' is never closed (expected '--}}')", i, j + 3)
                self.comment(i, n, src[j + 3 :], Strip(strip_open, False))
                return n, True
            self.comment(i, m.end(), src[j + 3 : m.start()], Strip(strip_open, bool(m.group(1))))
            return m.end(), True
        k = src.find("}}", j + 1)
        if k < 0:
            self.issue("stray-brace", "Comment '{{!' is never closed (expected '}}')", i, j + 1)
            self.comment(i, n, src[j + 1 :], Strip(strip_open, False))
            return n, True
        if "{{" in src[j + 1 : k]:
            self.comment_hint = i
        strip_close = k - 1 >= j + 1 and src[k - 1] == "~"
        self.comment(i, k + 2, src[j + 1 : k - 1 if strip_close else k], Strip(strip_open, strip_close))
        return k + 2, True

    def check_stash(self, kind: str, i: int, close: _Close) -> None:
        """`{{{` and `}}}` must pair up."""
        if kind == "unescaped" and not close.unescaped:
            self.issue("syntax", "'{{{' must be closed with '}}}'", i, close.end)
        elif kind != "unescaped" and close.unescaped:
            self.issue(
                "syntax",
                "'}}}' closes a triple-stash '{{{', but this tag opened with '{{' (put a space before the last '}')",
                close.content_end,
                close.end,
            )

    def tag_body(self, kind: str, tag_span: tuple[int, int], strip: Strip, a: int, b: int) -> None:
        """Parse the content src[a:b] of a closed tag of this kind and add it to the tree."""
        src = self.src
        if self.skip:
            self.skip_tag(kind, a, b)
            return
        if kind in ("inverted", "else") and not src[a:b].strip():
            self.else_tag(tag_span, strip, None)
            return
        if kind == "close":
            self.close_tag(tag_span, strip, a, b)
            return
        call = self.parse_call(a, b, tag_span, allow_block_params=kind in ("block", "inverted", "else"))
        block_kind = {"partial-block": "partial"}.get(kind, kind)
        if call is None:
            if kind in ("block", "inverted", "partial-block", "inline"):
                # Keep the block structure so the closing tag still matches.
                name = (src[a:b].split() or ["?"])[0]
                dummy = Call(Literal(None, self.sp(a, a)), [], [], self.sp(*tag_span))
                self.open_block(block_kind, name, dummy, tag_span, strip)
            return
        if kind in ("mustache", "unescaped", "amp"):
            self.body.append(MustacheTag(call, kind == "mustache", strip, self.sp(*tag_span)))
        elif kind == "decorator":
            self.body.append(DecoratorTag(call, strip, self.sp(*tag_span)))
        elif kind == "partial":
            self.body.append(PartialTag(call, strip, self.sp(*tag_span)))
        elif kind == "else":
            self.else_tag(tag_span, strip, call)
        else:
            self.open_block(block_kind, _head_text(call), call, tag_span, strip)

    def find_close(self, j: int) -> _Close:
        """Find the `}}` ending a tag whose content starts at j, skipping strings and `[...]` segments."""
        src, n = self.src, len(self.src)
        k = j
        while k < n:
            c = src[k]
            if c in "\"'":
                # Unlike handlebars.l, a string may not run past `}}`: that only breaks the odd
                # `{{x "}}"}}`, and it keeps a stray apostrophe (`{{ user's }}`) from swallowing
                # the rest of the document.
                q = k + 1
                while q < n and src[q] != c and not src.startswith("}}", q):
                    q += 2 if src[q] == "\\" and q + 1 < n and src[q + 1] == c else 1
                k = q + 1 if q < n and src[q] == c else k + 1
            elif c == "[":
                q = k + 1
                while q < n and src[q] != "]":
                    if src.startswith("}}", q) or src.startswith("{{", q):
                        break
                    q += 2 if src[q] == "\\" and q + 1 < n else 1
                k = q + 1 if q < n and src[q] == "]" else k + 1
            elif c == "}" and (src.startswith("}}", k) or src.startswith("}~}}", k)):
                # handlebars.l tries `}~?}}` (CLOSE_UNESCAPED) before `~?}}` (CLOSE).
                if src.startswith("}}}", k):
                    return _Close("ok", k, k + 3, unescaped=True)
                if src.startswith("}~}}", k):
                    return _Close("ok", k, k + 4, unescaped=True, strip=True)
                return _Close("ok", k, k + 2)
            elif c == "~" and src.startswith("~}}", k):
                return _Close("ok", k, k + 3, strip=True)
            elif c == "{" and src.startswith("{{", k):
                return _Close("nested", k)
            else:
                k += 1
        return _Close("eof")

    def parse_call(self, a: int, b: int, tag_span: tuple[int, int], *, allow_block_params: bool) -> Call | None:
        try:
            toks = _tokenize(self.src, a, b)
            parser = _ExprParser(toks, self.src, self.base, b)
            return parser.call(self.sp(*tag_span), allow_block_params=allow_block_params)
        except _SyntaxErr as err:
            if err.kind == "too-deep":
                self.issue("too-deep", err.message, err.start, err.end)
            else:
                self.issue(err.kind, err.message, err.start, max(err.end, err.start))
            if err.kind == "operator":
                return self._call_without_operators(a, b, tag_span, allow_block_params)
            return None

    def _call_without_operators(self, a: int, b: int, tag_span: tuple[int, int], allow_block_params: bool
                                ) -> Call | None:
        """The tag read with its operators blanked out (`{{#if age >= 18}}` as `{{#if age 18}}`), so the names it
        uses still count as used: the operator itself is already reported, an unused-input finding would be a
        second, false one."""
        masked = _OPERATOR_RE.sub(lambda m: " " * len(m.group()), self.src[a:b])
        src = self.src[:a] + masked + self.src[b:]
        try:
            return _ExprParser(_tokenize(src, a, b), src, self.base, b).call(
                self.sp(*tag_span), allow_block_params=allow_block_params)
        except _SyntaxErr:
            return None

    def comment(self, a: int, b: int, text: str, strip: Strip) -> None:
        if self.skip:
            return
        span = self.sp(a, b)
        self.comments.append((span, text))
        self.body.append(CommentTag(text, strip, span))

    def raw_block(self, i: int) -> tuple[int, bool]:
        src, n = self.src, len(self.src)
        k = src.find("}}}}", i + 4)
        if k < 0:
            self.issue("stray-brace", "Unterminated '{{{{': no matching '}}}}'", i, i + 4)
            return n, False
        call = self.parse_call(i + 4, k, (i, k + 4), allow_block_params=False)
        name = _head_text(call) if call else (src[i + 4 : k].split() or ["?"])[0]
        # Nested `{{{{x}}}}` opens stack up (handlebars.l `raw` state); find the matching close.
        close_re = re.compile(r"\{\{\{\{(/?)([^\s!\"#%-,./;->@\[-\^`{-~]+)[^}]*\}\}\}\}")
        depth, pos = 0, k + 4
        while True:
            m = close_re.search(src, pos)
            if m is None:
                self.issue("unclosed-block", f"Raw block '{{{{{{{{{name}}}}}}}}}' was never closed", i, k + 4)
                content_end = close_start = close_end = n
                break
            if not m.group(1):
                depth += 1
            elif depth:
                depth -= 1
            elif m.group(2) == name:
                content_end, close_start, close_end = m.start(), m.start(), m.end()
                break
            pos = m.end()
        if self.skip:
            return close_end, True
        content = src[k + 4 : content_end]
        if call is None:
            call = Call(Literal(None, self.sp(i, i)), [], [], self.sp(i, k + 4))
        program = Program([Text(content, content, self.sp(k + 4, content_end), literal=True)] if content else [])
        block = BlockTag("raw", name, call, program, None, self.sp(i, k + 4))
        if close_start < n:
            block.close_span = self.sp(close_start, close_end)
        self.body.append(block)
        return close_end, True

    # -- blocks -----------------------------------------------------------------------------------
    def open_block(self, kind: str, name: str, call: Call, tag_span: tuple[int, int], strip: Strip) -> None:
        if len(self.stack) >= MAX_BLOCK_DEPTH:
            if not self.too_deep_reported:
                self.too_deep_reported = True
                self.issue(
                    "too-deep",
                    f"Blocks are nested more than {MAX_BLOCK_DEPTH} deep; the inner blocks are not analysed",
                    *tag_span,
                )
            self.skip = 1
            return
        block = BlockTag(kind, name, call, Program([]), None, self.sp(*tag_span), open_strip=strip)
        self.body.append(block)
        self.stack.append(_Frame(block, block, [], self.body))
        assert block.program is not None
        self.body = block.program.body

    def skip_tag(self, kind: str, a: int, b: int) -> None:
        if kind in ("block", "partial-block", "inline") or (kind == "inverted" and self.src[a:b].strip()):
            self.skip += 1
        elif kind == "close":
            self.skip -= 1

    def else_tag(self, tag_span: tuple[int, int], strip: Strip, call: Call | None) -> None:
        text = self.src[tag_span[0] : tag_span[1]]
        if not self.stack:
            self.issue("syntax", f"'{text}' is outside any block", *tag_span)
            return
        frame = self.stack[-1]
        if frame.seen_else:
            self.issue("syntax", f"'{text}' after '{{{{else}}}}' in the same block", *tag_span)
            return
        if frame.block.kind not in ("block", "inverted"):
            self.issue("syntax", f"'{text}' is not allowed in a '{frame.block.name}' block", *tag_span)
            return
        target = frame.target
        target.inverse_strip = strip
        if call is None:
            frame.seen_else = True
            target.inverse = Program([])
            self.body = target.inverse.body
            return
        if frame.block.kind == "inverted":
            self.issue("syntax", f"'{text}' cannot follow an inverted block '{{{{^...}}}}'", *tag_span)
            return
        link = BlockTag("block", _head_text(call), call, Program([]), None, self.sp(*tag_span), open_strip=strip)
        if frame.chain:
            # handlebars.yy gives a nested chain link the strip of the tag that ends its program.
            frame.chain[-1].close_strip = strip
        target.inverse = Program([link], chained=True)
        frame.chain.append(link)
        frame.target = link
        assert link.program is not None
        self.body = link.program.body

    def close_tag(self, tag_span: tuple[int, int], strip: Strip, a: int, b: int) -> None:
        name = self.close_name(a, b)
        if name is None:
            return
        text = self.src[tag_span[0] : tag_span[1]]
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth].block.name == name:
                break
        else:
            if self.stack:
                open_block = self.stack[-1].block
                self.issue(
                    "unmatched-close",
                    f"Found '{text}' but the open block is '{self.open_text(open_block)}' "
                    f"(close it with '{{{{/{open_block.name}}}}}')",
                    *tag_span,
                )
            else:
                self.issue("unmatched-close", f"Found '{text}' but no '{{{{#{name}}}}}' is open", *tag_span)
            return
        while len(self.stack) - 1 > depth:
            frame = self.stack[-1]
            self.issue(
                "unclosed-block",
                f"Block '{self.open_text(frame.block)}' was never closed (found '{text}' first)",
                frame.block.span.start - self.base,
                frame.block.span.end - self.base,
            )
            self.pop(strip=NO_STRIP, close_span=None)
        self.pop(strip=strip, close_span=self.sp(*tag_span))

    def close_name(self, a: int, b: int) -> str | None:
        text = self.src[a:b].strip()
        if self.mustache:
            return text
        try:
            toks = _tokenize(self.src, a, b)
            parser = _ExprParser(toks, self.src, self.base, b)
            head = parser.expr()
            if parser.peek() is not None:
                raise parser.fail_here("A closing tag holds only the block's name")
        except _SyntaxErr as err:
            self.issue(err.kind if err.kind != "too-deep" else "syntax", err.message, err.start, err.end)
            return text.split()[0] if text.split() else None
        return head.original if isinstance(head, PathExpr) else text

    def open_text(self, block: BlockTag) -> str:
        sigil = {"inverted": "^", "partial": "#>", "inline": "#*"}.get(block.kind, "#")
        return f"{{{{{sigil}{block.name}}}}}"

    def pop(self, *, strip: Strip, close_span: Span | None) -> None:
        frame = self.stack.pop()
        block = frame.block
        block.close_strip = strip
        block.close_span = close_span
        if frame.chain:
            frame.chain[0].close_strip = strip
        if block.kind == "inverted":
            block.program, block.inverse = block.inverse, block.program
        self.body = frame.parent_body

    def finish(self) -> None:
        while self.stack:
            block = self.stack[-1].block
            self.issue(
                "unclosed-block",
                f"Block '{self.open_text(block)}' was never closed",
                block.span.start - self.base,
                block.span.end - self.base,
            )
            self.pop(strip=NO_STRIP, close_span=None)

    # -- Mustache ---------------------------------------------------------------------------------
    def mustache_tag(self, i: int) -> tuple[int, bool]:
        src, n = self.src, len(self.src)
        otag, ctag = self.otag, self.ctag
        j = i + len(otag)
        triple = otag == "{{" and src.startswith("{", j)
        closer = "}" + ctag if triple else ctag
        k = src.find(closer, j + (1 if triple else 0))
        o = src.find(otag, j + (1 if triple else 0))
        head = "{" if triple else src[j : k if k >= 0 else n].lstrip()[:1]
        if 0 <= o < (k if k >= 0 else n) and not (k >= 0 and head == "!"):
            # mustache.js reads everything up to the closing delimiter as the tag: `{{! a {{b}}` is a comment and
            # `{{a {{b}}` the variable `a {{b`, rendered empty; a section of that name never closes, so it fails.
            message = f"Unterminated '{otag}': a new '{otag}' starts before it is closed"
            # A `{` after spaces (`{{ {x}}`) starts a triple tag that `}}` does not close.
            if k < 0 or head in ("#", "^", "/", "=") or (head == "{" and not triple):
                self.issue("stray-brace", message, i, i + len(otag))
                return o, False
            end = k + len(closer)
            message += f" (Mustache reads '{src[i:end]}' as one name and renders it empty)"
            self.issue("stray-brace", message, i, i + len(otag), reaches_model=True)
            return end, True
        if k < 0:
            self.issue("stray-brace", f"Unterminated '{otag}': no matching '{closer}'", i, i + len(otag))
            return n, False
        end = k + len(closer)
        tag_span = (i, end)
        a, b = (j + 1 if triple else j), k
        content = src[a:b]
        sigil = content[:1]
        if triple:
            sigil = "{"
        elif sigil in ("#", "^", "/", "!", ">", "&", "="):
            a += 1
        else:
            sigil = ""
        if sigil == "!":
            if not self.skip:
                self.comment(i, end, src[a:b], NO_STRIP)
            return end, True
        if sigil == "=":
            inner = src[a:b]
            parts = inner[:-1].split() if inner.endswith("=") else []
            if len(parts) != 2:
                self.issue("syntax", "Set-delimiter tags look like '{{=<% %>=}}'", *tag_span)
            else:
                self.otag, self.ctag = parts
                if not self.skip:
                    self.body.append(CommentTag("", NO_STRIP, self.sp(*tag_span)))
            return end, True
        if self.skip:
            if sigil in ("#", "^"):
                self.skip += 1
            elif sigil == "/":
                self.skip -= 1
            return end, True
        if sigil == "/":
            self.close_tag(tag_span, NO_STRIP, a, b)
            return end, True
        path = self.mustache_path(a, b, tag_span, sigil)
        if path is None:
            return end, True
        call = Call(path, [], [], self.sp(*tag_span))
        if sigil in ("#", "^"):
            self.open_block("block" if sigil == "#" else "inverted", path.original, call, tag_span, NO_STRIP)
        elif sigil == ">":
            self.body.append(PartialTag(call, NO_STRIP, self.sp(*tag_span)))
        else:
            self.body.append(MustacheTag(call, sigil == "", NO_STRIP, self.sp(*tag_span)))
        return end, True

    def mustache_path(self, a: int, b: int, tag_span: tuple[int, int], sigil: str) -> PathExpr | None:
        src = self.src
        raw = src[a:b]
        lead = len(raw) - len(raw.lstrip())
        name = raw.strip()
        start = a + lead
        tag_text = src[tag_span[0] : tag_span[1]]
        # mustache.js looks any variable tag's text up as one name: an odd name renders empty, it never fails.
        # Sections must still close with the same text, so only variable tags are accepted as they are.
        empty = "" if sigil in ("#", "^", "/") else ": Mustache renders it as an empty value"
        if not name:
            self.issue("syntax", f"Empty tag '{tag_text}'{empty}", *tag_span, reaches_model=bool(empty))
            return None
        words = name.split()
        if len(words) > 1 or name == "else" or any(c in name for c in '()|"'):
            head = words[0]
            if head in HANDLEBARS_ONLY_HEADS or "(" in name:
                self.issue(
                    "wrong-engine",
                    f"'{tag_text}' is Handlebars syntax; Mustache tags hold a single name{empty}",
                    *tag_span,
                    reaches_model=bool(empty),
                )
            elif "|" in name:
                self.issue(
                    "wrong-engine",
                    f"'{tag_text}' uses a Jinja filter; Mustache has no filters{empty}",
                    *tag_span,
                    reaches_model=bool(empty),
                )
            else:
                self.issue(
                    "syntax",
                    f"Mustache tag names cannot contain spaces: '{tag_text}'{empty}",
                    *tag_span,
                    reaches_model=bool(empty),
                )
            if name == "else" or sigil == ">":
                return None
            # Keep `head` for matching the closing tag, but as a name that is no variable and
            # looks up nothing (a Mustache engine would look up the whole text and find nothing).
            span = self.sp(start, start + len(head))
            return PathExpr(head, [], True, 0, False, span, None, [])
        if sigil == ">":
            span = self.sp(start, start + len(name))
            return PathExpr(name, [name], False, 0, False, span, span, [span])
        if name == ".":
            return PathExpr(".", [], False, 0, True, self.sp(start, start + 1), None)
        parts = name.split(".")
        if any(not p for p in parts):
            self.issue("syntax", f"Malformed name '{name}'{empty}", start, start + len(name), reaches_model=bool(empty))
            return None
        part_spans, pos = [], start
        for part in parts:
            part_spans.append(self.sp(pos, pos + len(part)))
            pos += len(part) + 1
        return PathExpr(name, parts, False, 0, False, self.sp(start, start + len(name)), part_spans[0], part_spans)


_JINJA_RE = re.compile(r"\{%[-+]?\s*[a-zA-Z_][^\n]*?%\}|\{#[^\n]*?#\}", re.S)


def _next_brace(src: str, k: int, b: int) -> int:
    i = src.find("{", k, b)
    j = src.find("}", k, b)
    if i < 0:
        return j
    if j < 0:
        return i
    return min(i, j)


def _head_text(call: Call | None) -> str:
    if call is None:
        return "?"
    path = call.path
    if isinstance(path, PathExpr):
        return path.original
    if isinstance(path, Literal):
        return str(path.value)
    return "(...)"


# -- whitespace control (port of handlebars-parser lib/whitespace-control.js) ---------------------

_PREV_WS_SIBLING = re.compile(r"\r?\n\s*?\Z")
_PREV_WS_ROOT = re.compile(r"(^|\r?\n)\s*?\Z")
_NEXT_WS_SIBLING = re.compile(r"^\s*?\r?\n")
_NEXT_WS_ROOT = re.compile(r"^\s*?(\r?\n|\Z)")


def _ws_program(body: list[Node], is_root: bool) -> None:
    for i, current in enumerate(body):
        strip = _ws_accept(current)
        if strip is None:
            continue
        prev_ws = _is_prev_ws(body, i, is_root)
        next_ws = _is_next_ws(body, i, is_root)
        open_standalone = strip.get("openStandalone") and prev_ws
        close_standalone = strip.get("closeStandalone") and next_ws
        inline_standalone = strip.get("inlineStandalone") and prev_ws and next_ws

        if strip.get("close"):
            _omit_right(body, i, True)
        if strip.get("open"):
            _omit_left(body, i, True)
        if inline_standalone:
            _omit_right(body, i)
            if _omit_left(body, i) and isinstance(current, PartialTag):
                prev = body[i - 1]
                assert isinstance(prev, Text)
                m = re.search(r"[ \t]+\Z", prev.original)
                current.indent = m.group() if m else ""
        if open_standalone:
            assert isinstance(current, BlockTag)
            _omit_right(_program_of(current).body)
            _omit_left(body, i)
        if close_standalone:
            assert isinstance(current, BlockTag)
            _omit_right(body, i)
            _omit_left((current.inverse or _program_of(current)).body)


def _program_of(block: BlockTag) -> Program:
    program = block.program or block.inverse
    assert program is not None
    return program


def _ws_accept(node: Node) -> dict[str, bool] | None:
    if isinstance(node, Text):
        return None
    if isinstance(node, MustacheTag | DecoratorTag):
        return {"open": node.strip.open, "close": node.strip.close}
    if isinstance(node, PartialTag | CommentTag):
        return {"inlineStandalone": True, "open": node.strip.open, "close": node.strip.close}
    return _ws_block(node)


def _ws_block(block: BlockTag) -> dict[str, bool]:
    if block.program is not None:
        _ws_program(block.program.body, False)
    if block.inverse is not None:
        _ws_program(block.inverse.body, False)
    program = _program_of(block)
    inverse = block.inverse if block.program is not None else None
    first_inverse = last_inverse = inverse
    if inverse is not None and inverse.chained:
        first = inverse.body[0]
        assert isinstance(first, BlockTag) and first.program is not None
        first_inverse = first.program
        # Mirrors whitespace-control.js, which walks `.program` of the last chain link.
        while last_inverse is not None and last_inverse.chained:
            last = last_inverse.body[-1]
            assert isinstance(last, BlockTag)
            last_inverse = last.program
    strip = {
        "open": block.open_strip.open,
        "close": block.close_strip.close,
        "openStandalone": _is_next_ws(program.body),
        "closeStandalone": _is_prev_ws((first_inverse or program).body),
    }
    if block.open_strip.close:
        _omit_right(program.body, None, True)
    if inverse is not None:
        assert first_inverse is not None
        if block.inverse_strip.open:
            _omit_left(program.body, None, True)
        if block.inverse_strip.close:
            _omit_right(first_inverse.body, None, True)
        if block.close_strip.open and last_inverse is not None:
            _omit_left(last_inverse.body, None, True)
        if _is_prev_ws(program.body) and _is_next_ws(first_inverse.body):
            _omit_left(program.body)
            _omit_right(first_inverse.body)
    elif block.close_strip.open:
        _omit_left(program.body, None, True)
    return strip


def _is_prev_ws(body: list[Node], i: int | None = None, is_root: bool = False) -> bool:
    if i is None:
        i = len(body)
    prev = body[i - 1] if i - 1 >= 0 else None
    sibling = body[i - 2] if i - 2 >= 0 else None
    if prev is None:
        return is_root
    if isinstance(prev, Text):
        # Same test as _PREV_WS_SIBLING / _PREV_WS_ROOT, on the trailing whitespace only: those unanchored
        # searches retry at every newline of a long text (quadratic on big prompts).
        text = prev.original
        tail = text[len(text.rstrip()):]
        if "\n" in tail:
            return True
        return not (sibling is not None or not is_root) and tail == text
    return False


def _is_next_ws(body: list[Node], i: int | None = None, is_root: bool = False) -> bool:
    if i is None:
        i = -1
    nxt = body[i + 1] if i + 1 < len(body) else None
    sibling = body[i + 2] if i + 2 < len(body) else None
    if nxt is None:
        return is_root
    if isinstance(nxt, Text):
        pattern = _NEXT_WS_SIBLING if (sibling is not None or not is_root) else _NEXT_WS_ROOT
        return pattern.search(nxt.original) is not None
    return False


def _omit_right(body: list[Node], i: int | None = None, multiple: bool = False) -> None:
    j = 0 if i is None else i + 1
    current = body[j] if j < len(body) else None
    if not isinstance(current, Text) or (not multiple and current.right_stripped):
        return
    original = current.value
    current.value = re.sub(r"^\s+" if multiple else r"^[ \t]*\r?\n?", "", original, count=1)
    current.right_stripped = current.value != original


def _omit_left(body: list[Node], i: int | None = None, multiple: bool = False) -> bool:
    j = len(body) - 1 if i is None else i - 1
    current = body[j] if j >= 0 else None
    if not isinstance(current, Text) or (not multiple and current.left_stripped):
        return False
    original = current.value
    current.value = re.sub(r"\s+\Z" if multiple else r"[ \t]+\Z", "", original, count=1)
    current.left_stripped = current.value != original
    return current.left_stripped
