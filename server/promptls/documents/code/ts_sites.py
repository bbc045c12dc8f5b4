"""Find LLM SDK use in TypeScript and JavaScript with tree-sitter: the imports (ESM and CommonJS) of the Anthropic,
OpenAI, Google GenAI and Ollama SDKs, the clients constructed from them and the model calls made through them,
with their literal arguments evaluated as far as static analysis can, as a `CodeDocument`.

tree-sitter reports UTF-8 byte offsets; every span here is converted to code-point offsets into the text
(`core.positions.Utf8Offsets`).
"""

from __future__ import annotations

import re
from functools import cache

from tree_sitter import Language, Node, Parser, Query, QueryCursor

from promptls.core.positions import Span, Utf8Offsets
from promptls.documents.code.model import UNKNOWN, CallSite, ClientInit, ClientRef, CodeDocument, Location, Value

# Module specifier -> SDK; subpaths (`ollama/browser`, `@google/genai/node`) belong to their package.
_MODULES = {"@anthropic-ai/sdk": "anthropic", "@anthropic-ai/bedrock-sdk": "anthropic",
            "@anthropic-ai/vertex-sdk": "anthropic", "openai": "openai", "@google/genai": "gemini",
            "ollama": "ollama"}
_MARKERS = ("@anthropic-ai/", "openai", "@google/genai", "ollama")
_CLASSES = {"anthropic": frozenset({"Anthropic", "AnthropicBedrock", "AnthropicVertex"}),
            "openai": frozenset({"OpenAI", "AzureOpenAI"}), "gemini": frozenset({"GoogleGenAI"}),
            "ollama": frozenset({"Ollama"})}

# (member path as written, normalised API, SDKs with that shape in order of preference); longest paths first.
_APIS: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("chat", "completions", "create"), "chat.completions.create", ("openai",)),
    (("chat", "completions", "parse"), "chat.completions.parse", ("openai",)),
    (("chat", "completions", "stream"), "chat.completions.stream", ("openai",)),
    (("messages", "create"), "messages.create", ("anthropic",)),
    (("messages", "stream"), "messages.stream", ("anthropic",)),
    (("messages", "countTokens"), "messages.count_tokens", ("anthropic",)),
    (("responses", "create"), "responses.create", ("openai",)),
    (("responses", "parse"), "responses.parse", ("openai",)),
    (("responses", "stream"), "responses.stream", ("openai",)),
    (("models", "generateContent"), "models.generate_content", ("gemini",)),
    (("models", "generateContentStream"), "models.generate_content_stream", ("gemini",)),
    (("models", "countTokens"), "models.count_tokens", ("gemini",)),
    (("completions", "create"), "completions.create", ("openai", "anthropic")),
    (("chat",), "chat", ("ollama",)),
    (("generate",), "generate", ("ollama",)),
)
_WRAPPERS = frozenset({"parenthesized_expression", "as_expression", "satisfies_expression", "non_null_expression",
                       "type_assertion"})
_STATEMENTS = frozenset({"expression_statement", "lexical_declaration", "variable_declaration", "return_statement",
                         "throw_statement", "if_statement", "for_statement", "for_in_statement", "while_statement",
                         "do_statement", "switch_statement", "public_field_definition", "field_definition"})
_DECLARATIONS = frozenset({"function_declaration", "generator_function_declaration", "class_declaration",
                           "abstract_class_declaration", "interface_declaration", "type_alias_declaration",
                           "enum_declaration", "module", "internal_module"})
_FUNCTIONS = frozenset({"function_declaration", "function_expression", "function", "arrow_function",
                        "method_definition", "generator_function_declaration", "generator_function"})
_GRAMMARS = {"typescript": "typescript", "tsx": "tsx", "typescriptreact": "tsx", "javascript": "javascript",
             "javascriptreact": "javascript"}
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


@cache
def _language(grammar: str) -> Language:
    if grammar == "javascript":
        import tree_sitter_javascript

        return Language(tree_sitter_javascript.language())
    import tree_sitter_typescript

    return Language(tree_sitter_typescript.language_tsx() if grammar == "tsx"
                    else tree_sitter_typescript.language_typescript())


@cache
def _parser(grammar: str) -> Parser:
    return Parser(_language(grammar))


@cache
def _query(grammar: str) -> Query:
    return Query(_language(grammar), "(new_expression) @new (call_expression) @call (comment) @comment")


def parse_tree(text: str, language: str) -> Node:
    """The tree-sitter root node of `text` in the grammar for `language` (also used by tests and edit checks)."""
    return _parser(_GRAMMARS.get(language, "javascript")).parse(text.encode("utf-8", "surrogatepass")).root_node


