"""The analysis entry point shared by the CLI and the language server: a file's bytes or text in, a report out."""

from __future__ import annotations

import datetime as _dt
import logging
import os
from pathlib import Path

from promptls.analysis.context import Context, PartialLookup, fs_partials
from promptls.analysis.findings import FileReport, Finding, Severity
from promptls.analysis.rules import ALL_CHECKS
from promptls.analysis.suppress import apply
from promptls.config import Config
from promptls.documents.load import parse_document
from promptls.documents.model import PromptDocument
from promptls.positions import LineIndex, Span

log = logging.getLogger(__name__)


def decode(data: bytes, config: Config) -> tuple[str | None, str | None]:
    """The text of a file, or the reason it is not analysed (binary, not UTF-8, too large)."""
    if len(data) > config.max_file_bytes:
        return None, (f"file is {len(data) / 1e6:.1f} MB, above the {config.max_file_bytes / 1e6:.1f} MB limit "
                      "(`max-file-bytes`)")
    if b"\x00" in data[:8192]:
        return None, "binary file (contains NUL bytes)"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        return None, f"not valid UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r})"


def analyze_path(path: str, config: Config, *, partials: PartialLookup = fs_partials,
                 today: _dt.date | None = None) -> tuple[FileReport, str]:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        return _skipped(path, f"cannot read: {e.strerror or e}"), ""
    text, reason = decode(data, config)
    if text is None:
        return _skipped(path, reason or "unreadable"), ""
    return analyze_text(path, text, config, partials=partials, today=today), text


def _skipped(path: str, reason: str) -> FileReport:
    finding = Finding("IO001", Severity.WARNING, f"Not analysed: {reason}.", Span(0, 0))
    return FileReport(path, "unknown", None, [finding], skipped=reason)


def analyze_text(path: str, text: str, config: Config, *, partials: PartialLookup = fs_partials,
                 today: _dt.date | None = None) -> FileReport:
    if len(text) > config.max_file_bytes:
        return _skipped(path, f"document is {len(text):,} characters, above the limit (`max-file-bytes`)")
    return analyze(path, text, config, partials=partials, today=today)[1]


def analyze(path: str, text: str, config: Config, *, partials: PartialLookup = fs_partials,
            today: _dt.date | None = None) -> tuple[PromptDocument, FileReport]:
    """The parsed document (for editor features) and its report."""
    ctx = Context(config, partials, today or config.today or _dt.date.today())
    doc = parse_document(path, text, config)
    return doc, run_rules(doc, ctx)


def run_rules(doc: PromptDocument, ctx: Context) -> FileReport:
    findings: list[Finding] = []
    strict = os.environ.get("PROMPTLS_STRICT") == "1"
    for check in ALL_CHECKS:
        try:
            findings.extend(check(doc, ctx))
        except Exception:
            if strict:
                raise
            log.exception("rule %s failed on %s", check.__module__, doc.path)
    index = LineIndex(doc.text)
    findings = apply(findings, doc, ctx.config, doc.path, index)
    findings.sort(key=lambda f: (f.span.start, -f.severity, f.code))
    report = FileReport(doc.path, doc.dialect, doc.model.ref if doc.model else None, findings,
                        tokens=ctx.extra.get("tokens"))
    return report
