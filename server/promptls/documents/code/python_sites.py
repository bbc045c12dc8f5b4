"""Find LLM SDK use in a Python module with the standard `ast` module: which SDKs it imports, the clients it
constructs and the model calls it makes, with their arguments evaluated as far as literals and module-level
constants allow (nothing is ever executed).

Offsets: `ast` reports lines and UTF-8 byte columns; `core.positions.Utf8Lines` turns them into code-point offsets
into the whole text, which is what `Span` and the rest of the core use.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import tokenize
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol

from promptls.core.positions import Span, Utf8Lines
from promptls.documents.code.endpoints import client_ref
from promptls.documents.code.model import (
    API_NAMES,
    UNKNOWN,
    CallSite,
    ClientInit,
    ClientRef,
    CodeDocument,
    Location,
    Value,
)

# A file that mentions none of these cannot use an SDK: it is returned without parsing.
_MENTIONS = ("anthropic", "openai", "genai", "ollama", "litellm")
_MODULES = {"anthropic": "anthropic", "openai": "openai", "google.genai": "gemini", "ollama": "ollama",
            "litellm": "litellm"}
_CONSTRUCTORS = {
    "anthropic": frozenset({"Anthropic", "AsyncAnthropic", "AnthropicBedrock", "AsyncAnthropicBedrock",
                            "AnthropicVertex", "AsyncAnthropicVertex", "AnthropicFoundry", "AsyncAnthropicFoundry"}),
    "openai": frozenset({"OpenAI", "AsyncOpenAI", "AzureOpenAI", "AsyncAzureOpenAI"}),
    "gemini": frozenset({"Client"}),
    "ollama": frozenset({"Client", "AsyncClient"}),
}
_FUNCTIONS = {"ollama": frozenset({"chat", "generate"}), "litellm": frozenset({"completion", "acompletion"})}
# Method names that can end a model call; a statement whose text holds none of them (nor an imported SDK name)
# is not walked at all, which keeps large modules cheap.
_METHOD_WORDS = ("create", "stream", "count_tokens", "parse", "generate", "chat", "completion")
_DICT_CALL_SUFFIXES = ("Config", "Options", "HttpOptions", "Schema", "Content", "Part")
_BODY_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
             ast.With, ast.AsyncWith, ast.Try, ast.TryStar, ast.Match)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_MAX_CONSTANT_DEPTH = 16


class Environment(Protocol):
    """What the rest of the workspace tells one module about the names it imports (`workspace/` implements it):
    dotted names as written in this module, e.g. `claude`, `clients.claude`, `settings.MODEL`."""

    names: frozenset[str]  # first components of imported names the workspace can say something about

    def client(self, dotted: str) -> ClientRef | None: ...

    def factory(self, dotted: str) -> ClientRef | None: ...

    def constant(self, dotted: str) -> tuple[Value, Location] | None: ...

    # Optional: `stale_text` (not None when the module's own index entry lags the text being analysed) and
    # `parsed(tree)`, called with the tree of that text so the index catches up without parsing it again.


_CLIENT_METHODS = ("with_options", "copy")  # return a client of the same kind


def parse_quietly(source: str, **kwargs) -> ast.AST:
    """`ast.parse` without the SyntaxWarning/DeprecationWarning that user code with invalid escape sequences
    triggers: those are the user's linter's business, and in the server they would spam stderr per keystroke."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, **kwargs)


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


@dataclass(slots=True)
class _Found:
    """A call seen while walking, with what is needed to resolve it once all imports and clients are known."""

    call: ast.Call
    stmt: ast.stmt
    scope: ast.AST | None  # enclosing function (or class body), None at module level


@dataclass(slots=True)
class _Module:
    """What the imports and module-level statements bind."""

    sdks: set[str] = field(default_factory=set)
    modules: dict[str, str] = field(default_factory=dict)  # local dotted name -> sdk (`oa` -> openai)
    constructors: dict[str, str] = field(default_factory=dict)  # local name -> sdk (`Anthropic` -> anthropic)
    functions: dict[str, tuple[str, str]] = field(default_factory=dict)  # local name -> (sdk, api)
    bindings: dict[str, int] = field(default_factory=dict)  # module-level name -> times bound
    functions_def: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    constants: dict[str, ast.expr] = field(default_factory=dict)  # candidates: name -> value expression
    has_os: bool = False


def extract_python(path: str, text: str, env: Environment | None = None) -> CodeDocument:
    """The SDK imports, clients and model calls of one Python module; `env` resolves names imported from the rest
    of the workspace (clients, client factories, constants)."""
    doc = CodeDocument(path=path, text=text, language="python")
    stale = env is not None and getattr(env, "stale_text", None) is not None
    if not any(name in text for name in _MENTIONS) and not (env is not None and env.names) and not stale:
        return doc
    bom = text.startswith("\ufeff")
    try:
        tree = parse_quietly(text[1:] if bom else text, filename=path)
    except SyntaxError as e:
        doc.syntax_error = f"{e.msg} (line {e.lineno})" if e.lineno else e.msg
        return doc
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        doc.syntax_error = str(e) or type(e).__name__
        return doc
    if stale:
        env.parsed(tree)  # the index learns this text's imports and symbols before they are asked for
    _Extractor(doc, tree, Utf8Lines(text, bom=bom), env).run()
    return doc


