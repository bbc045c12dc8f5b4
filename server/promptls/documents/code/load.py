"""Entry point of code/: parse a source file with its language's extractor (imported on first use, so the
server pays for tree-sitter only once a TypeScript or JavaScript file is opened)."""

from __future__ import annotations

from promptls.documents.code.model import CodeDocument


def parse_code(path: str, text: str, language: str, env=None) -> CodeDocument:
    """`env` (a `python_sites.Environment`, from the workspace index) resolves names imported from other modules."""
    if language == "python":
        from promptls.documents.code.python_sites import extract_python

        return extract_python(path, text, env)
    from promptls.documents.code.ts_sites import extract_ts

    return extract_ts(path, text, language, env)
