"""Render Jinja2 in jinja2's `SandboxedEnvironment`, leniently and within bounds.

Undefined names render as empty text and tolerate attribute access, arithmetic and comparison (a
sample input rarely has every field). Bounds against a hostile template: output stops at
`max_output_chars`; every `{% for %}` iterable is wrapped (by rewriting the parsed tree) so that all
loops of one render share `MAX_ITERATIONS`; `*`, `**`, `+` and `%` are intercepted to refuse results
beyond the output cap or huge format widths, as are the amplifying filters (`center`, `indent`,
`replace`, `format`, `wordwrap`). This bounds memory and output, not CPU time: callers that render
untrusted templates on a server should still apply a deadline.

Imported lazily by `promptls.documents.templates.render`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import ChainableUndefined, FunctionLoader, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from promptls.documents.templates.hb_render import MAX_ITERATIONS, RenderError, RenderLimitError

_LOOP_GUARD = "__promptls_bounded"
_HUGE_WIDTH_RE = re.compile(r"(?:%|:)[^a-zA-Z%{}]*?(\d{6,}|\*)")


class _LenientUndefined(ChainableUndefined):
    """Renders as '' and survives `x.y`, `x[0]`, `x + 1`, `x > 0`, `x()`."""

    __slots__ = ()

    def _self(self, *args: Any, **kwargs: Any) -> _LenientUndefined:
        return self

    def _false(self, other: Any) -> bool:
        return False

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _self
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _self
    __pos__ = __neg__ = __pow__ = __rpow__ = __call__ = _self
    __lt__ = __le__ = __gt__ = __ge__ = _false

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


class _BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, max_output: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_output = max_output
        for name in ("center", "indent", "replace", "format", "wordwrap"):
            self.filters[name] = self._bounded_filter(self.filters[name])

    def _refuse(self, what: str) -> RenderLimitError:
        return RenderLimitError(f"{what} would exceed {self.max_output} characters")

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "*":
            for seq, times in ((left, right), (right, left)):
                if _size(seq) and isinstance(times, int) and _size(seq) * times > self.max_output:
                    raise self._refuse("'*'")
        elif op == "**":
            if isinstance(right, int | float) and abs(right) > 1000 and isinstance(left, int | float) and abs(left) > 1:
                raise RenderLimitError("'**' with an exponent over 1000")
        elif op == "+":
            if _size(left) + _size(right) > self.max_output:
                raise self._refuse("'+'")
        elif op == "%" and isinstance(left, str) and _HUGE_WIDTH_RE.search(left):
            raise RenderLimitError("a format width over 99999")
        return {"*": operator.mul, "**": operator.pow, "+": operator.add, "%": operator.mod}[op](left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`"{:999999999}".format(x)` would allocate before any output check: refuse huge widths."""
        fmt = super().wrap_str_format(value)
        if fmt is None:
            return None
        template = getattr(value, "__self__", "")
        wrapped = fmt

        def bounded(*args: Any, **kwargs: Any) -> str:
            numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int) and not isinstance(a, bool)]
            if (isinstance(template, str) and _HUGE_WIDTH_RE.search(template)) or any(
                abs(n) > self.max_output for n in numbers
            ):
                raise RenderLimitError("a format width over 99999")
            return wrapped(*args, **kwargs)

        return bounded

    def _bounded_filter(self, func: Callable[..., Any]) -> Callable[..., Any]:
        name = func.__name__.removeprefix("do_")

        def bounded(*args: Any, **kwargs: Any) -> Any:
            texts = [a for a in args if isinstance(a, str)]
            numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int) and not isinstance(a, bool)]
            if any(n > self.max_output for n in numbers) or any(_HUGE_WIDTH_RE.search(t) for t in texts):
                raise self._refuse(f"filter '{name}'")
            if func.__name__ == "do_replace" and len(texts) >= 3:
                s, old, new = texts[-3:]
                if old and s.count(old) * max(len(new) - len(old), 0) + len(s) > self.max_output:
                    raise self._refuse("filter 'replace'")
            result = func(*args, **kwargs)
            if _size(str(result)) > self.max_output:
                raise self._refuse(f"filter '{name}'")
            return result

        for attr in ("jinja_pass_arg",):
            if hasattr(func, attr):
                setattr(bounded, attr, getattr(func, attr))
        bounded.__name__ = func.__name__
        return bounded


def _guard_loops(tree: nodes.Template) -> None:
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Call(nodes.Name(_LOOP_GUARD, "load"), [loop.iter], [], None, None, lineno=loop.lineno)


def render(
    body: str,
    data: dict,
    *,
    partials: Callable[[str], str | None],
    max_output_chars: int,
) -> str:
    env = _BoundedSandbox(
        max_output_chars,
        undefined=_LenientUndefined,
        autoescape=False,
        loader=FunctionLoader(partials),
    )
    count = [0]

    def bounded(iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            count[0] += 1
            if count[0] > MAX_ITERATIONS:
                raise RenderLimitError(f"more than {MAX_ITERATIONS} loop iterations")
            yield item

    env.globals[_LOOP_GUARD] = bounded
    # Included templates are compiled by the environment itself: guard their loops too.
    original_parse = env._parse

    def parse_and_guard(source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = original_parse(source, name, filename)
        _guard_loops(tree)
        return tree

    env._parse = parse_and_guard  # type: ignore[method-assign]
    out: list[str] = []
    size = 0
    try:
        template = env.from_string(body)
        for chunk in template.generate(data):
            size += len(chunk)
            if size > max_output_chars:
                out.append(chunk[: len(chunk) - (size - max_output_chars)])
                raise RenderLimitError(f"rendered output exceeds {max_output_chars} characters")
            out.append(chunk)
    except RenderLimitError as err:
        err.output = "".join(out)
        raise
    except RecursionError:
        raise RenderLimitError("template nesting or recursion is too deep to render", "".join(out)) from None
    except TemplateSyntaxError as err:
        raise RenderError(f"line {err.lineno}: {err.message}") from None
    except SecurityError as err:
        raise RenderError(f"unsafe operation: {err}") from None
    except TemplateError as err:
        raise RenderError(str(err) or type(err).__name__) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as err:
        raise RenderError(f"{type(err).__name__}: {err}") from None
    return "".join(out)