def extract_ts(path: str, text: str, language: str, env=None) -> CodeDocument:
    """The SDK clients and calls of a TypeScript ("typescript", "tsx") or JavaScript ("javascript") file; `env`
    (a `python_sites.Environment` from the workspace index) resolves names imported from other modules."""
    if not any(marker in text for marker in _MARKERS) and not (env is not None and env.names):
        return CodeDocument(path=path, text=text, language=language)
    ext = _Extractor(text, language)
    ext.env = env
    return ext.document(path)


def _named(node: Node) -> list[Node]:
    """Named children without comments (which tree-sitter places anywhere)."""
    return [c for c in node.named_children if c.type != "comment"]


def _unwrap(node: Node) -> Node:
    """Look through `( )`, `as T`, `satisfies T`, `x!` and `<T>x`: they do not change the value."""
    while node.type in _WRAPPERS:
        inner = _named(node)
        if not inner:
            break
        node = inner[-1] if node.type == "type_assertion" else inner[0]
    return node


def _sdk_of(module: str) -> str | None:
    for name, sdk in _MODULES.items():
        if module == name or module.startswith(name + "/"):
            return sdk
    return None


def unescape_js(raw: str) -> str:
    """The value of the inside of a JS string literal (escapes decoded, line continuations removed)."""
    def one(m: re.Match[str]) -> str:
        seq = m.group(1)
        if seq[0] == "u":
            return chr(int(seq[2:-1] if seq[1] == "{" else seq[1:], 16))
        if seq[0] == "x":
            return chr(int(seq[1:], 16))
        if seq in ("\n", "\r", "\r\n", "\u2028", "\u2029"):
            return ""
        return _SIMPLE_ESCAPES.get(seq, seq)

    out = _ESCAPE.sub(one, raw) if "\\" in raw else raw
    if any("\ud800" <= ch <= "\udfff" for ch in out):  # `\uD83D\uDE00` pairs: join into one character
        out = out.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return out


def _number(source: str) -> int | float | None:
    s = source.replace("_", "")
    try:
        if s.endswith("n"):
            return int(s[:-1], 0)
        if s[:2].lower() in ("0x", "0o", "0b"):
            return int(s, 0)
        return int(s) if s.isdigit() else float(s)
    except ValueError:
        return None


def _pattern_names(node: Node) -> list[str]:
    """Names bound by a declarator's name: an identifier or a destructuring pattern."""
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        return [node.text.decode()]
    if node.type == "pair_pattern":
        value = node.child_by_field_name("value")
        return _pattern_names(value) if value is not None else []
    if node.type in ("assignment_pattern", "object_assignment_pattern"):
        left = node.child_by_field_name("left")
        return _pattern_names(left) if left is not None else []
    return [n for c in _named(node) for n in _pattern_names(c)]


