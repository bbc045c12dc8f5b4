"""Which findings the user wants: select/ignore (global and per glob), severity overrides, and inline
`promptls-ignore` comments in the file's own comment syntax:

- Handlebars/Mustache: `{{! promptls-ignore VR001 }}`  - Jinja: `{# promptls-ignore VR001 #}`
- YAML frontmatter: `# promptls-ignore VR001`
- Source code: `# promptls-ignore SD003` (Python) or `// promptls-ignore SD003` (TypeScript/JavaScript)
A comment applies to its own line and the next one; without codes it applies to every code.
`promptls-ignore-file CODES` anywhere applies to the whole file.
"""

from __future__ import annotations

import re
from dataclasses import replace

from promptls.config import Config
from promptls.core.findings import Finding
from promptls.core.positions import LineIndex, Span
from promptls.core.registry import matches
from promptls.documents.prompt.model import PromptDocument

_DIRECTIVE = re.compile(r"promptls-ignore(?P<file>-file)?(?:[: \t]+(?P<codes>[A-Za-z0-9_, \t-]+))?")


def _codes(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(c for c in re.split(r"[\s,]+", raw.strip()) if c and re.fullmatch(r"[A-Za-z]+\d*|[a-z-]+", c))


def comments_of(doc: object) -> list[tuple[Span, str]]:
    """The comments of a prompt document (template and frontmatter) or of a source file."""
    if isinstance(doc, PromptDocument):
        return list(doc.template.comments) + list(doc.frontmatter.comments)
    return list(getattr(doc, "comments", ()))


def inline_suppressions(comments: list[tuple[Span, str]],
                        index: LineIndex) -> tuple[dict[int, tuple[str, ...]], tuple[str, ...]]:
    """line -> codes suppressed on that line (empty tuple: all), and file-wide codes."""
    per_line: dict[int, tuple[str, ...]] = {}
    file_codes: list[str] = []
    for span, text in comments:
        for m in _DIRECTIVE.finditer(text):
            codes = _codes(m.group("codes"))
            if m.group("file"):
                file_codes.extend(codes or ("ALL",))
                continue
            start_line = index.pos(span.start).line
            end_line = index.pos(span.end).line
            for line in range(start_line, end_line + 2):
                prev = per_line.get(line)
                per_line[line] = () if prev == () or not codes else tuple({*(prev or ()), *codes})
    return per_line, tuple(file_codes)


def is_selected(code: str, config: Config, path: str) -> bool:
    if not any(matches(s, code) for s in config.select):
        return False
    ignored = (*config.ignore, *config.ignored_for(path))
    return not any(matches(s, code) for s in ignored)


def apply(findings: list[Finding], doc: object | None, config: Config, path: str,
          index: LineIndex | None) -> list[Finding]:
    per_line: dict[int, tuple[str, ...]] = {}
    file_codes: tuple[str, ...] = ()
    comments = comments_of(doc) if doc is not None else []
    if comments and index is not None:
        per_line, file_codes = inline_suppressions(comments, index)
    overrides = dict(config.severity)
    out = []
    for f in findings:
        if not is_selected(f.code, config, path):
            continue
        if any(matches(c, f.code) for c in file_codes):
            continue
        line_codes = per_line.get(index.pos(f.span.start).line) if per_line and index is not None else None
        if line_codes is not None and (line_codes == () or any(matches(c, f.code) for c in line_codes)):
            continue
        if f.code in overrides:
            f = replace(f, severity=overrides[f.code])
        out.append(f)
    return out
