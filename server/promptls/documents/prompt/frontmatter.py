"""Split `---` YAML frontmatter from a body, and parse it into a tree that keeps every key's and value's span.

PyYAML's composer gives marks for every node; we keep them as document offsets so analysis can point at the
exact key or value. Aliases are followed with a node budget so a YAML "billion laughs" cannot blow up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from promptls.core.positions import Span

MAX_NODES = 50_000
# libyaml's parser when PyYAML was built with it (same node marks, in characters, roughly 10x faster)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FRONTMATTER_CHARS = 1_000_000

_OPEN = re.compile(r"---[ \t]*(?:\r\n|\r|\n|$)")
_CLOSE = re.compile(r"^---[ \t]*(?=\r?$)", re.M)


@dataclass(slots=True)
class FMNode:
    """A YAML node: `value` is the plain Python value; `span` covers the value, `key_span` its mapping key."""

    value: Any
    span: Span
    key_span: Span | None = None
    children: dict[str, FMNode] | list[FMNode] | None = None

    def get(self, *path: str) -> FMNode | None:
        node: FMNode | None = self
        for key in path:
            if node is None or not isinstance(node.children, dict):
                return None
            node = node.children.get(key)
        return node

    @property
    def is_map(self) -> bool:
        return isinstance(self.children, dict)

    @property
    def is_seq(self) -> bool:
        return isinstance(self.children, list)


@dataclass(slots=True)
class Frontmatter:
    """Where the frontmatter is, and what it holds (root is None when absent or unparsable)."""

    present: bool
    open_span: Span | None = None  # the opening `---`
    close_span: Span | None = None  # the closing `---`; None when unclosed
    yaml_span: Span | None = None  # the YAML text between the fences
    body_start: int = 0
    root: FMNode | None = None
    error: tuple[str, Span] | None = None  # YAML error message and where
    comments: list[tuple[Span, str]] = field(default_factory=list)  # YAML `#` comments (for suppressions)

    @property
    def data(self) -> dict[str, Any]:
        if self.root is not None and isinstance(self.root.value, dict):
            return self.root.value
        return {}


def split(text: str, *, allow_leading_comments: bool = True) -> Frontmatter:
    """Find the frontmatter fences. Leading `#` comment lines and blank lines may precede the opening fence
    (Dotprompt allows licence headers there)."""
    pos = 0
    if text.startswith("\ufeff"):
        pos = 1
    if allow_leading_comments:
        while True:
            m = re.compile(r"[ \t]*(#[^\r\n]*)?(\r\n|\r|\n)").match(text, pos)
            if not m or text.startswith("---", pos):
                break
            pos = m.end()
    m = _OPEN.match(text, pos)
    if not m:
        return Frontmatter(present=False, body_start=0)
    open_span = Span(pos, pos + 3)
    yaml_start = m.end()
    close = _CLOSE.search(text, yaml_start)
    if close is None:
        return Frontmatter(present=True, open_span=open_span, yaml_span=Span(yaml_start, len(text)),
                           body_start=len(text))
    body_start = close.end()
    if text.startswith("\r\n", body_start):
        body_start += 2
    elif body_start < len(text) and text[body_start] in "\r\n":
        body_start += 1
    return Frontmatter(present=True, open_span=open_span, close_span=Span(close.start(), close.start() + 3),
                       yaml_span=Span(yaml_start, close.start()), body_start=body_start)


def parse(text: str, fm: Frontmatter) -> Frontmatter:
    """Parse the YAML between the fences into `fm.root` (or set `fm.error`)."""
    if fm.yaml_span is None:
        return fm
    base = fm.yaml_span.start
    src = text[fm.yaml_span.start:fm.yaml_span.end]
    fm.comments = [(Span(base + m.start(), base + m.end()), m.group(0)) for m in re.finditer(r"#[^\r\n]*", src)
                   if m.start() == 0 or src[m.start() - 1] in " \t\r\n"]
    if len(src) > MAX_FRONTMATTER_CHARS:
        fm.error = (f"frontmatter is {len(src):,} characters; the limit is {MAX_FRONTMATTER_CHARS:,}",
                    Span(base, base))
        return fm
    if not src.strip():
        fm.root = FMNode({}, Span(base, base), children={})
        return fm
    loader = _Loader(src)
    try:
        node = loader.get_single_node()
        if node is None:
            fm.root = FMNode({}, Span(base, base), children={})
            return fm
        fm.root = _Builder(loader, base).build(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = base + (mark.index if mark else 0)
        end = min(where + 1, fm.yaml_span.end) if where < fm.yaml_span.end else where
        fm.error = (_yaml_message(e), Span(where, end))
    except (yaml.YAMLError, _TooBig, RecursionError, ValueError, TypeError) as e:
        fm.error = (f"YAML error: {e}" if not isinstance(e, _TooBig) else str(e), Span(base, base + 3))
    finally:
        if hasattr(loader, "dispose"):
            loader.dispose()
    return fm


class _TooBig(Exception):
    pass


def _yaml_message(e: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (e.context, e.problem) if p]
    return "YAML syntax error: " + ("; ".join(parts) if parts else str(e).splitlines()[0])


class _Builder:
    def __init__(self, loader: yaml.SafeLoader | yaml.CSafeLoader, base: int) -> None:
        self.loader = loader
        self.base = base
        self.count = 0

    def span(self, node: yaml.Node) -> Span:
        return Span(self.base + node.start_mark.index, self.base + node.end_mark.index)

    def build(self, node: yaml.Node, key_span: Span | None = None, depth: int = 0) -> FMNode:
        self.count += 1
        if self.count > MAX_NODES or depth > 200:
            raise _TooBig(f"frontmatter expands to more than {MAX_NODES:,} YAML nodes or is nested too deeply "
                          "(an alias bomb?)")
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            children: dict[str, FMNode] = {}
            for k, v in node.value:
                key = self.loader.construct_object(k, deep=True) if isinstance(k, yaml.ScalarNode) else None
                key = str(key) if key is not None else f"<{k.tag}>"
                children[key] = self.build(v, self.span(k), depth + 1)
            return FMNode({k: c.value for k, c in children.items()}, self.span(node), key_span, children)
        if isinstance(node, yaml.SequenceNode):
            items = [self.build(v, None, depth + 1) for v in node.value]
            return FMNode([c.value for c in items], self.span(node), key_span, items)
        value = self.loader.construct_object(node, deep=True)
        return FMNode(value, self.span(node), key_span, None)