class _Extractor:
    def __init__(self, text: str, language: str) -> None:
        self.text = text
        self.language = language
        self.grammar = _GRAMMARS.get(language, "javascript")
        self.cp = Utf8Offsets(text).to_char
        self.root = _parser(self.grammar).parse(text.encode("utf-8", "surrogatepass")).root_node
        self.sdks: set[str] = set()
        self.classes: dict[str, str] = {}  # local name of a client class -> SDK
        self.namespaces: dict[str, str] = {}  # `import * as x` / `const x = require(...)` -> SDK
        self.instances: dict[str, str] = {}  # receiver text of a client (`client`, `this.client`, `ollama`) -> SDK
        self.new_sdks: dict[int, str] = {}  # start byte of a client `new` expression -> SDK
        self.consts: dict[str, Node] = {}  # top-level `const` name -> its initializer
        self.const_values: dict[str, Value] = {}
        self.resolving: set[str] = set()
        self.top_names: set[str] = set()
        self.import_end = -1  # end byte of the last top-level import/require statement
        self.env = None  # names imported from the workspace (see `extract_ts`)
        self.refs: dict[int, ClientRef] = {}  # start byte of a call -> the workspace client it goes through

    # -- positions -----------------------------------------------------------------------------------------
    def span(self, node: Node) -> Span:
        return Span(self.cp(node.start_byte), self.cp(node.end_byte))

    def source(self, node: Node) -> str:
        s = self.span(node)
        return self.text[s.start:s.end]

    # -- the document --------------------------------------------------------------------------------------
    def document(self, path: str) -> CodeDocument:
        for child in self.root.children:
            self._top_level(child)
        captures = QueryCursor(_query(self.grammar)).captures(self.root)
        clients = [c for n in sorted(captures.get("new", []), key=lambda n: n.start_byte) if (c := self._client(n))]
        calls = [c for n in sorted(captures.get("call", []), key=lambda n: n.start_byte) if (c := self._call(n))]
        comments = [(self.span(n), self.source(n)) for n in captures.get("comment", [])
                    if b"promptls-" in (n.text or b"")]
        return CodeDocument(path=path, text=self.text, language=self.language, calls=calls, clients=clients,
                            sdks=frozenset(self.sdks), comments=sorted(comments, key=lambda c: c[0].start),
                            import_insert_at=self._import_insert_at(), top_level_names=frozenset(self.top_names))

    def _import_insert_at(self) -> int:
        if self.import_end < 0:
            first = self.root.children[0] if self.root.children else None
            if first is not None and first.type == "hash_bang_line":  # never above `#!/usr/bin/env node`
                return self._line_after(self.cp(first.end_byte))
            return 0
        return self._line_after(self.cp(self.import_end))

    def _line_after(self, offset: int) -> int:
        nl = self.text.find("\n", offset)
        return len(self.text) if nl < 0 else nl + 1

    # -- top level: imports, requires, constants, names ----------------------------------------------------
    def _top_level(self, node: Node) -> None:
        if node.type == "export_statement":
            decl = node.child_by_field_name("declaration")
            if decl is not None:
                self._top_level(decl)
            return
        if node.type == "import_statement":
            self.import_end = node.end_byte
            self._import(node)
        elif node.type in ("lexical_declaration", "variable_declaration"):
            self._declaration(node)
        elif node.type in _DECLARATIONS:
            name = node.child_by_field_name("name")
            if name is not None:
                self.top_names.add(self.source(name))

    def _import(self, node: Node) -> None:
        source = node.child_by_field_name("source")
        sdk = _sdk_of(self._string(source)) if source is not None and source.type == "string" else None
        if sdk:
            self.sdks.add(sdk)
        for part in _named(node):
            if part.type == "import_require_clause":  # TS `import x = require("openai")`
                name, module = part.named_children[0], part.child_by_field_name("source")
                self.top_names.add(self.source(name))
                req_sdk = _sdk_of(self._string(module)) if module is not None else None
                if req_sdk:
                    self.import_end = node.end_byte
                    self.sdks.add(req_sdk)
                    self._bind_module(self.source(name), req_sdk)
            elif part.type == "import_clause":
                self._import_clause(part, sdk)

    def _import_clause(self, clause: Node, sdk: str | None) -> None:
        for c in _named(clause):
            if c.type == "identifier":
                self.top_names.add(self.source(c))
                if sdk:
                    self._bind_named("default", self.source(c), sdk)
            elif c.type == "namespace_import":
                local = self.source(_named(c)[0])
                self.top_names.add(local)
                if sdk:
                    self.namespaces[local] = sdk
            elif c.type == "named_imports":
                for spec in _named(c):
                    name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                    if name is None:
                        continue
                    local = self.source(alias or name)
                    self.top_names.add(local)
                    if sdk:
                        self._bind_named(self.source(name), local, sdk)

    def _bind_named(self, imported: str, local: str, sdk: str) -> None:
        if imported == "default":
            # ollama's default export is a ready client; the others export the client class
            (self.instances if sdk == "ollama" else self.classes)[local] = sdk
        elif imported in _CLASSES[sdk]:
            self.classes[local] = sdk

    def _bind_module(self, local: str, sdk: str) -> None:
        """`const x = require(m)`: the module object, which for anthropic/openai is also the client class."""
        self.namespaces[local] = sdk
        if sdk != "ollama":
            self.classes[local] = sdk

    def _declaration(self, node: Node) -> None:
        is_const = any(c.type == "const" for c in node.children)
        for decl in _named(node):
            if decl.type != "variable_declarator":
                continue
            name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
            if name is None:
                continue
            self.top_names.update(_pattern_names(name))
            if value is None:
                continue
            if is_const and name.type == "identifier":
                self.consts[self.source(name)] = _unwrap(value)
            required = self._required(value)
            if required is not None:
                self.import_end = node.end_byte
                self._bind_required(name, *required)

    def _required(self, node: Node) -> tuple[str, str | None] | None:
        """(module, member) for `require("m")` / `require("m").member`, else None."""
        node = _unwrap(node)
        member = None
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            member = self.source(prop) if prop is not None else None
            node = _unwrap(node.child_by_field_name("object"))
        if node.type != "call_expression":
            return None
        fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
        if fn is None or fn.type != "identifier" or self.source(fn) != "require" or args is None:
            return None
        items = _named(args)
        if len(items) != 1 or items[0].type != "string":
            return None
        return self._string(items[0]), member

    def _bind_required(self, name: Node, module: str, member: str | None) -> None:
        sdk = _sdk_of(module)
        if sdk is None:
            return
        self.sdks.add(sdk)
        if name.type == "identifier":
            if member is None:
                self._bind_module(self.source(name), sdk)
            else:
                self._bind_named(member, self.source(name), sdk)
        elif name.type == "object_pattern" and member is None:
            for part in _named(name):
                if part.type == "shorthand_property_identifier_pattern":
                    self._bind_named(self.source(part), self.source(part), sdk)
                elif part.type == "pair_pattern":
                    key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
                    if key is not None and value is not None and value.type == "identifier":
                        self._bind_named(self._key(key) or "", self.source(value), sdk)

    # -- clients -------------------------------------------------------------------------------------------
    def _client_sdk(self, ctor: Node | None) -> str | None:
        if ctor is None:
            return None
        ctor = _unwrap(ctor)
        if ctor.type == "identifier":
            return self.classes.get(self.source(ctor))
        if ctor.type == "member_expression":
            obj, prop = ctor.child_by_field_name("object"), ctor.child_by_field_name("property")
            sdk = self.namespaces.get(self.source(obj)) if obj is not None and obj.type == "identifier" else None
            if sdk and prop is not None and (self.source(prop) in _CLASSES[sdk] or self.source(prop) == "default"):
                return sdk
        return None

    def _client(self, node: Node) -> ClientInit | None:
        ctor = node.child_by_field_name("constructor")
        sdk = self._client_sdk(ctor)
        if sdk is None or ctor is None:
            return None
        self.new_sdks[node.start_byte] = sdk
        args, insert_at, prefix, suffix, has_spread, _positional = self._arguments(
            node.child_by_field_name("arguments"), ctor)
        var = self._assigned_target(node)
        if var:
            self.instances[var] = sdk
        return ClientInit(sdk=sdk, span=self.span(node), callee=self.source(ctor), args=args, insert_at=insert_at,
                          insert_prefix=prefix, insert_suffix=suffix, var=var, has_spread=has_spread)

    def _assigned_target(self, node: Node) -> str | None:
        """The variable, `this.x` or class field a client is stored in."""
        child, parent = node, node.parent
        while parent is not None and (parent.type in _WRAPPERS or parent.type == "await_expression"):
            child, parent = parent, parent.parent
        if parent is None:
            return None
        if parent.type == "variable_declarator" and parent.child_by_field_name("value") == child:
            name = parent.child_by_field_name("name")
            return self.source(name) if name is not None and name.type == "identifier" else None
        if parent.type == "assignment_expression" and parent.child_by_field_name("right") == child:
            left = parent.child_by_field_name("left")
            return _receiver_key(self.source(left)) if left is not None else None
        if parent.type in ("public_field_definition", "field_definition"):
            name = parent.child_by_field_name("name") or parent.child_by_field_name("property")
            return f"this.{self.source(name)}" if name is not None else None
        return None

    # -- arguments -----------------------------------------------------------------------------------------
    def _arguments(self, args: Node | None, anchor: Node
                   ) -> tuple[dict[str, Value], int, str, str, bool, list[Value]]:
        """(properties of the options object, insert_at, prefix, suffix, has_spread, other arguments)."""
        if args is None or args.type != "arguments":  # `new OpenAI` without parentheses
            return {}, self.cp(anchor.end_byte), "({ ", " })", False, []
        items = _named(args)
        if not items:
            return {}, self.cp(args.start_byte) + 1, "{ ", " }", False, []
        first = _unwrap(items[0])
        rest = [self.value(n) for n in items[1:]]
        if first.type != "object":
            # the options come from an expression: anything may be in it, and nothing can be inserted into it
            return {}, self.cp(items[0].end_byte), "", "", True, [self.value(items[0]), *rest]
        props, spread, _partial = self._properties(first)
        insert_at, prefix, suffix = self._insert_point(first)
        return props, insert_at, prefix, suffix, spread, rest

    def _insert_point(self, obj: Node) -> tuple[int, str, str]:
        props = _named(obj)
        if not props:
            after_brace = self.cp(obj.start_byte) + 1
            inside = self.text[after_brace:self.cp(obj.end_byte) - 1]
            return after_brace, " ", "" if inside[:1].isspace() else " "
        last = props[-1]
        trailing = None
        sibling = last.next_sibling
        while sibling is not None and sibling.type != "}":
            if sibling.type == ",":
                trailing = sibling
            sibling = sibling.next_sibling
        if trailing is not None:
            return self.cp(trailing.end_byte), " ", ""
        return self.cp(last.end_byte), ", ", ""

    def _properties(self, obj: Node) -> tuple[dict[str, Value], bool, bool]:
        """(key -> Value, has a spread, has anything unreadable: spread, computed key, method)."""
        out: dict[str, Value] = {}
        spread = partial = False
        for p in _named(obj):
            if p.type == "pair":
                key, value = p.child_by_field_name("key"), p.child_by_field_name("value")
                name = self._key(key) if key is not None else None
                if name is None or value is None:
                    partial = True
                    continue
                out[name] = self.value(value)
            elif p.type == "shorthand_property_identifier":
                out[self.source(p)] = self._identifier(p)
            else:
                spread |= p.type == "spread_element"
                partial = True
        return out, spread, partial

    def _key(self, key: Node) -> str | None:
        if key.type in ("property_identifier", "identifier"):
            return self.source(key)
        if key.type == "string":
            return self._string(key)
        if key.type == "computed_property_name":
            inner = _named(key)
            return self._string(inner[0]) if len(inner) == 1 and inner[0].type == "string" else None
        return None

    # -- values --------------------------------------------------------------------------------------------
    def _string(self, node: Node) -> str:
        s = self.span(node)
        return unescape_js(self.text[s.start + 1:s.end - 1])

    def value(self, node: Node) -> Value:
        inner = _unwrap(node)
        span = self.span(inner)
        v = Value(span=span, source=self.text[span.start:span.end])
        kind = inner.type
        if kind == "string":
            v.value = self._string(inner)
        elif kind == "template_string":
            v.value, v.partial = self._template(inner)
        elif kind == "number":
            number = _number(v.source)
            v.value = UNKNOWN if number is None else number
        elif kind == "unary_expression":
            self._unary(inner, v)
        elif kind in ("true", "false"):
            v.value = kind == "true"
        elif kind == "null" or (kind in ("identifier", "undefined") and v.source == "undefined"):
            v.value = None
        elif kind == "array":
            v.value, v.partial = self._array(inner)
        elif kind == "object":
            v.value, _spread, v.partial = self._properties(inner)
        elif kind == "binary_expression":
            self._concat(inner, v)
        elif kind == "identifier":
            return self._identifier(inner)
        elif kind == "member_expression" and self.env is not None:
            key = _receiver_key(v.source)
            head = key.partition(".")[0]
            if head in self.env.names and not self._own_const(head) and re.fullmatch(r"[\w$.]+", key):
                self._external(v, key)
        return v

    def _external(self, v: Value, name: str) -> None:
        hit = self.env.constant(name) if self.env is not None else None
        if hit is not None and hit[0].known:
            v.value, v.partial, v.name, v.defined_in = hit[0].value, hit[0].partial, name, hit[1]

    def _template(self, node: Node) -> tuple[str, bool]:
        """Static text of a template literal, `${...}` in place of each substitution."""
        span = self.span(node)
        pos, parts, holes = span.start + 1, [], 0
        for sub in (c for c in node.named_children if c.type == "template_substitution"):
            s = self.span(sub)
            parts.append(self._cooked(self.text[pos:s.start]))
            pos, holes = s.end, holes + 1
        parts.append(self._cooked(self.text[pos:span.end - 1]))
        return "${...}".join(parts), holes > 0

    @staticmethod
    def _cooked(raw: str) -> str:
        return unescape_js(raw.replace("\r\n", "\n").replace("\r", "\n"))

    def _unary(self, node: Node, v: Value) -> None:
        op, arg = node.child_by_field_name("operator"), node.child_by_field_name("argument")
        if op is None or arg is None or op.type not in ("-", "+"):
            return
        inner = self.value(arg)
        if isinstance(inner.value, int | float) and not isinstance(inner.value, bool):
            v.value = -inner.value if op.type == "-" else inner.value

    def _array(self, node: Node) -> tuple[list[Value], bool]:
        items, partial = [], False
        for c in _named(node):
            if c.type == "spread_element":
                partial = True
            else:
                items.append(self.value(c))
        return items, partial

    def _concat(self, node: Node, v: Value) -> None:
        """`"a" + "b"` (and `"a" + name`, whose unknown side reads `${...}` like a template hole)."""
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is None or op.type != "+" or left is None or right is None:
            return
        a, b = self.value(left), self.value(right)
        if not isinstance(a.value, str) and not isinstance(b.value, str):
            return
        pieces = [x.value if isinstance(x.value, str) else "${...}" for x in (a, b)]
        v.value = "".join(pieces)
        v.partial = a.partial or b.partial or not (isinstance(a.value, str) and isinstance(b.value, str))

    def _identifier(self, node: Node) -> Value:
        span = self.span(node)
        name = self.text[span.start:span.end]
        const = self._const(name) if name in self.consts and not self._shadowed(node, name) else None
        if const is None and name not in self.consts and self.env is not None and name in self.env.names \
                and not self._shadowed(node, name):
            v = Value(span=span, source=name)
            self._external(v, name)
            return v
        if const is None or (const.value is UNKNOWN and not const.partial):
            return Value(span=span, source=name)
        return Value(span=span, value=const.value, name=name, origin=const.written_at, partial=const.partial,
                     source=name)

    def _const(self, name: str) -> Value | None:
        if name in self.const_values:
            return self.const_values[name]
        if name in self.resolving:  # `const a = b; const b = a;`
            return None
        self.resolving.add(name)
        try:
            value = self.value(self.consts[name])
        finally:
            self.resolving.discard(name)
        self.const_values[name] = value
        return value

    def _shadowed(self, node: Node, name: str) -> bool:
        """A parameter or block-level declaration of `name` between the use and the module scope."""
        scope = node.parent
        while scope is not None and scope.type != "program":
            if scope.type in _FUNCTIONS and self._binds_parameter(scope, name):
                return True
            if scope.type in ("statement_block", "class_body", "switch_body") and self._declares(scope, name):
                return True
            scope = scope.parent
        return False

    def _binds_parameter(self, fn: Node, name: str) -> bool:
        params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
        if params is None:
            return False
        if params.type == "identifier":
            return self.source(params) == name
        stack = [params]
        while stack:
            n = stack.pop()
            if n.type in ("identifier", "shorthand_property_identifier_pattern") and self.source(n) == name:
                return True
            stack.extend(n.named_children)
        return False

    def _declares(self, block: Node, name: str) -> bool:
        for stmt in _named(block):
            if stmt.type in ("lexical_declaration", "variable_declaration"):
                for decl in _named(stmt):
                    target = decl.child_by_field_name("name")
                    if target is not None and name in _pattern_names(target):
                        return True
            elif stmt.type in _DECLARATIONS:
                target = stmt.child_by_field_name("name")
                if target is not None and self.source(target) == name:
                    return True
        return False

    # -- call sites ----------------------------------------------------------------------------------------
    def _call(self, node: Node) -> CallSite | None:
        fn = node.child_by_field_name("function")
        if fn is None or _unwrap(fn).type != "member_expression":
            return None
        members: list[Node] = []  # member expressions of the callee, outermost first
        cur = _unwrap(fn)
        while cur.type == "member_expression":
            members.append(cur)
            obj = cur.child_by_field_name("object")
            if obj is None:
                return None
            cur = _unwrap(obj)
        members.reverse()
        names = [self._property_name(m) for m in members]
        match = next((a for a in _APIS if tuple(names[-len(a[0]):]) == a[0]), None)
        if match is None:
            return None
        path, api, shapes = match
        first = len(names) - len(path)
        if first > 0 and names[first - 1] == "beta":  # `client.beta.chat.completions.parse` and friends
            first -= 1
        receiver = members[first].child_by_field_name("object")
        sdk = self._attribute(receiver, shapes) if receiver is not None else None
        ref = None
        if sdk is None and receiver is not None:
            ref = self._imported_client(receiver)
            sdk = ref.sdk if ref is not None and ref.sdk in shapes else None
        if sdk is None or receiver is None:
            return None
        site = self._site(node, fn, members[-1], receiver, sdk, api)
        site.client = ref
        return site

    def _imported_client(self, receiver: Node) -> ClientRef | None:
        """A client imported from another module of the workspace (`claude`, `clients.claude`)."""
        if self.env is None:
            return None
        key = _receiver_key(self.source(_unwrap(receiver)))
        head = key.partition(".")[0]
        if head not in self.env.names or self._own_const(head) or not re.fullmatch(r"[\w$.]+", key):
            return None
        return self.env.client(key)

    def _own_const(self, name: str) -> bool:
        """A top-level `const` of this module that is not a `require(...)` of another one."""
        node = self.consts.get(name)
        return node is not None and self._required(node) is None

    def _property_name(self, member: Node) -> str:
        prop = member.child_by_field_name("property")
        return self.source(prop) if prop is not None else ""

    def _attribute(self, receiver: Node, shapes: tuple[str, ...]) -> str | None:
        """The SDK a call belongs to: its client's, else (only for an imported SDK) its method shape's."""
        inner = _unwrap(receiver)
        if inner.type == "new_expression" and inner.start_byte in self.new_sdks:
            sdk = self.new_sdks[inner.start_byte]
            return sdk if sdk in shapes else None
        key = _receiver_key(self.source(inner))
        if key in self.instances:
            sdk = self.instances[key]
            return sdk if sdk in shapes else None
        if any(key.startswith(var + ".") for var in self.instances):
            return None  # a sub-resource of a known client (`openai.beta.threads.messages.create`)
        # Only a proven client: a parameter or class field annotated with an SDK client type. A receiver that
        # merely has the method's shape (a mock, a fixture, `makeClient()` from who knows where) is not one.
        sdk = self._annotated(inner, key)
        return sdk if sdk in shapes else None

    def _annotated(self, node: Node, key: str) -> str | None:
        """The SDK of the client type a receiver is annotated with: `(client: Anthropic)`, `c?: OpenAI.OpenAI`,
        `constructor(private client: Anthropic)` / `private client: Anthropic` for `this.client`."""
        field = key[5:] if key.startswith("this.") and key.count(".") == 1 else None
        if field is None and node.type != "identifier":
            return None
        scope = node.parent
        while scope is not None:
            if field is None and scope.type in _FUNCTIONS:
                params = scope.child_by_field_name("parameters")
                for p in _named(params) if params is not None else []:
                    name = p.child_by_field_name("pattern")
                    if name is not None and self.source(name) == key:
                        return self._type_sdk(p.child_by_field_name("type"))
            if field is not None and scope.type == "class_body":
                for member in _named(scope):
                    if member.type == "public_field_definition":
                        name = member.child_by_field_name("name")
                        if name is not None and self.source(name) == field:
                            return self._type_sdk(member.child_by_field_name("type"))
                    elif member.type == "method_definition" and self._property_name_of(member) == "constructor":
                        params = member.child_by_field_name("parameters")
                        for p in _named(params) if params is not None else []:
                            name = p.child_by_field_name("pattern")
                            if name is not None and self.source(name) == field \
                                    and any(c.type == "accessibility_modifier" for c in p.children):
                                return self._type_sdk(p.child_by_field_name("type"))
                return None
            scope = scope.parent
        return None

    def _property_name_of(self, method: Node) -> str:
        name = method.child_by_field_name("name")
        return self.source(name) if name is not None else ""

    def _type_sdk(self, annotation: Node | None) -> str | None:
        if annotation is None:
            return None
        for part in re.split(r"[|&]", self.source(annotation).lstrip(":")):
            name = part.strip()
            if name in self.classes:
                return self.classes[name]
            head, _, tail = name.rpartition(".")
            if head in self.namespaces and tail in _CLASSES[self.namespaces[head]]:
                return self.namespaces[head]
        return None

    def _site(self, node: Node, fn: Node, last: Node, receiver: Node, sdk: str, api: str) -> CallSite:
        prop = last.child_by_field_name("property")
        args, insert_at, prefix, suffix, has_spread, positional = self._arguments(
            node.child_by_field_name("arguments"), fn)
        statement = self._statement(node)
        line_start = self.text.rfind("\n", 0, statement.start) + 1
        line_end = self.text.find("\n", statement.end)
        line_end = len(self.text) if line_end < 0 else line_end
        if line_end > line_start and self.text[line_end - 1] == "\r":
            line_end -= 1
        indent = re.match(r"[ \t]*", self.text[line_start:line_end])
        parent = node.parent
        return CallSite(sdk=sdk, api=api, span=self.span(node), callee_span=self.span(fn),
                        method_span=self.span(prop if prop is not None else last), args=args, insert_at=insert_at,
                        insert_prefix=prefix, statement_span=Span(line_start, line_end),
                        indent=indent.group() if indent else "", receiver=self.source(receiver),
                        awaited=parent is not None and parent.type == "await_expression",
                        assigned_to=self._assigned_to(node), positional=positional, has_spread=has_spread,
                        insert_suffix=suffix)

    def _statement(self, node: Node) -> Span:
        cur: Node | None = node
        while cur is not None and cur.type not in _STATEMENTS:
            cur = cur.parent
        if cur is None:
            return self.span(node)
        if cur.parent is not None and cur.parent.type == "export_statement":
            cur = cur.parent
        return self.span(cur)

    def _assigned_to(self, node: Node) -> str | None:
        """`name` in `const name = [await] call;` (one declarator) or `name = [await] call;`."""
        child, parent = node, node.parent
        if parent is not None and parent.type == "await_expression":
            child, parent = parent, parent.parent
        if parent is None:
            return None
        if parent.type == "variable_declarator" and parent.child_by_field_name("value") == child:
            name, decl = parent.child_by_field_name("name"), parent.parent
            if name is None or name.type != "identifier" or decl is None or len(_named(decl)) != 1:
                return None
            return self.source(name)
        if parent.type == "assignment_expression" and parent.child_by_field_name("right") == child:
            left = parent.child_by_field_name("left")
            if left is not None and left.type == "identifier" and parent.parent is not None \
                    and parent.parent.type == "expression_statement":
                return self.source(left)
        return None