class _Extractor:
    def __init__(self, doc: CodeDocument, tree: ast.Module, offsets: Utf8Lines, env: Environment | None = None) -> None:
        self.env = env
        self.doc = doc
        self.text = doc.text
        self.tree = tree
        self.off = offsets
        self.mod = _Module()
        self.stmts: list[tuple[ast.stmt, ast.AST | None, bool]] = []  # (statement, scope, module level)
        self.awaited: set[int] = set()
        self.targets: dict[int, ast.expr] = {}  # id(call) -> the single target it is assigned to
        self.found: list[_Found] = []
        self.client_vars: dict[str, dict[int, ClientRef]] = {}  # var -> {id(scope) or 0: client}
        self._factory_cache: dict[int, ClientRef | None] = {}
        self.globals_declared: set[str] = set()
        self._locals: dict[int, frozenset[str]] = {}
        self._const_cache: dict[str, Value] = {}
        self._resolving: set[str] = set()

    def prepare(self) -> None:
        """Imports and module-level bindings: enough to evaluate constants and classify client expressions."""
        self._flatten(self.tree.body, None, True)
        for stmt, _scope, top in self.stmts:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self._import(stmt, top)
            elif isinstance(stmt, ast.Global):
                self.globals_declared.update(stmt.names)
            if top:
                self._bind(stmt)

    def run(self) -> None:
        self.prepare()
        doc, mod = self.doc, self.mod
        doc.sdks = frozenset(mod.sdks)
        doc.has_os_import = mod.has_os
        doc.top_level_names = frozenset(mod.bindings)
        doc.import_insert_at = self._import_insert_at()
        doc.comments = self._comments()
        env_names = self.env.names if self.env is not None else frozenset()
        if not mod.sdks and not env_names:
            return
        self._scan(self.tree.body, None, self._words())
        self._clients()
        self._client_assignments()
        for f in self.found:
            site = self._call_site(f)
            if site is not None:
                doc.calls.append(site)
        doc.calls.sort(key=lambda s: s.span.start)
        doc.clients.sort(key=lambda c: c.span.start)

    # -- statements ----------------------------------------------------------------------------------------
    def _flatten(self, body: list[ast.stmt], scope: ast.AST | None, top: bool) -> None:
        for stmt in body:
            self.stmts.append((stmt, scope, top))
            if isinstance(stmt, _COMPOUND):
                inner, inner_top = (stmt, False) if isinstance(stmt, _SCOPES) else (scope, top)
                for child in _child_bodies(stmt):
                    self._flatten(child, inner, inner_top)

    def _import(self, stmt: ast.Import | ast.ImportFrom, top: bool) -> None:
        mod = self.mod
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if top and alias.asname is None and (alias.name == "os" or alias.name.startswith("os.")):
                    mod.has_os = True
                sdk = _sdk_of_module(alias.name)
                if sdk is None:
                    continue
                mod.sdks.add(sdk)
                if alias.asname:
                    if _MODULES.get(alias.name) == sdk:
                        mod.modules[alias.asname] = sdk
                else:
                    root = next(m for m in _MODULES if alias.name == m or alias.name.startswith(m + "."))
                    mod.modules[root] = sdk
            return
        if stmt.level or not stmt.module:
            return
        if stmt.module == "google":
            for alias in stmt.names:
                if alias.name == "genai":
                    mod.sdks.add("gemini")
                    mod.modules[alias.asname or "genai"] = "gemini"
            return
        sdk = _sdk_of_module(stmt.module)
        if sdk is None:
            return
        mod.sdks.add(sdk)
        if _MODULES.get(stmt.module) != sdk:  # a submodule (`anthropic.types`): no clients or functions there
            return
        for alias in stmt.names:
            local = alias.asname or alias.name
            if alias.name in _CONSTRUCTORS.get(sdk, ()):
                mod.constructors[local] = sdk
            elif alias.name in _FUNCTIONS.get(sdk, ()):
                mod.functions[local] = (sdk, alias.name)

    def _bind(self, stmt: ast.stmt) -> None:
        """Count what a module-level statement binds; remember single assignments as constant candidates."""
        names: list[str] = []
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                names.extend(_target_names(t))
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.mod.constants[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None and isinstance(stmt.target, ast.Name):
                names.append(stmt.target.id)
                self.mod.constants[stmt.target.id] = stmt.value
        elif isinstance(stmt, ast.AugAssign | ast.For | ast.AsyncFor | ast.Delete):
            for t in stmt.targets if isinstance(stmt, ast.Delete) else [stmt.target]:
                names.extend(_target_names(t))
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                if item.optional_vars is not None:
                    names.extend(_target_names(item.optional_vars))
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            names.extend((a.asname or a.name).partition(".")[0] for a in stmt.names if a.name != "*")
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(stmt.name)
            if not isinstance(stmt, ast.ClassDef):
                self.mod.functions_def[stmt.name] = stmt
        for n in names:
            self.mod.bindings[n] = self.mod.bindings.get(n, 0) + 1

    def _import_insert_at(self) -> int:
        """Start of the line after the last import of the module's header (docstring, imports, try/if blocks
        of imports), which ends at the first function or class definition."""
        last: ast.stmt | None = None
        for i, stmt in enumerate(self.tree.body):
            if (i == 0 and _is_docstring(stmt)) or _is_import_block(stmt):
                last = stmt
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                break
        starts = self.off.starts
        if last is None:  # after a shebang, encoding cookie or licence header
            line = 0
            while line + 1 < len(starts) and self.text[starts[line]:starts[line + 1]].lstrip().startswith("#"):
                line += 1
            return starts[line] if line else 0
        return starts[last.end_lineno] if last.end_lineno < len(starts) else len(self.text)

    def _words(self) -> tuple[str, ...]:
        mod = self.mod
        local = {n.partition(".")[0] for n in mod.modules} | set(mod.constructors) | set(mod.functions)
        if self.env is not None:
            local |= self.env.names
        return (*_METHOD_WORDS, *_CLIENT_METHODS, *sorted(local))

    def _scan(self, body: list[ast.stmt], scope: ast.AST | None, words: tuple[str, ...]) -> None:
        """Collect the calls of every statement whose text mentions a method or imported SDK name; a statement
        (a whole function, a whole class) that mentions none is skipped with everything inside it."""
        starts, text = self.off.starts, self.text
        for stmt in body:
            first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
            region = text[starts[first - 1]:self.off.line_end(stmt.end_lineno)]
            if not any(w in region for w in words):
                continue
            self._note_targets(stmt)
            self._walk_expressions(stmt, scope)
            if isinstance(stmt, _COMPOUND):
                inner = stmt if isinstance(stmt, _SCOPES) else scope
                for child in _child_bodies(stmt):
                    self._scan(child, inner, words)

    def _walk_expressions(self, stmt: ast.stmt, scope: ast.AST | None) -> None:
        """The statement's own expressions (for a compound statement: its header), not nested statements."""
        stack: list[ast.AST] = []
        for name, value in ast.iter_fields(stmt):
            if name in _BODY_FIELDS:
                continue
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)
        ast_type, leaves = ast.AST, _LEAVES
        while stack:
            node = stack.pop()
            if isinstance(node, leaves):
                continue
            if isinstance(node, ast.Call):
                self.found.append(_Found(node, stmt, scope))
            elif isinstance(node, ast.Await) and isinstance(node.value, ast.Call):
                self.awaited.add(id(node.value))
            # ast.iter_child_nodes, inlined: this loop runs for every expression node of the scanned statements
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, ast_type):
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(v for v in value if isinstance(v, ast_type))

    def _note_targets(self, stmt: ast.stmt) -> None:
        value: ast.expr | None = None
        target: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            value, target = stmt.value, stmt.targets[0]
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            value, target = stmt.value, stmt.target
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                if isinstance(item.context_expr, ast.Call):
                    if isinstance(stmt, ast.AsyncWith):
                        self.awaited.add(id(item.context_expr))
                    if item.optional_vars is not None and dotted(item.optional_vars):
                        self.targets[id(item.context_expr)] = item.optional_vars
            return
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call) and target is not None and dotted(target):
            self.targets[id(value)] = target

    # -- clients -------------------------------------------------------------------------------------------
    def _constructor_sdk(self, call: ast.expr) -> str | None:
        if not isinstance(call, ast.Call):
            return None
        func = call.func
        if isinstance(func, ast.Name):
            return self.mod.constructors.get(func.id)
        if isinstance(func, ast.Attribute):
            sdk = self.mod.modules.get(dotted(func.value) or "")
            if sdk is not None and func.attr in _CONSTRUCTORS.get(sdk, ()):
                return sdk
        return None

    def _clients(self) -> None:
        for f in self.found:
            sdk = self._constructor_sdk(f.call)
            if sdk is None:
                continue
            call = f.call
            target = self.targets.get(id(call))
            var = dotted(target) if target is not None else None
            args, has_spread = self._keywords(call, f.scope)
            insert_at, prefix = self._insertion(call)
            callee = self._src(call.func)
            self.doc.clients.append(ClientInit(sdk=sdk, span=self.off.span(call), callee=callee,
                                               args=args, insert_at=insert_at, insert_prefix=prefix, var=var,
                                               has_spread=has_spread))
            if var:
                ref = client_ref(sdk, callee, args, var, self.location(call))
                self.client_vars.setdefault(var, {})[id(f.scope) if f.scope is not None else 0] = ref

    def _client_assignments(self) -> None:
        """Variables bound to a client by other means than a constructor: a factory call, `with_options()`/
        `copy()` of a client, or a client imported from another module (`self.client = claude`)."""
        for _ in range(2):  # twice, so that a chain (`base = make()`, `fast = base.with_options(...)`) resolves
            for stmt, scope, _top in self.stmts:
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                    target, value = stmt.targets[0], stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    target, value = stmt.target, stmt.value
                else:
                    continue
                var = dotted(target)
                if var is None or self._constructor_sdk(value) is not None:
                    continue
                key = id(scope) if scope is not None else 0
                if key in self.client_vars.get(var, {}):
                    continue
                ref = self.client_expr(value, scope, var)
                if ref is not None:
                    self.client_vars.setdefault(var, {})[key] = ref

    def location(self, node: ast.AST) -> Location:
        span = self.off.span(node)
        line = self.off.line_of(span.start) - 1
        start = self.off.starts[line]
        end = min(span.end, self.off.line_end(line + 1))
        return Location(self.doc.path, line, span.start - start, max(end - start, span.start - start))

    def client_expr(self, node: ast.expr, scope: ast.AST | None, name: str | None = None) -> ClientRef | None:
        """The client an expression evaluates to, when that is proven: a constructor call, `with_options()`/
        `copy()` of a client, a call of a function returning a client, or a name bound to one."""
        if isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Call):
            func = node.func
            sdk = self._constructor_sdk(node)
            if sdk is not None:
                args, _ = self._keywords(node, scope)
                return client_ref(sdk, self._src(func), args, name, self.location(node))
            if isinstance(func, ast.Attribute) and func.attr in _CLIENT_METHODS:
                inner = self.client_expr(func.value, scope)
                return replace(inner, name=name or inner.name, location=self.location(node)) \
                    if inner is not None else None
            fname = dotted(func)
            if fname is None:
                return None
            local = self._scope_locals(scope)
            if fname in self.mod.functions_def and self.mod.bindings.get(fname) == 1 and fname not in local:
                ref = self.factory_ref(self.mod.functions_def[fname])
                return replace(ref, name=fname) if ref is not None else None
            if self.env is not None and fname.partition(".")[0] in self.env.names \
                    and fname.partition(".")[0] not in local:
                return self.env.factory(fname)
            return None
        var = dotted(node)
        return self._client_ref(var, scope) if var else None

    def factory_ref(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> ClientRef | None:
        """What a function returns when it returns a client (its annotation, or every `return` it makes)."""
        key = id(fn)
        if key in self._factory_cache:
            return self._factory_cache[key]
        self._factory_cache[key] = None  # recursion guard
        ref = self._annotation_ref(fn.returns, fn.name, fn) if fn.returns is not None else None
        if ref is None:
            for node in _walk_body(fn):
                if isinstance(node, ast.Return) and node.value is not None:
                    ref = self.client_expr(node.value, fn)
                    if ref is not None:
                        break
        self._factory_cache[key] = ref
        return ref

    def _annotation_ref(self, ann: ast.expr | None, name: str, at: ast.AST) -> ClientRef | None:
        """An SDK client type in an annotation: `anthropic.Anthropic`, `AsyncOpenAI`, `"Anthropic"`,
        `Optional[...]`, `X | None`."""
        if ann is None:
            return None
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            return self._annotation_ref(ann.left, name, at) or self._annotation_ref(ann.right, name, at)
        if isinstance(ann, ast.Subscript) and dotted(ann.value) in ("Optional", "typing.Optional"):
            return self._annotation_ref(ann.slice, name, at)
        full = dotted(ann)
        if full is None:
            return None
        sdk = self.mod.constructors.get(full)
        if sdk is None and "." in full:
            head, _, tail = full.rpartition(".")
            mod_sdk = self.mod.modules.get(head)
            sdk = mod_sdk if mod_sdk is not None and tail in _CONSTRUCTORS.get(mod_sdk, ()) else None
        if sdk is None:
            return None
        return client_ref(sdk, full, {}, name, self.location(at))

    def _param_annotation(self, var: str, scope: ast.AST | None) -> ClientRef | None:
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            return None
        a = scope.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs]:
            if arg.arg == var and arg.annotation is not None:
                return self._annotation_ref(arg.annotation, var, arg)
        return None

    def _client_ref(self, var: str, scope: ast.AST | None) -> ClientRef | None:
        """The client a variable holds: assigned in this scope, else at module level, else anywhere in the file if
        every assignment agrees (`self.client` set in `__init__`); a parameter annotated with an SDK client type;
        a client imported from another module of the workspace."""
        by_scope = self.client_vars.get(var)
        if by_scope:
            for key in (id(scope) if scope is not None else 0, 0):
                if key in by_scope:
                    return by_scope[key]
            kinds = {(r.sdk, r.endpoint) for r in by_scope.values()}
            if len(kinds) == 1:
                return next(iter(by_scope.values()))
        ref = self._param_annotation(var, scope)
        if ref is not None:
            return ref
        if scope is not None and "." not in var and var in self._scope_locals(scope) \
                and f"local:{var}" not in self._resolving:  # bound once in the function (a factory's body)
            value = self._single_local(var, scope)
            if value is not None:
                self._resolving.add(f"local:{var}")
                try:
                    return self.client_expr(value, scope, var)
                finally:
                    self._resolving.discard(f"local:{var}")
            return None
        if var in self.mod.constants and self.mod.bindings.get(var) == 1 and var not in self._scope_locals(scope) \
                and f"client:{var}" not in self._resolving:
            self._resolving.add(f"client:{var}")
            try:
                ref = self.client_expr(self.mod.constants[var], None, var)
            finally:
                self._resolving.discard(f"client:{var}")
            if ref is not None:
                return ref
        head = var.partition(".")[0]
        if self.env is not None and head in self.env.names and head not in self._scope_locals(scope) \
                and var not in self.mod.constants:
            return self.env.client(var)
        return None

    # -- calls ---------------------------------------------------------------------------------------------
    def _call_site(self, f: _Found) -> CallSite | None:
        call = f.call
        func = call.func
        if isinstance(func, ast.Name):
            hit = self.mod.functions.get(func.id)
            if hit is None:
                return None
            return self._make_site(f, hit[0], hit[1], None)
        if not isinstance(func, ast.Attribute):
            return None
        chain: list[ast.Attribute] = []
        node: ast.expr = func
        while isinstance(node, ast.Attribute):
            chain.append(node)
            node = node.value
        names = [a.attr for a in reversed(chain)]  # `client.messages.create` -> ["messages", "create"]
        match = _match_api(names)
        if match is None:
            return None
        api, tail, _shape = match
        if tail > len(chain):
            return None
        receiver = chain[tail - 1].value  # what the method path hangs off
        skip = "aio" if api.startswith("models.") else "beta"  # `client.aio.models...`, `client.beta.chat...`
        if isinstance(receiver, ast.Attribute) and receiver.attr == skip:
            receiver = receiver.value
        found = self._attribute(api, receiver, f.scope)
        if found is None:
            return None
        site = self._make_site(f, found[0], api, receiver)
        site.client = found[1]
        return site

    def _attribute(self, api: str, receiver: ast.expr, scope: ast.AST | None) -> tuple[str, ClientRef | None] | None:
        """The SDK of a call and the client it goes through: only a proven client (a variable bound to one, an
        inline constructor or factory call, an annotated parameter, a client imported from the workspace) or an
        SDK module itself. A receiver that merely has the method's shape (a mock, a fixture, a look-alike) is not
        an SDK call."""
        ref = self.client_expr(receiver, scope)
        if ref is not None and api in API_NAMES.get(ref.sdk, ()):
            return ref.sdk, ref
        name = dotted(receiver)
        sdk = self.mod.modules.get(name) if name else None
        if sdk is not None and api in API_NAMES.get(sdk, ()):
            return sdk, None
        return None

    def _make_site(self, f: _Found, sdk: str, api: str, receiver: ast.expr | None) -> CallSite:
        call, off = f.call, self.off
        func = call.func
        args, has_spread = self._keywords(call, f.scope)
        positional = []
        for a in call.args:
            if isinstance(a, ast.Starred):
                has_spread = True
                positional.append(Value(off.span(a), source=self._src(a)))
            else:
                positional.append(self._value(a, _ScopeNames(self, f.scope)))
        insert_at, prefix = self._insertion(call)
        callee = off.span(func)
        name_len = len(func.attr) if isinstance(func, ast.Attribute) else callee.end - callee.start
        stmt = f.stmt
        stmt_span = off.lines(stmt.lineno, stmt.end_lineno)
        first_line = self.text[stmt_span.start:off.line_end(stmt.lineno)]
        indent = first_line[:len(first_line) - len(first_line.lstrip(" \t\f"))]
        target = self.targets.get(id(call))
        assigned = None
        if target is not None and isinstance(stmt, ast.Assign | ast.AnnAssign):
            assigned = dotted(target)
        return CallSite(sdk=sdk, api=api, span=off.span(call), callee_span=callee,
                        method_span=Span(callee.end - name_len, callee.end), args=args, insert_at=insert_at,
                        insert_prefix=prefix, statement_span=stmt_span, indent=indent,
                        receiver=self._src(receiver) if receiver is not None else "",
                        awaited=id(call) in self.awaited, assigned_to=assigned, positional=positional,
                        has_spread=has_spread)

    def _keywords(self, call: ast.Call, scope: ast.AST | None) -> tuple[dict[str, Value], bool]:
        local = _ScopeNames(self, scope)
        args: dict[str, Value] = {}
        spread = False
        unpacked: list[Value] = []
        for kw in call.keywords:
            if kw.arg is None:
                v = self._unpacked(kw.value, scope, local)
                if v is None:
                    spread = True
                else:
                    unpacked.append(v)
            else:
                args[kw.arg] = self._value(kw.value, local)
        for v in unpacked:  # `**params`: keys of a dict known in full; explicit keywords win
            for key, item in v.value.items():
                args.setdefault(key, item)
        return args, spread

    def _unpacked(self, node: ast.expr, scope: ast.AST | None, local: _ScopeNames) -> Value | None:
        """The dict a `**x` unpacks, when it is known in full: a literal, a module constant, or a local name
        assigned once in the function and never changed after (`params["k"] = v`, `params.update(...)`)."""
        if isinstance(node, ast.Name):  # a module-level dict may be changed anywhere: only a function's own
            value = self._single_local(node.id, scope) if scope is not None and node.id in local else None
            if value is None:
                return None
            v = self._value(value, local)
        elif isinstance(node, ast.Dict):
            v = self._value(node, local)
        else:
            return None
        return v if isinstance(v.value, dict) and not v.partial else None

    def _single_local(self, name: str, scope: ast.AST) -> ast.expr | None:
        """The value of the one assignment of `name` in a function, if it is bound once and not mutated."""
        found: list[ast.expr] = []
        stores = 0
        for node in _walk_body(scope):
            if isinstance(node, ast.Assign):
                found.extend(node.value for t in node.targets if isinstance(t, ast.Name) and t.id == name)
            if _mutates(node, name):
                return None
            if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
                stores += 1
        if stores != len(found):
            return None
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            a = scope.args
            if any(x.arg == name for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x):
                return None
        return found[0] if len(found) == 1 else None

    def _insertion(self, call: ast.Call) -> tuple[int, str]:
        """Where a new keyword argument goes: after the last argument (so a trailing comma stays valid), or just
        before `)` when there is none."""
        nodes = [*call.args, *call.keywords]
        if not nodes:
            return self.off.span(call).end - 1, ""
        return max(self.off.span(n).end for n in nodes), ", "

    def _param_default(self, name: str, scope: ast.AST | None) -> ast.expr | None:
        """The default of a parameter the function never rebinds (`def ask(model="claude-2.1")`)."""
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            return None
        a = scope.args
        positional = [*a.posonlyargs, *a.args]
        pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults, strict=True))
        pairs += [(x, d) for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
        default = next((d for x, d in pairs if x.arg == name), None)
        if default is None:
            return None
        for node in _walk_body(scope):
            if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
                return None
        return default

    def _scope_locals(self, scope: ast.AST | None) -> frozenset[str]:
        """Names a function (or class body) binds itself: they shadow module constants there."""
        if scope is None:
            return frozenset()
        cached = self._locals.get(id(scope))
        if cached is not None:
            return cached
        names: set[str] = set()
        declared: set[str] = set()
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            a = scope.args
            names.update(x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x)
        for node in _walk_body(scope):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).partition(".")[0])
            elif isinstance(node, ast.Global | ast.Nonlocal):
                declared.update(node.names)
        result = frozenset(names - declared)
        self._locals[id(scope)] = result
        return result

    # -- values --------------------------------------------------------------------------------------------
    def _src(self, node: ast.AST) -> str:
        span = self.off.span(node)
        return self.text[span.start:span.end]

    def _value(self, node: ast.expr, local: frozenset[str] | _ScopeNames, depth: int = 0) -> Value:
        span = self.off.span(node)
        v = Value(span, source=self.text[span.start:span.end])
        if depth > _MAX_CONSTANT_DEPTH:
            return v
        if isinstance(node, ast.Constant):
            if type(node.value) in (str, int, float, bool, type(None)):
                v.value = node.value
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd) \
                and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
            v.value = -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
        elif isinstance(node, ast.JoinedStr):  # holes naming known constants are filled in
            parts: list[str] = []
            for p in node.values:
                if isinstance(p, ast.Constant):
                    parts.append(str(p.value))
                    continue
                hole = self._value(p.value, local, depth + 1) \
                    if isinstance(p, ast.FormattedValue) and p.format_spec is None and p.conversion == -1 \
                    and isinstance(p.value, ast.Name | ast.Attribute) else None
                if hole is not None and not hole.partial and type(hole.value) in (str, int, float):
                    parts.append(str(hole.value))
                else:
                    parts.append("{...}")
                    v.partial = True
            v.value = "".join(parts)
        elif isinstance(node, ast.List | ast.Tuple):
            v.value = [self._value(e, local, depth + 1) for e in node.elts if not isinstance(e, ast.Starred)]
            v.partial = any(isinstance(e, ast.Starred) for e in node.elts)
        elif isinstance(node, ast.Dict):
            self._dict(v, node, local, depth)
        elif isinstance(node, ast.Call):
            self._call_value(v, node, local, depth)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._value(node.left, local, depth + 1), self._value(node.right, local, depth + 1)
            if isinstance(left.value, str) and isinstance(right.value, str):
                v.value, v.partial = left.value + right.value, left.partial or right.partial
        elif isinstance(node, ast.Name):
            self._name(v, node.id, local, depth)
        elif isinstance(node, ast.Attribute) and self.env is not None:
            full = dotted(node)
            if full is not None and full.partition(".")[0] in self.env.names \
                    and full.partition(".")[0] not in local:
                self._external(v, full)
        return v

    def _external(self, v: Value, name: str) -> None:
        """A constant of another module of the workspace."""
        hit = self.env.constant(name) if self.env is not None else None
        if hit is None:
            return
        value, where = hit
        if value.known:
            v.value, v.partial, v.name, v.defined_in = value.value, value.partial, name, where

    def _dict(self, v: Value, node: ast.Dict, local: frozenset[str] | _ScopeNames, depth: int) -> None:
        out: dict[str, Value] = {}
        partial = False
        for k, val in zip(node.keys, node.values, strict=True):
            key = self._value(k, local, depth + 1).value if k is not None else UNKNOWN
            if isinstance(key, str):
                out[key] = self._value(val, local, depth + 1)
            else:  # `**x` or a key that is not a known string: the dict is only partly known
                partial = True
        v.value, v.partial = out, partial

    def _call_value(self, v: Value, node: ast.Call, local: frozenset[str] | _ScopeNames, depth: int) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        full = dotted(func) or ""
        if not node.args and (full == "dict" or name.endswith(_DICT_CALL_SUFFIXES)):
            v.value = {kw.arg: self._value(kw.value, local, depth + 1) for kw in node.keywords if kw.arg}
            v.partial = any(kw.arg is None for kw in node.keywords)
            return
        if full in ("textwrap.dedent", "dedent", "inspect.cleandoc", "cleandoc") \
                and len(node.args) == 1 and not node.keywords:
            inner = self._value(node.args[0], local, depth + 1)
            if isinstance(inner.value, str):
                fn = textwrap.dedent if name == "dedent" else inspect.cleandoc
                v.value, v.partial = fn(inner.value), inner.partial
            return
        if isinstance(func, ast.Attribute) and not node.keywords:
            if name in ("strip", "lstrip", "rstrip") and not node.args:
                inner = self._value(func.value, local, depth + 1)
                if isinstance(inner.value, str):
                    v.value, v.partial = getattr(inner.value, name)(), inner.partial
            elif name == "join" and len(node.args) == 1:
                sep, items = self._value(func.value, local, depth + 1), self._value(node.args[0], local, depth + 1)
                if isinstance(sep.value, str) and isinstance(items.value, list) and not items.partial \
                        and all(isinstance(i.value, str) for i in items.value):
                    v.value = sep.value.join(i.value for i in items.value)
                    v.partial = sep.partial or any(i.partial for i in items.value)

    def _name(self, v: Value, name: str, local: frozenset[str] | _ScopeNames, depth: int) -> None:
        mod = self.mod
        if name in self._resolving or name in self.globals_declared:
            return
        if name not in mod.constants or mod.bindings.get(name) != 1 or name in local:
            if isinstance(local, _ScopeNames) and name in local:  # a parameter's default
                default = self._param_default(name, local._scope)
                if default is not None:
                    self._resolving.add(name)
                    try:
                        d = self._value(default, frozenset(), depth + 1)
                    finally:
                        self._resolving.discard(name)
                    if d.known:
                        v.value, v.partial, v.name = d.value, d.partial, name
                        v.origin, v.defined_in = d.origin or d.span, d.defined_in
                return
            if name not in mod.constants and mod.bindings.get(name) == 1 and name not in local \
                    and self.env is not None and name in self.env.names:  # `from app.config import MODEL`
                self._external(v, name)
            return
        resolved = self._const_cache.get(name)
        if resolved is None:
            self._resolving.add(name)
            try:
                resolved = self._value(mod.constants[name], frozenset(), depth + 1)
            finally:
                self._resolving.discard(name)
            self._const_cache[name] = resolved
        if not resolved.known:
            return
        v.value, v.partial, v.name = resolved.value, resolved.partial, name
        v.origin = resolved.origin or resolved.span

    # -- comments ------------------------------------------------------------------------------------------
    def _comments(self) -> list[tuple[Span, str]]:
        """`#` comments holding `promptls-`. Only lines with that text are looked at; each is tokenized from
        the start of the innermost statement around it, so a `#` inside a string is never taken as a comment."""
        text, off = self.text, self.off
        lines: list[int] = []
        i = text.find("promptls-")
        while i >= 0:
            line = off.line_of(i)
            if not lines or lines[-1] != line:
                lines.append(line)
            i = text.find("promptls-", i + 1)
        out: list[tuple[Span, str]] = []
        for lineno in lines:
            first = max((s.lineno for s, _, _ in self.stmts if s.lineno <= lineno <= s.end_lineno), default=lineno)
            for col, comment in _line_comments(text, off, first, lineno):
                if "promptls-" in comment:
                    start = off.starts[lineno - 1] + col
                    out.append((Span(start, start + len(comment)), comment))
        return out


