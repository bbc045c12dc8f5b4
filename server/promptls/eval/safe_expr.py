"""A safe expression form for assertions: a Python expression over the output, checked against a whitelist of
syntax before it runs, evaluated by walking the AST (never `eval`).

Names: `output` (the answer text), `json` (the answer parsed as JSON, or None), `vars`, `latency_ms`,
`cost_usd`, `tokens`, `cached`. Allowed: literals, arithmetic, comparisons (`in` too), `and`/`or`/`not`,
conditional expressions, subscripts and slices, comprehensions, the calls in `_FUNCS` and the string/list/dict
methods in `_METHODS`. No attribute other than those methods, no imports, no lambdas, no dunder names.
The result's truth decides pass; a number in 0..1 is also the score.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

MAX_LEN = 1_000_000  # longest string/list an expression may build (no `"x" * 10**12`)
MAX_STEPS = 100_000


class ExprError(ValueError):
    pass


_FUNCS: dict[str, Callable[..., Any]] = {
    "len": len, "int": int, "float": float, "str": str, "bool": bool, "abs": abs, "min": min, "max": max,
    "sum": sum, "any": any, "all": all, "round": round, "sorted": sorted, "list": list, "set": set,
    "tuple": tuple, "dict": dict, "range": range, "isinstance": isinstance, "re_search": None, "re_match": None,
}
_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}

_METHODS = {
    str: {"lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "splitlines", "count",
          "find", "replace", "join", "isdigit", "isalpha", "isnumeric", "title", "casefold", "index"},
    list: {"count", "index"},
    dict: {"get", "keys", "values", "items"},
    tuple: {"count", "index"},
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Store, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp,
    ast.Not, ast.USub, ast.UAdd, ast.BinOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Call,
    ast.Attribute, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.GeneratorExp, ast.SetComp,
    ast.comprehension, ast.keyword, *_BINOPS, *_CMPOPS,
)


def compile_expr(source: str) -> ast.Expression:
    """Parse and check an expression; raises ExprError naming what is not allowed."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"not a Python expression: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"{type(node).__name__} is not allowed in an assertion expression")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExprError(f"name {node.id!r} is not allowed")
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or not any(node.attr in m for m in _METHODS.values()):
                raise ExprError(f"attribute {node.attr!r} is not allowed")
        if isinstance(node, ast.comprehension) and (node.is_async or not isinstance(node.target, ast.Name | ast.Tuple)):
            raise ExprError("only simple comprehensions are allowed")
    return tree


def evaluate(tree: ast.Expression, names: dict[str, Any]) -> Any:
    return _Eval(names).run(tree.body)


