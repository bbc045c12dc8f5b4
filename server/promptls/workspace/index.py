"""The workspace index: every Python module of a workspace, its imports and the symbols that matter to LLM calls
(SDK clients, client factories, constants), so that a call site resolves names defined in other modules.

Modules are listed with `git ls-files` inside a git work tree (so .gitignore holds), else by a walk that skips the
usual tool and build folders. Each module's symbols are evaluated lazily, on the first question, with the same
evaluator the single-file analysis uses (`code.python_sites`). A module's fingerprint hashes the sources of its
module-level bindings; the reverse-dependency map tells which modules to re-analyse when it changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptls.documents.code.model import ClientRef, Location, Value
from promptls.documents.code.python_sites import ModuleSymbols

log = logging.getLogger(__name__)

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache",
                       ".ruff_cache", ".pytest_cache", "dist", "build", "site-packages", ".eggs"})
PY_SUFFIXES = (".py", ".pyi")
TS_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_TS_LANGUAGE = {".tsx": "tsx", ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript",
                ".cjs": "javascript"}
_JSONC = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*[\s\S]*?\*/')
MAX_MODULE_BYTES = 2_000_000  # generated or vendored giants hold no client definitions worth the parse
_MAX_HOPS = 16  # re-export chains


@dataclass(slots=True)
class ModuleInfo:
    """One module: its names (a file can be importable under more than one), imports and fingerprint."""

    path: str
    names: tuple[str, ...]
    text_hash: str
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # local -> (module, attribute)
    fingerprint: str = ""
    is_package: bool = False
    mtime_ns: int | None = None  # of the file read from disk; None when the text came from an editor buffer
    reexported: list[str] = field(default_factory=list)  # TS/JS: modules re-exported (`export * from`)


class WorkspaceIndex:
    """Modules of one or more roots, by dotted name and by path."""

    def __init__(self, roots: Iterable[str | os.PathLike[str]] = ()) -> None:
        self.roots = [os.path.abspath(r) for r in roots]
        self.by_path: dict[str, ModuleInfo] = {}
        self.by_name: dict[str, str] = {}  # dotted module name -> path
        self.dependents: dict[str, set[str]] = {}  # path -> paths of modules importing it
        self._texts: dict[str, str] = {}  # open buffers (they win over disk)
        self._symbols: dict[str, ModuleSymbols] = {}
        self._lock = threading.RLock()
        self.generation = 0  # bumped whenever the set of modules or their imports changes
        self._prefixes: tuple[int, frozenset[str]] = (-1, frozenset())
        self._pending: set[str] = set()  # dependents of changed modules, not yet taken by the editor

    # -- building ------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, roots: Iterable[str | os.PathLike[str]],
              on_progress: Callable[[int, int], None] | None = None) -> WorkspaceIndex:
        """Index every source module of `roots`; `on_progress(done, total)` is called every 100 modules."""
        index = cls(roots)
        files = [path for root in index.roots for path in list_source_files(root)]
        for done, path in enumerate(files, 1):
            index._add(path, _read(path), _mtime(path))
            if on_progress is not None and (done % 100 == 0 or done == len(files)):
                on_progress(done, len(files))
        index._link()
        return index

    def _add(self, path: str, text: str | None, mtime_ns: int | None = None, tree=None) -> None:
        if text is None:
            return
        path = os.path.abspath(path)
        if path.endswith(TS_SUFFIXES):
            self._add_ts(path, text, mtime_ns)
            return
        names = self._module_names(path)
        if not names:
            return
        old = self.by_path.get(path)
        if old is not None:
            for n in old.names:
                if self.by_name.get(n) == path:
                    del self.by_name[n]
        info = ModuleInfo(path, names, _hash(text), is_package=os.path.basename(path).startswith("__init__."),
                          mtime_ns=mtime_ns)
        symbols = ModuleSymbols(path, text, ModuleEnv(self, info), tree=tree)
        self._symbols[path] = symbols
        for local, module, level, attr in symbols.imports():
            target = _absolute(info, module, level)
            if target:
                info.imports[local] = (target, attr)
        info.fingerprint = _hash("\n".join(f"{n}={src}" for n, src in symbols.exported()))
        self.by_path[path] = info
        for n in names:
            self.by_name.setdefault(n, path)

    def _add_ts(self, path: str, text: str, mtime_ns: int | None) -> None:
        # tree-sitter loads with the first TypeScript/JavaScript module indexed.
        from promptls.documents.code.ts_sites import TsModuleSymbols

        info = ModuleInfo(path, (), _hash(text), mtime_ns=mtime_ns)
        suffix = os.path.splitext(path)[1]
        try:
            symbols = TsModuleSymbols(path, text, _TS_LANGUAGE.get(suffix, "typescript"), TsModuleEnv(self, info))
        except (ValueError, RecursionError):
            return
        self._symbols[path] = symbols  # type: ignore[assignment]
        for local, (spec, attr) in symbols.imports.items():
            target = self.resolve_specifier(path, spec)
            if target is not None:
                info.imports[local] = (target, attr)
        specs = [*symbols.star_exports, *(e[1] for e in symbols.exports.values() if e[0] == "from")]
        info.reexported = [t for t in (self.resolve_specifier(path, sp) for sp in specs) if t is not None]
        parts = [f"{k}={v}" for k, v in sorted(symbols.exports.items())]
        parts += [f"{n}={symbols.ext.source(node)}" for n, node in sorted(symbols.ext.consts.items())]
        info.fingerprint = _hash("\n".join([*parts, *symbols.star_exports]))
        self.by_path[path] = info

    def resolve_specifier(self, from_path: str, spec: str) -> str | None:
        """The file an import specifier names: relative (`./clients`, `../lib/x.js`), or through the nearest
        tsconfig/jsconfig `baseUrl` and `paths` (`@/clients`)."""
        bases: list[str] = []
        if spec.startswith("."):
            bases.append(os.path.normpath(os.path.join(os.path.dirname(from_path), spec)))
        else:
            base_url, paths = self._tsconfig(os.path.dirname(from_path))
            for pattern, targets in paths.items():
                head, star, tail = pattern.partition("*")
                if star and spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(head) + len(tail):
                    middle = spec[len(head):len(spec) - len(tail)]
                    bases.extend(os.path.normpath(os.path.join(base_url, t.replace("*", middle))) for t in targets)
                elif not star and spec == pattern:
                    bases.extend(os.path.normpath(os.path.join(base_url, t)) for t in targets)
            if base_url and not bases:
                bases.append(os.path.normpath(os.path.join(base_url, spec)))
        for base in bases:
            stem, ext = os.path.splitext(base)
            candidates = [base] if ext in TS_SUFFIXES else []
            if ext in (".js", ".jsx", ".mjs", ".cjs"):  # TS sources import their compiled names
                candidates += [stem + e for e in (".ts", ".tsx", ".mts", ".cts")]
            candidates += [base + e for e in TS_SUFFIXES] + [os.path.join(base, "index" + e) for e in TS_SUFFIXES]
            for c in candidates:
                if c in self.by_path or (c not in self._symbols and os.path.isfile(c) and c.endswith(TS_SUFFIXES)):
                    return c
        return None

    def _tsconfig(self, folder: str) -> tuple[str, dict[str, list[str]]]:
        """(baseUrl, paths) of the nearest tsconfig.json or jsconfig.json up to a workspace root."""
        cache = self.__dict__.setdefault("_tsconfigs", {})
        if folder in cache:
            return cache[folder]
        result: tuple[str, dict[str, list[str]]] = ("", {})
        cur = folder
        while True:
            found = next((os.path.join(cur, n) for n in ("tsconfig.json", "jsconfig.json")
                          if os.path.isfile(os.path.join(cur, n))), None)
            if found is not None:
                try:
                    with open(found, encoding="utf-8") as f:
                        raw = _JSONC.sub(lambda m: m.group(1) or "", f.read())
                    opts = json.loads(re.sub(r",(\s*[}\]])", r"\1", raw)).get("compilerOptions", {})
                    base = os.path.normpath(os.path.join(cur, opts.get("baseUrl", ".")))
                    paths = {k: [t for t in v if isinstance(t, str)] for k, v in (opts.get("paths") or {}).items()
                             if isinstance(v, list)}
                    result = (base if ("baseUrl" in opts or paths) else "", paths)
                except (OSError, ValueError, AttributeError):
                    pass
                break
            parent = os.path.dirname(cur)
            if parent == cur or cur in self.roots:
                break
            cur = parent
        cache[folder] = result
        return result

    def ts_locate(self, path: str, symbol: str, hops: int = 0) -> tuple[str, str] | None:
        """(module path, local name) a TS/JS module's export is defined as, following re-exports."""
        # tree-sitter loads with the first TypeScript/JavaScript module indexed.
        from promptls.documents.code.ts_sites import TsModuleSymbols

        syms = self._symbols.get(path)
        info = self.by_path.get(path)
        if not isinstance(syms, TsModuleSymbols) or info is None or hops > _MAX_HOPS:
            return None
        exp = syms.exports.get(symbol)
        if exp is not None and exp[0] == "from":
            target = self.resolve_specifier(path, exp[1])
            return self.ts_locate(target, exp[2], hops + 1) if target else None
        local = exp[1] if exp is not None else symbol
        if local in info.imports:  # `import { claude } from "./clients"; export { claude }`
            target, attr = info.imports[local]
            return self.ts_locate(target, attr, hops + 1) if attr else None
        if local in syms.ext.consts:
            return path, local
        for spec in syms.star_exports:
            target = self.resolve_specifier(path, spec)
            hit = self.ts_locate(target, symbol, hops + 1) if target else None
            if hit is not None:
                return hit
        return None

    def _link(self) -> None:
        self.generation += 1
        self.dependents = {}
        for path, info in self.by_path.items():
            for target in self._imported_paths(info):
                self.dependents.setdefault(target, set()).add(path)

    def _relink(self, path: str, old: ModuleInfo, new: ModuleInfo, old_targets: set[str]) -> None:
        """A module re-indexed under the same names: only its own edges can have moved (typing in a module must
        cost in proportion to it, not to the workspace)."""
        if new.imports == old.imports and new.reexported == old.reexported:
            return
        new_targets = self._imported_paths(new)
        for target in old_targets - new_targets:
            self.dependents.get(target, set()).discard(path)
        for target in new_targets - old_targets:
            self.dependents.setdefault(target, set()).add(path)
        self.generation += 1

    def _imported_paths(self, info: ModuleInfo) -> set[str]:
        out: set[str] = set(info.reexported)
        for module, attr in info.imports.values():
            if module in self.by_path:  # TS/JS: imports are resolved to paths
                out.add(module)
                continue
            for name in (f"{module}.{attr}" if attr else None, module):
                p = self.by_name.get(name) if name else None
                if p is not None and p != info.path:
                    out.add(p)
        return out

    def _module_names(self, path: str) -> tuple[str, ...]:
        """Dotted names the module is importable as: relative to its package root (the first folder up without
        `__init__.py`) and relative to each workspace root (and its `src/`)."""
        p = Path(path)
        stem_parts = [] if p.stem == "__init__" else [p.stem]
        folder = p.parent
        pkg: list[str] = []
        while (folder / "__init__.py").exists() and folder.parent != folder:
            pkg.insert(0, folder.name)
            folder = folder.parent
        names = []
        if pkg or stem_parts:
            names.append(".".join([*pkg, *stem_parts]))
        for root in self.roots:
            for base in (root, os.path.join(root, "src")):
                try:
                    rel = Path(os.path.relpath(path, base))
                except ValueError:
                    continue
                if rel.parts and rel.parts[0] != ".." and all(part.isidentifier() for part in rel.parts[:-1]):
                    parts = [*rel.parts[:-1], *([] if rel.stem == "__init__" else [rel.stem])]
                    if parts and all(x.isidentifier() for x in parts):
                        names.append(".".join(parts))
        return tuple(dict.fromkeys(names))

    # -- questions -----------------------------------------------------------------------------------------
    def module_at(self, path: str) -> ModuleInfo | None:
        return self.by_path.get(os.path.abspath(path))

    def env_for(self, path: str, text: str | None = None, *, defer_parse: bool = False) -> ModuleEnv | None:
        """The resolver one module's call sites use; `text` (an editor buffer) re-indexes the module first when
        it differs from what the index holds. With `defer_parse`, a Python module already indexed is re-indexed
        from the tree its extractor parses anyway (`ModuleEnv.parsed`): one parse per keystroke, not two."""
        path = os.path.abspath(path)
        with self._lock:
            info = self.by_path.get(path)
            if text is not None and (info is None or info.text_hash != _hash(text)):
                if defer_parse and info is not None and not path.endswith(TS_SUFFIXES):
                    self._refresh_imported(info)
                    env = ModuleEnv(self, info)
                    env.stale_text = text
                    return env
                self.update(path, text)
                info = self.by_path.get(path)
            if info is not None:
                self._refresh_imported(info)
            if info is None:
                return None
            return TsModuleEnv(self, info) if path.endswith(TS_SUFFIXES) else ModuleEnv(self, info)

    def _refresh_imported(self, info: ModuleInfo) -> None:
        """Re-read the modules this one imports whose files changed on disk since they were indexed (a save in
        another editor, a `git checkout`); open buffers are kept as they are."""
        for target in self._imported_paths(info):
            dep = self.by_path.get(target)
            if dep is not None and dep.mtime_ns is not None and _mtime(target) != dep.mtime_ns:
                self.update(target, None)

    def pending(self) -> frozenset[str]:
        """Paths of the dependents still to be re-analysed (left in place for `take_pending`)."""
        with self._lock:
            return frozenset(self._pending)

    def sync(self, path: str, text: str | None = None) -> set[str]:
        """Bring one module up to `text` (an open buffer) or, with None, to its file on disk (a file event, a
        save, a close); re-indexes only when the text differs from what the index holds. Returns what `update`
        returns: the dependents to re-analyse."""
        path = os.path.abspath(path)
        if not path.endswith(PY_SUFFIXES + TS_SUFFIXES):
            return set()
        with self._lock:
            info = self.by_path.get(path)
            current = _read(path) if text is None else text
            if info is not None and current is not None and info.text_hash == _hash(current):
                if text is None:
                    info.mtime_ns = _mtime(path)
                return set()
            if info is None and current is None:
                return set()
            return self.update(path, text)

    def take_pending(self) -> set[str]:
        """Paths of the modules to re-analyse because a module they import changed, since the last call."""
        with self._lock:
            out, self._pending = self._pending, set()
            return out

    def update(self, path: str, text: str | None, tree=None) -> set[str]:
        """Re-index one module from `text` (None: read it from disk; a missing file is removed). Returns the paths
        of the modules to re-analyse: those that import it, directly or through re-exports, when its exported
        symbols changed."""
        path = os.path.abspath(path)
        with self._lock:
            old = self.by_path.get(path)
            # once a module is gone (or its name moves) nothing links to it any more: its importers of before count
            before = self.transitive_dependents(path) if old is not None else set()
            old_targets = self._imported_paths(old) if old is not None else set()
            mtime = None
            if text is None:
                text, mtime = _read(path), _mtime(path)
            if text is None:
                if old is not None:
                    del self.by_path[path]
                    self._symbols.pop(path, None)
                    for n in old.names:
                        if self.by_name.get(n) == path:
                            del self.by_name[n]
                new, new_fp = None, None
            else:
                self._add(path, text, mtime, tree)
                new = self.by_path.get(path)
                new_fp = new.fingerprint if new is not None else None
            if old is not None and new is not None and new.names == old.names:
                self._relink(path, old, new, old_targets)
            else:  # a module came or went: other modules' imports may resolve differently
                self._link()
            if old is not None and new_fp == old.fingerprint:
                return set()
            dependents = self.transitive_dependents(path) | before
            dependents.discard(path)
            self._pending |= dependents
            return dependents

    def transitive_dependents(self, path: str) -> set[str]:
        out: set[str] = set()
        todo = [os.path.abspath(path)]
        while todo:
            for dep in self.dependents.get(todo.pop(), ()):
                if dep not in out:
                    out.add(dep)
                    todo.append(dep)
        out.discard(os.path.abspath(path))
        return out

    def known_modules(self) -> frozenset[str]:
        """Every module name and every package prefix of one (`app`, `app.clients`)."""
        gen, names = self._prefixes
        if gen != self.generation:
            out: set[str] = set()
            for name in self.by_name:
                parts = name.split(".")
                out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
            names = frozenset(out)
            self._prefixes = (self.generation, names)
        return names

    def symbols(self, path: str) -> ModuleSymbols | None:
        return self._symbols.get(path)

    def locate(self, qualified: str, hops: int = 0) -> tuple[str, str] | None:
        """(module path, symbol) that a fully qualified name (`app.clients.claude`) is defined as, following
        re-exports (`from .clients import claude` in `app/__init__.py`)."""
        if hops > _MAX_HOPS:
            return None
        module, _, symbol = qualified.rpartition(".")
        if not module:
            return None
        path = self.by_name.get(module)
        if path is None:
            return None
        syms = self._symbols.get(path)
        info = self.by_path.get(path)
        if syms is None or info is None:
            return None
        imported = info.imports.get(symbol)
        if imported is not None:
            target_module, attr = imported
            target = f"{target_module}.{attr}" if attr else target_module
            if target in self.by_name:
                return None  # a module, not a symbol
            return self.locate(target, hops + 1)
        return path, symbol

    def client(self, qualified: str) -> ClientRef | None:
        with self._lock:  # the modules' evaluators cache as they go: one question at a time
            hit = self.locate(qualified)
            syms = self._symbols.get(hit[0]) if hit is not None else None
            return syms.client(hit[1]) if syms is not None and hit is not None else None

    def factory(self, qualified: str) -> ClientRef | None:
        with self._lock:  # the modules' evaluators cache as they go: one question at a time
            hit = self.locate(qualified)
            syms = self._symbols.get(hit[0]) if hit is not None else None
            return syms.factory(hit[1]) if syms is not None and hit is not None else None

    def constant(self, qualified: str) -> tuple[Value, Location] | None:
        with self._lock:  # the modules' evaluators cache as they go: one question at a time
            hit = self.locate(qualified)
            syms = self._symbols.get(hit[0]) if hit is not None else None
            return syms.constant(hit[1]) if syms is not None and hit is not None else None

    def definition(self, qualified: str) -> Location | None:
        with self._lock:
            hit = self.locate(qualified)
            if hit is None:
                path = self.by_name.get(qualified)
                return Location(path, 0) if path else None
            syms = self._symbols.get(hit[0])
            return syms.definition(hit[1]) if syms is not None else None