class ModuleSymbols:
    """What one module defines at module level, for the workspace index: clients, client factories, constants
    and imports. Evaluates lazily, with `env` resolving what the module itself imports."""

    def __init__(self, path: str, text: str, env: Environment | None = None, tree: ast.Module | None = None) -> None:
        self.path = path
        self.tree: ast.Module | None = tree
        self._ext: _Extractor | None = None
        bom = text.startswith("\ufeff")
        if self.tree is None:
            try:
                self.tree = parse_quietly(text[1:] if bom else text, filename=path)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return
        self._ext = _Extractor(CodeDocument(path=path, text=text, language="python"), self.tree,
                               Utf8Lines(text, bom=bom), env)
        self._ext.prepare()

    def imports(self) -> Iterator[tuple[str, str | None, int, str | None]]:
        """(local name, module, level, imported attribute or None) of every import, at any depth."""
        if self.tree is None:
            return
        for node in _statements(self.tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        yield a.asname, a.name, 0, None
                    else:
                        yield a.name.partition(".")[0], a.name, 0, None
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    if a.name != "*":
                        yield a.asname or a.name, node.module, node.level, a.name

    def exported(self) -> Iterator[tuple[str, str]]:
        """(name, source) of each module-level binding that may matter to importers: assignments, functions,
        imports. Their sources make the module's fingerprint."""
        ext = self._ext
        if ext is None or self.tree is None:
            return
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.FunctionDef | ast.AsyncFunctionDef | ast.Import
                          | ast.ImportFrom | ast.If | ast.Try):
                names = [stmt.name] if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) else \
                    [n for t in getattr(stmt, "targets", [getattr(stmt, "target", None)]) if t is not None
                     for n in _target_names(t)]
                yield ",".join(names), ext._src(stmt)

    def defines(self, name: str) -> bool:
        return self._ext is not None and name in self._ext.mod.bindings

    def client(self, name: str) -> ClientRef | None:
        ext = self._ext
        if ext is None or ext.mod.bindings.get(name) != 1:
            return None
        if name in ext.mod.constants:
            return ext.client_expr(ext.mod.constants[name], None, name)
        return None

    def factory(self, name: str) -> ClientRef | None:
        ext = self._ext
        if ext is None or ext.mod.bindings.get(name) != 1 or name not in ext.mod.functions_def:
            return None
        ref = ext.factory_ref(ext.mod.functions_def[name])
        return replace(ref, name=name) if ref is not None else None

    def constant(self, name: str) -> tuple[Value, Location] | None:
        ext = self._ext
        if ext is None or ext.mod.bindings.get(name) != 1 or name not in ext.mod.constants:
            return None
        expr = ext.mod.constants[name]
        v = ext._value(expr, frozenset())
        if not v.known:
            return None
        if v.defined_in is not None:
            return v, v.defined_in
        return v, ext.location(expr)

    def definition(self, name: str) -> Location | None:
        """Where a module-level name is bound (for go to definition)."""
        ext = self._ext
        if ext is None or self.tree is None:
            return None
        for stmt in self.tree.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and stmt.name == name:
                return ext.location(stmt)
            if isinstance(stmt, ast.Assign | ast.AnnAssign):
                for t in getattr(stmt, "targets", [getattr(stmt, "target", None)]):
                    if isinstance(t, ast.Name) and t.id == name:
                        return ext.location(t)
        return None