class TsModuleSymbols:
    """What one TypeScript/JavaScript module imports and exports, for the workspace index: its import specifiers,
    its exported clients and constants (evaluated lazily, `env` resolving its own imports)."""

    def __init__(self, path: str, text: str, language: str, env=None) -> None:
        self.path = path
        self.ext = _Extractor(text, language)
        self.ext.env = env
        for child in self.ext.root.children:
            self.ext._top_level(child)
        # local name -> (specifier, imported name; None for the module object)
        self.imports: dict[str, tuple[str, str | None]] = {}
        # exported name -> ("local", name) | ("from", specifier, name)
        self.exports: dict[str, tuple[str, ...]] = {}
        self.star_exports: list[str] = []
        for child in self.ext.root.children:
            self._scan(child)

    def _scan(self, node: Node) -> None:
        ext = self.ext
        if node.type == "import_statement":
            src = node.child_by_field_name("source")
            spec = ext._string(src) if src is not None and src.type == "string" else None
            for part in _named(node):
                if part.type == "import_require_clause":
                    module = part.child_by_field_name("source")
                    if module is not None:
                        self.imports[ext.source(part.named_children[0])] = (ext._string(module), None)
                elif part.type == "import_clause" and spec is not None:
                    for c in _named(part):
                        if c.type == "identifier":
                            self.imports[ext.source(c)] = (spec, "default")
                        elif c.type == "namespace_import":
                            self.imports[ext.source(_named(c)[0])] = (spec, None)
                        elif c.type == "named_imports":
                            for sp in _named(c):
                                name, alias = sp.child_by_field_name("name"), sp.child_by_field_name("alias")
                                if name is not None:
                                    self.imports[ext.source(alias or name)] = (spec, ext.source(name))
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for decl in _named(node):
                name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
                req = ext._required(value) if name is not None and value is not None else None
                if req is None:
                    continue
                spec, member = req
                if name.type == "identifier":
                    self.imports[ext.source(name)] = (spec, member)
                elif name.type == "object_pattern" and member is None:
                    for p in _named(name):
                        if p.type == "shorthand_property_identifier_pattern":
                            self.imports[ext.source(p)] = (spec, ext.source(p))
                        elif p.type == "pair_pattern":
                            key, val = p.child_by_field_name("key"), p.child_by_field_name("value")
                            if key is not None and val is not None and val.type == "identifier":
                                self.imports[ext.source(val)] = (spec, ext._key(key) or "")
        elif node.type == "export_statement":
            src = node.child_by_field_name("source")
            spec = ext._string(src) if src is not None and src.type == "string" else None
            decl = node.child_by_field_name("declaration")
            if decl is not None:
                if decl.type in ("lexical_declaration", "variable_declaration"):
                    self._scan(decl)
                    for d in _named(decl):
                        n = d.child_by_field_name("name")
                        if n is not None and n.type == "identifier":
                            self.exports[ext.source(n)] = ("local", ext.source(n))
                else:
                    n = decl.child_by_field_name("name")
                    if n is not None:
                        self.exports[ext.source(n)] = ("local", ext.source(n))
                return
            value = node.child_by_field_name("value")
            if value is not None and any(c.type == "default" for c in node.children):
                if _unwrap(value).type == "identifier":
                    self.exports["default"] = ("local", ext.source(_unwrap(value)))
                return
            clause = next((c for c in _named(node) if c.type == "export_clause"), None)
            if clause is None:
                if spec is not None:
                    self.star_exports.append(spec)
                return
            for sp in _named(clause):
                name, alias = sp.child_by_field_name("name"), sp.child_by_field_name("alias")
                if name is None:
                    continue
                exported = ext.source(alias or name)
                self.exports[exported] = ("from", spec, ext.source(name)) if spec is not None \
                    else ("local", ext.source(name))

    def location(self, node: Node) -> Location:
        span = self.ext.span(node)
        text = self.ext.text
        line_start = text.rfind("\n", 0, span.start) + 1
        line = text.count("\n", 0, span.start)
        line_end = text.find("\n", span.start)
        end = min(span.end, len(text) if line_end < 0 else line_end)
        return Location(self.path, line, span.start - line_start, end - line_start)

    def client(self, name: str) -> ClientRef | None:
        """The client a top-level `const` holds: `new Anthropic(...)`, or another client's name."""
        from promptls.documents.code.endpoints import client_ref

        ext = self.ext
        node = ext.consts.get(name)
        if node is None:
            return None
        node = _unwrap(node)
        if node.type == "await_expression" and node.named_children:
            node = _unwrap(node.named_children[0])
        if node.type == "new_expression":
            ctor = node.child_by_field_name("constructor")
            sdk = ext._client_sdk(ctor)
            if sdk is None or ctor is None:
                return None
            args = ext._arguments(node.child_by_field_name("arguments"), ctor)[0]
            return client_ref(sdk, ext.source(ctor), args, name, self.location(node))
        if node.type == "identifier" and ext.source(node) != name:
            other = ext.source(node)
            if other in ext.consts:
                return self.client(other)
            if ext.env is not None and other in ext.env.names:
                return ext.env.client(other)
        return None

    def constant(self, name: str) -> tuple[Value, Location] | None:
        ext = self.ext
        if name not in ext.consts:
            return None
        v = ext._const(name)
        if v is None or not v.known:
            return None
        if v.defined_in is not None:
            return v, v.defined_in
        node = ext.consts[name]
        return v, self.location(node)

    def definition(self, name: str) -> Location | None:
        node = self.ext.consts.get(name)
        if node is None or node.parent is None:
            return None
        target = node.parent.child_by_field_name("name")
        return self.location(target if target is not None else node)


def _receiver_key(source: str) -> str:
    """`this?.client` and `this.client` (or split over lines) name the same client."""
    return re.sub(r"\s+", "", source).replace("?.", ".")