class _Eval:
    def __init__(self, names: dict[str, Any]) -> None:
        self.scopes: list[dict[str, Any]] = [names]
        self.steps = 0

    def run(self, node: ast.AST) -> Any:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ExprError("the expression took too many steps")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise ExprError(f"{type(node).__name__} is not allowed")
        return method(node)

    def _Constant(self, n: ast.Constant) -> Any:
        return n.value

    def _Name(self, n: ast.Name) -> Any:
        for scope in reversed(self.scopes):
            if n.id in scope:
                return scope[n.id]
        if n.id in _FUNCS:
            return n.id  # called through _Call
        if n.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[n.id]
        raise ExprError(f"unknown name {n.id!r}")

    def _BoolOp(self, n: ast.BoolOp) -> Any:
        value: Any = None
        for v in n.values:
            value = self.run(v)
            if isinstance(n.op, ast.And) and not value:
                return value
            if isinstance(n.op, ast.Or) and value:
                return value
        return value

    def _UnaryOp(self, n: ast.UnaryOp) -> Any:
        v = self.run(n.operand)
        if isinstance(n.op, ast.Not):
            return not v
        return -v if isinstance(n.op, ast.USub) else +v

    def _BinOp(self, n: ast.BinOp) -> Any:
        a, b = self.run(n.left), self.run(n.right)
        if isinstance(n.op, ast.Pow) and (not isinstance(b, int | float) or abs(b) > 100):
            raise ExprError("exponent too large")
        if isinstance(n.op, ast.Mult) and isinstance(a, str | list | tuple) and isinstance(b, int) \
                and len(a) * b > MAX_LEN:
            raise ExprError("result too long")
        if isinstance(n.op, ast.Mult) and isinstance(b, str | list | tuple) and isinstance(a, int) \
                and len(b) * a > MAX_LEN:
            raise ExprError("result too long")
        return _BINOPS[type(n.op)](a, b)

    def _Compare(self, n: ast.Compare) -> Any:
        left = self.run(n.left)
        for op, right_node in zip(n.ops, n.comparators, strict=True):
            right = self.run(right_node)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True

    def _IfExp(self, n: ast.IfExp) -> Any:
        return self.run(n.body) if self.run(n.test) else self.run(n.orelse)

    def _Subscript(self, n: ast.Subscript) -> Any:
        return self.run(n.value)[self.run(n.slice)]

    def _Slice(self, n: ast.Slice) -> Any:
        def part(x: ast.AST | None) -> Any:
            return None if x is None else self.run(x)

        return slice(part(n.lower), part(n.upper), part(n.step))

    def _List(self, n: ast.List) -> Any:
        return [self.run(e) for e in n.elts]

    def _Tuple(self, n: ast.Tuple) -> Any:
        return tuple(self.run(e) for e in n.elts)

    def _Set(self, n: ast.Set) -> Any:
        return {self.run(e) for e in n.elts}

    def _Dict(self, n: ast.Dict) -> Any:
        if any(k is None for k in n.keys):
            raise ExprError("** in a dict is not allowed")
        return {self.run(k): self.run(v) for k, v in zip(n.keys, n.values, strict=True)}  # type: ignore[arg-type]

    def _Attribute(self, n: ast.Attribute) -> Any:
        obj = self.run(n.value)
        allowed = next((m for t, m in _METHODS.items() if isinstance(obj, t)), set())
        if n.attr not in allowed:
            raise ExprError(f"{type(obj).__name__} has no allowed method {n.attr!r}")
        return getattr(obj, n.attr)

    def _Call(self, n: ast.Call) -> Any:
        args = [self.run(a) for a in n.args]
        kwargs = {k.arg: self.run(k.value) for k in n.keywords if k.arg}
        if len(kwargs) != len(n.keywords):
            raise ExprError("** arguments are not allowed")
        if isinstance(n.func, ast.Name) and n.func.id in _FUNCS and not any(n.func.id in s for s in self.scopes):
            name = n.func.id
            if name == "re_search":
                return re.search(str(args[0]), str(args[1])) is not None
            if name == "re_match":
                return re.match(str(args[0]), str(args[1])) is not None
            if name == "isinstance":
                kind = _TYPES.get(args[1]) if isinstance(args[1], str) else None
                if kind is None:
                    raise ExprError("isinstance(x, 'str'|'int'|'float'|'bool'|'list'|'dict')")
                return isinstance(args[0], kind)
            if name == "range" and args and max(a for a in args if isinstance(a, int)) > MAX_LEN:
                raise ExprError("range too long")
            return _FUNCS[name](*args, **kwargs)
        if isinstance(n.func, ast.Attribute):
            return self.run(n.func)(*args, **kwargs)
        raise ExprError("only the allowed functions and methods may be called")

    def _comp(self, generators: list[ast.comprehension], emit: Callable[[], None]) -> None:
        def loop(i: int) -> None:
            if i == len(generators):
                emit()
                return
            g = generators[i]
            for item in self.run(g.iter):
                scope = self.scopes[-1]
                self._bind(g.target, item, scope)
                if all(self.run(c) for c in g.ifs):
                    loop(i + 1)

        self.scopes.append({})
        try:
            loop(0)
        finally:
            self.scopes.pop()

    def _bind(self, target: ast.AST, value: Any, scope: dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            scope[target.id] = value
        elif isinstance(target, ast.Tuple):
            for t, v in zip(target.elts, value, strict=True):
                self._bind(t, v, scope)

    def _ListComp(self, n: ast.ListComp) -> Any:
        out: list[Any] = []
        self._comp(n.generators, lambda: out.append(self.run(n.elt)))
        return out

    def _GeneratorExp(self, n: ast.GeneratorExp) -> Any:
        return self._ListComp(n)  # type: ignore[arg-type]

    def _SetComp(self, n: ast.SetComp) -> Any:
        return set(self._ListComp(n))  # type: ignore[arg-type]
