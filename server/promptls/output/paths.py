"""File paths as the reports show them: relative to the run's root when inside it, and as SARIF URIs."""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from urllib.parse import quote


def display_path(path: str, root: str) -> str:
    """`path` relative to `root` with forward slashes, or absolute when it lies outside `root`.

    A relative `path` is taken as already relative to `root` (the CLI's working directory), so the
    result never depends on the process's own current directory.
    """
    if not os.path.isabs(path):
        return PurePath(os.path.normpath(path)).as_posix()
    try:
        rel = os.path.relpath(path, os.path.abspath(root))
    except ValueError:  # another drive on Windows
        return PurePath(path).as_posix()
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return PurePath(os.path.normpath(path)).as_posix()
    return PurePath(rel).as_posix()


def is_relative(shown: str) -> bool:
    return not os.path.isabs(shown)


def relative_uri(shown: str) -> str:
    """A relative URI reference for a relative posix path (spaces, `#`, non-ASCII percent-encoded)."""
    return quote(shown, safe="/")


def file_uri(path: str) -> str:
    return Path(os.path.abspath(path)).as_uri()


def root_uri(root: str) -> str:
    """The root as a `file:` URI ending in `/`, as SARIF requires of a base URI."""
    uri = file_uri(root)
    return uri if uri.endswith("/") else uri + "/"
