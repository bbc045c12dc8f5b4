"""`--format sarif`: a SARIF 2.1.0 log (one run) for code-scanning uploads and SARIF viewers.

Regions are 1-based with code-point columns (`columnKind: unicodeCodePoints`); `endColumn` is exclusive,
as SARIF defines it. Paths inside the root are relative URIs against the `%SRCROOT%` base id, which the
log also records as an absolute `file:` URI in `originalUriBaseIds`.
"""

from __future__ import annotations

import json
from typing import Any

from promptls.core.findings import FileReport, Finding, Fix, Severity
from promptls.core.positions import Span
from promptls.core.registry import RULES
from promptls.output import paths
from promptls.output.located import LocatedFile, locate

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
# Used until the distribution's metadata declares a Homepage/Repository URL.
FALLBACK_INFORMATION_URI = "https://pypi.org/project/promptls/"

LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.HINT: "note",
}


def information_uri() -> str:
    from importlib import metadata  # lazy: importing it costs more than the rest of this package

    try:
        urls = metadata.metadata("promptls").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    by_label = {}
    for entry in urls:
        label, _, url = entry.partition(",")
        by_label[label.strip().lower()] = url.strip()
    for label in ("homepage", "repository", "source", "documentation"):
        if by_label.get(label):
            return by_label[label]
    return FALLBACK_INFORMATION_URI


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.rationale},
            "defaultConfiguration": {"level": LEVELS[r.severity]},
        }
        for r in RULES.values()
    ]


def _artifact_location(lf: LocatedFile) -> dict[str, str]:
    if paths.is_relative(lf.path):
        return {"uri": paths.relative_uri(lf.path), "uriBaseId": SRCROOT}
    return {"uri": paths.file_uri(lf.path)}


def _region(lf: LocatedFile, span: Span) -> dict[str, int]:
    rng = lf.range(span)
    return {
        "startLine": rng.start.line + 1,
        "startColumn": rng.start.character + 1,
        "endLine": rng.end.line + 1,
        "endColumn": rng.end.character + 1,
    }


def _fix(lf: LocatedFile, fix: Fix) -> dict[str, Any] | None:
    if not fix.edits:
        return None
    replacements = [{"deletedRegion": _region(lf, e.span), "insertedContent": {"text": e.new_text}} for e in fix.edits]
    return {
        "description": {"text": fix.title},
        "artifactChanges": [{"artifactLocation": _artifact_location(lf), "replacements": replacements}],
    }


def _result(lf: LocatedFile, f: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": f.code}
    if f.code in rule_index:
        result["ruleIndex"] = rule_index[f.code]
    result["level"] = LEVELS[f.severity]
    result["message"] = {"text": f.message}
    result["locations"] = [
        {"physicalLocation": {"artifactLocation": _artifact_location(lf), "region": _region(lf, f.span)}}
    ]
    fixes: list[dict[str, Any]] = []
    for fix in f.fixes:
        sf = _fix(lf, fix)
        if sf is not None and sf not in fixes:  # the schema wants unique items
            fixes.append(sf)
    if fixes:
        result["fixes"] = fixes
    return result


def _skip_notifications(located: list[LocatedFile]) -> list[dict[str, Any]]:
    return [
        {
            "level": "warning",
            "message": {"text": f"skipped: {lf.report.skipped}"},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact_location(lf)}}],
        }
        for lf in located
        if lf.report.skipped is not None
    ]


def sarif_log(reports: list[tuple[FileReport, str]], *, root: str) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    from promptls import __version__

    located = locate(reports, root)
    rule_index = {code: i for i, code in enumerate(RULES)}
    invocation: dict[str, Any] = {"executionSuccessful": True}
    notifications = _skip_notifications(located)
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run = {
        "tool": {
            "driver": {
                "name": "promptls",
                "version": __version__,
                "informationUri": information_uri(),
                "rules": _rules(),
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"uri": paths.root_uri(root)}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(lf, f, rule_index) for lf in located for f in lf.findings],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(reports: list[tuple[FileReport, str]], *, root: str) -> str:
    return json.dumps(sarif_log(reports, root=root), indent=2) + "\n"
