"""`--format github`: GitHub Actions workflow commands that become annotations on the pull request.

One `::error|warning|notice file=…,line=…,col=…,endLine=…,endColumn=…,title=CODE::message` line per finding,
escaped as GitHub's actions/toolkit does (`escapeData` / `escapeProperty`). Columns are sent only for
single-line ranges, because GitHub rejects them otherwise. File paths must be relative to the repository
root, so pass the workspace (`GITHUB_WORKSPACE`) as `root`. Skipped files annotate only through their
IO001 finding, so that ignoring IO001 in the configuration silences them here too.
"""

from __future__ import annotations

from promptls.core.findings import FileReport, Severity
from promptls.output.located import locate

COMMANDS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
    Severity.HINT: "notice",
}


def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: str | int) -> str:
    """One workflow command line; properties keep their given order."""
    joined = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items())
    return f"::{name} {joined}::{escape_data(message)}" if joined else f"::{name}::{escape_data(message)}"


def render_github(reports: list[tuple[FileReport, str]], *, root: str) -> str:
    lines = []
    for lf in locate(reports, root):
        for f in lf.findings:
            rng = lf.range(f.span)
            props: dict[str, str | int] = {"file": lf.path, "line": rng.start.line + 1}
            if rng.start.line == rng.end.line:
                props["col"] = rng.start.character + 1
                props["endLine"] = rng.end.line + 1
                props["endColumn"] = rng.end.character + 1
            else:
                props["endLine"] = rng.end.line + 1
            props["title"] = f.code
            lines.append(command(COMMANDS[f.severity], f.message, **props))
    return "".join(line + "\n" for line in lines)
