"""Reports prepared for rendering: the path to show, a line index over the text, findings in file order."""

from __future__ import annotations

from dataclasses import dataclass

from promptls.core.findings import FileReport, Finding
from promptls.core.positions import LineIndex, Locator, Range, Span
from promptls.output.paths import display_path


@dataclass(slots=True)
class LocatedFile:
    report: FileReport
    path: str  # as shown: relative to the root (posix) or absolute
    index: Locator  # a LineIndex over the text, or a dataset's LineLocator when the text was streamed
    findings: list[Finding]

    def range(self, span: Span) -> Range:
        """0-based line and code-point character, as JSON and SARIF (plus one) report them."""
        return self.index.range(span)


def locate(reports: list[tuple[FileReport, str]], root: str) -> list[LocatedFile]:
    out = []
    for report, text in reports:
        findings = sorted(report.findings, key=lambda f: (f.span.start, f.span.end, f.code, f.message))
        index = report.locator if report.locator is not None and not text else LineIndex(text)
        out.append(LocatedFile(report, display_path(report.path, root), index, findings))
    return out
