"""Conversions between the core's spans/findings and LSP types; positions in the client's encoding come from the
`LineIndex` of `core.positions`."""

from __future__ import annotations

from lsprotocol import types as lsp

from promptls.core.findings import Finding, Fix, Related, Severity
from promptls.core.positions import LineIndex, Span
from promptls.core.registry import RULES, Tag

SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}
TAGS = {Tag.UNNECESSARY: lsp.DiagnosticTag.Unnecessary, Tag.DEPRECATED: lsp.DiagnosticTag.Deprecated}
SOURCE = "promptls"


def to_range(index: LineIndex, span: Span) -> lsp.Range:
    r = index.client_range(span)
    return lsp.Range(lsp.Position(r.start.line, r.start.character), lsp.Position(r.end.line, r.end.character))


def to_position(index: LineIndex, offset: int) -> lsp.Position:
    p = index.client_pos(index.pos(offset))
    return lsp.Position(p.line, p.character)


def to_offset(index: LineIndex, pos: lsp.Position) -> int:
    return index.client_offset(pos.line, pos.character)


def to_diagnostic(index: LineIndex, f: Finding) -> lsp.Diagnostic:
    rule = RULES.get(f.code)
    tags = [TAGS[t] for t in rule.tags] if rule else []
    return lsp.Diagnostic(
        range=to_range(index, f.span),
        message=f.message,
        severity=SEVERITY[f.severity],
        code=f.code,
        source=SOURCE,
        code_description=None,
        tags=tags or None,
        data={"name": rule.name} if rule else None,
        related_information=[to_related(r) for r in f.related] or None,
    )


def to_related(r: Related) -> lsp.DiagnosticRelatedInformation:
    """A place in another file. Its text is not at hand: columns are code points, exact for ASCII lines (UTF-16
    differs only past a non-BMP character on that line)."""
    from pygls.uris import from_fs_path

    where = lsp.Range(lsp.Position(r.line, r.col), lsp.Position(r.line, max(r.end_col, r.col)))
    return lsp.DiagnosticRelatedInformation(location=lsp.Location(uri=from_fs_path(r.path) or r.path, range=where),
                                            message=r.message)


def to_workspace_edit(uri: str, index: LineIndex, fix: Fix, version: int | None = None) -> lsp.WorkspaceEdit:
    edits = [lsp.TextEdit(range=to_range(index, e.span), new_text=e.new_text) for e in fix.edits]
    if fix.create_files:
        # New files need resource operations: create each (never overwriting), fill it, then edit this document.
        from pygls.uris import from_fs_path

        changes: list = []
        for path, content in fix.create_files:
            new_uri = from_fs_path(path) or path
            changes.append(lsp.CreateFile(uri=new_uri, options=lsp.CreateFileOptions(overwrite=False,
                                                                                      ignore_if_exists=False)))
            changes.append(lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=new_uri, version=None),
                edits=[lsp.TextEdit(range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), new_text=content)]))
        changes.append(lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=edits))
        return lsp.WorkspaceEdit(document_changes=changes)
    if version is not None:
        doc = lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(text_document=doc, edits=edits)])
    return lsp.WorkspaceEdit(changes={uri: edits})