class _ImportedNames:
    """What the Python and the TypeScript/JavaScript module environments share: the lookups by kind of symbol,
    and the guard around each (a hop limit, and a crash that costs nothing but the one name)."""

    _depth: int

    def _ask(self, dotted: str, what: str):
        raise NotImplementedError

    def _guarded(self, label: str, resolve: Callable[[], Any]):
        """`resolve()` one hop deeper; a name that cannot be resolved must never cost the module its analysis
        (None, logged; raised under PROMPTLS_STRICT=1)."""
        self._depth += 1
        try:
            return resolve()
        except Exception:
            if os.environ.get("PROMPTLS_STRICT") == "1":
                raise
            log.exception("workspace: resolving %s failed", label)
            return None
        finally:
            self._depth -= 1

    def client(self, dotted: str) -> ClientRef | None:
        return self._ask(dotted, "client")

    def constant(self, dotted: str) -> tuple[Value, Location] | None:
        return self._ask(dotted, "constant")

    def definition(self, dotted: str) -> Location | None:
        return self._ask(dotted, "definition")


class ModuleEnv(_ImportedNames):
    """`code.python_sites.Environment` for one module: its imported names, resolved through the index."""

    def __init__(self, index: WorkspaceIndex, info: ModuleInfo) -> None:
        self.index = index
        self.info = info
        self._depth = 0
        self._names: tuple[int, frozenset[str]] = (-1, frozenset())
        self.stale_text: str | None = None  # the buffer this module's index entry must be brought up to

    def parsed(self, tree) -> None:
        """The module's extractor parsed `stale_text`: re-index the module from that tree (no second parse)."""
        if self.stale_text is None:
            return
        text, self.stale_text = self.stale_text, None
        self.index.update(self.info.path, text, tree)
        self.info = self.index.by_path.get(self.info.path, self.info)

    @property
    def names(self) -> frozenset[str]:  # type: ignore[override]
        gen, names = self._names
        if gen != self.index.generation:
            known = self.index.known_modules()
            names = frozenset(local for local, (module, _attr) in self.info.imports.items() if module in known)
            self._names = (self.index.generation, names)
        return names

    def qualify(self, dotted: str) -> str | None:
        """`clients.claude` -> `app.clients.claude` through this module's imports."""
        head, _, rest = dotted.partition(".")
        hit = self.info.imports.get(head)
        if hit is None:
            return None
        module, attr = hit
        if attr is None and "." in module and head == module.partition(".")[0]:
            base = head  # `import app.clients` binds `app`
        else:
            base = f"{module}.{attr}" if attr else module
        return f"{base}.{rest}" if rest else base

    def _ask(self, dotted: str, what: str):
        qualified = self.qualify(dotted)
        if qualified is None or self._depth > _MAX_HOPS:
            return None
        return self._guarded(qualified, lambda: getattr(self.index, what)(qualified))

    def factory(self, dotted: str) -> ClientRef | None:
        return self._ask(dotted, "factory")