def _child_bodies(stmt: ast.stmt) -> Iterator[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody"):
        child = getattr(stmt, name, None)
        if child:
            yield child
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body
    for case in getattr(stmt, "cases", ()):
        yield case.body


def _sdk_of_module(name: str) -> str | None:
    for module, sdk in _MODULES.items():
        if name == module or name.startswith(module + "."):
            return sdk
    return None


def _match_api(names: list[str]) -> tuple[str, int, str | None] | None:
    """(normalised api, how many trailing names it spans, the SDK its shape implies) for a callee path."""
    method = names[-1]
    if names[-3:-1] == ["chat", "completions"] and method in ("create", "parse", "stream"):
        return f"chat.completions.{method}", 3, "openai"
    prev = names[-2] if len(names) >= 2 else ""
    if prev == "messages" and method in ("create", "stream", "count_tokens"):
        return f"messages.{method}", 2, "anthropic"
    if prev == "responses" and method in ("create", "parse", "stream"):
        return f"responses.{method}", 2, "openai"
    if prev == "completions" and method == "create":
        return "completions.create", 2, None
    if prev in ("ChatCompletion", "Completion") and method == "create":
        return f"{prev}.create", 2, None
    if prev == "models" and method in ("generate_content", "generate_content_stream", "count_tokens"):
        return f"models.{method}", 2, "gemini"
    if method in ("chat", "generate", "completion", "acompletion"):
        return method, 1, None
    return None


def _target_names(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Tuple | ast.List):
        for e in node.elts:
            yield from _target_names(e)
    elif isinstance(node, ast.Starred):
        yield from _target_names(node.value)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _is_import_block(stmt: ast.stmt) -> bool:
    """An import, or a `try:`/`if TYPE_CHECKING:` block that holds only imports (and `pass`)."""
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return True
    if isinstance(stmt, ast.Try | ast.If):
        bodies = [stmt.body, stmt.orelse, *(h.body for h in getattr(stmt, "handlers", ()))]
        if isinstance(stmt, ast.Try):
            bodies.append(stmt.finalbody)
        return all(_is_import_block(s) or isinstance(s, ast.Pass) for b in bodies for s in b)
    return False


# Expression nodes that hold no call: the walk does not descend into them.
_LEAVES = (ast.Constant, ast.Name, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


class _ScopeNames:
    """The names a scope binds, computed on the first question: most arguments never name a module constant,
    so most scopes are never walked."""

    __slots__ = ("_extractor", "_names", "_scope")

    def __init__(self, extractor: _Extractor, scope: ast.AST | None) -> None:
        self._extractor, self._scope, self._names = extractor, scope, None

    def __contains__(self, name: object) -> bool:
        if self._names is None:
            self._names = self._extractor._scope_locals(self._scope)
        return name in self._names


def _mutates(node: ast.AST, name: str) -> bool:
    """`name[k] = v`, `del name[k]`, `name.update(...)` and the like."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name:
        return not isinstance(node.ctx, ast.Load)
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and isinstance(node.func.value, ast.Name) and node.func.value.id == name \
        and node.func.attr in ("update", "setdefault", "pop", "popitem", "clear")


def _statements(tree: ast.AST) -> Iterator[ast.stmt]:
    """Every statement at any depth, without walking expressions (imports are statements): the index asks on
    every keystroke, and a full `ast.walk` of a 2,000-line module costs ~14 ms."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, name, None) or ():
                if isinstance(child, ast.stmt):
                    yield child
                if isinstance(child, ast.AST):
                    todo.append(child)


def _walk_body(scope: ast.AST) -> Iterable[ast.AST]:
    for stmt in getattr(scope, "body", ()):
        yield from ast.walk(stmt)


def _line_comments(text: str, off: Utf8Lines, first: int, last: int) -> list[tuple[int, str]]:
    """(column, text) of the comments on line `last`, tokenizing from line `first`."""
    lines = [text[off.starts[n - 1]:off.line_end(n)] + "\n" for n in range(first, last + 1)]
    it = iter(lines)
    out: list[tuple[int, str]] = []
    try:
        for tok in tokenize.generate_tokens(lambda: next(it, "")):
            if tok.start[0] > len(lines):
                break
            if tok.type == tokenize.COMMENT and tok.start[0] == len(lines):
                out.append((tok.start[1], tok.string))
    except (tokenize.TokenError, SyntaxError):
        pass  # the region was cut inside brackets or a string: comments found before the cut stand
    return out
