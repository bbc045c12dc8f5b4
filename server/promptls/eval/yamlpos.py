"""YAML with line numbers: the data as `yaml.safe_load` gives it, and the 1-based line of every mapping key and
sequence item, so a finding about a case file can point at the line that caused it."""

from __future__ import annotations

from typing import Any

import yaml

Path_ = tuple[Any, ...]


class YamlError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load(text: str) -> tuple[Any, dict[Path_, int]]:
    """`(data, lines)`; `lines[("tests", 0, "assert", 1, "type")]` is the line of that key. Raises YamlError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(str(exc).replace("\n", " "), (mark.line + 1) if mark else 1) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), 1) from None
    lines: dict[Path_, int] = {}
    if node is not None:
        lines[()] = node.start_mark.line + 1
        _walk(node, (), lines)
    return data, lines


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            sub = (*path, key)
            lines[sub] = k.start_mark.line + 1
            _walk(v, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*path, i)
            lines[sub] = item.start_mark.line + 1
            _walk(item, sub, lines)


def line_of(lines: dict[Path_, int], path: Path_) -> int:
    """The line of `path`, else of its nearest ancestor that has one."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get((), 1)