class TsModuleEnv(_ImportedNames):
    """`code.python_sites.Environment` for a TypeScript/JavaScript module: imported names (named, default,
    namespace, `require`) resolved to the modules that export them."""

    def __init__(self, index: WorkspaceIndex, info: ModuleInfo) -> None:
        self.index = index
        self.info = info
        self._depth = 0

    @property
    def names(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset(local for local, (target, _a) in self.info.imports.items() if target in self.index.by_path)

    def _ask(self, dotted: str, what: str):
        head, _, rest = dotted.partition(".")
        hit = self.info.imports.get(head)
        if hit is None or self._depth > _MAX_HOPS:
            return None
        target, attr = hit
        if attr is None:  # a namespace or module object: `clients.claude`
            symbol, _, more = rest.partition(".")
        else:
            symbol, more = attr, rest
        if not symbol or more:
            return None

        def resolve():
            with self.index._lock:
                found = self.index.ts_locate(target, symbol)
                syms = self.index.symbols(found[0]) if found is not None else None
                return getattr(syms, what)(found[1]) if syms is not None and found is not None else None

        return self._guarded(dotted, resolve)

    def factory(self, dotted: str) -> ClientRef | None:
        return None


def _absolute(info: ModuleInfo, module: str | None, level: int) -> str | None:
    if level == 0:
        return module
    if not info.names:
        return None
    parts = info.names[0].split(".")
    if not info.is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base) or None


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _read(path: str) -> str | None:
    try:
        if os.path.getsize(path) > MAX_MODULE_BYTES:
            return None
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def list_python_files(root: str) -> list[str]:
    """Python modules under `root` (see `list_source_files`)."""
    return list_source_files(root, PY_SUFFIXES)


def list_source_files(root: str, suffixes: tuple[str, ...] = PY_SUFFIXES + TS_SUFFIXES) -> list[str]:
    """Source modules under `root`: tracked and untracked-but-not-ignored files in a git work tree, else a walk
    that skips dot folders and the usual tool and build folders. A single file is itself. No `.d.ts`."""
    root = os.path.abspath(root)
    if os.path.isfile(root):
        return [root] if root.endswith(suffixes) else []
    files = _git_files(root, suffixes)
    if files is None:
        files = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
            files.extend(os.path.join(folder, n) for n in sorted(names) if n.endswith(suffixes))
    return [f for f in files if not f.endswith(".d.ts")
            and not any(part in SKIP_DIRS for part in Path(f).relative_to(root).parts[:-1])]


def _git_files(root: str, suffixes: tuple[str, ...]) -> list[str] | None:
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                              "--", *(f"*{s}" for s in suffixes)], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    rels = [r for r in out.stdout.decode("utf-8", "surrogateescape").split("\0") if r]
    return sorted(p for p in (os.path.join(root, r) for r in rels) if os.path.isfile(p))
