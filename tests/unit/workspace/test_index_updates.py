"""Incremental index updates: an edit relinks only the edited module's imports, a deleted module names its former
importers, and `sync` re-indexes only what differs from what the index holds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from promptls.workspace import WorkspaceIndex

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "llmapp"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    dest = tmp_path / "llmapp"
    shutil.copytree(FIXTURE, dest)
    return dest


def test_an_edit_that_changes_imports_moves_only_that_modules_edges(repo: Path):
    index = WorkspaceIndex.build([repo])
    config, doubles = str(repo / "app" / "config.py"), str(repo / "tests" / "doubles.py")
    assert doubles not in index.transitive_dependents(config)
    text = Path(doubles).read_text()
    gen = index.generation
    index.update(doubles, "from app.config import MODEL\n" + text)
    assert doubles in index.transitive_dependents(config)
    assert index.generation > gen  # resolvers cached on the old imports start over
    index.update(doubles, text)
    assert doubles not in index.transitive_dependents(config)
    gen = index.generation
    index.update(doubles, text + "\n# a comment\n")  # same imports: nothing relinked
    assert index.generation == gen


def test_a_deleted_module_names_its_former_importers(repo: Path):
    index = WorkspaceIndex.build([repo])
    config = repo / "app" / "config.py"
    service = str(repo / "app" / "service.py")
    config.unlink()
    assert service in index.sync(str(config))
    assert index.module_at(str(config)) is None


def test_sync_reindexes_only_what_differs(repo: Path):
    index = WorkspaceIndex.build([repo])
    config = repo / "app" / "config.py"
    assert index.sync(str(config)) == set()  # the disk as indexed
    config.write_text(config.read_text().replace('MODEL = "claude-sonnet-4-5"', 'MODEL = "claude-haiku-4-5"'))
    assert str(repo / "app" / "service.py") in index.sync(str(config))
    assert index.constant("app.config.MODEL")[0].value == "claude-haiku-4-5"
    buffer = config.read_text().replace("claude-haiku-4-5", "claude-opus-4-1")
    assert index.sync(str(config), buffer)  # an open buffer wins over the disk
    assert index.constant("app.config.MODEL")[0].value == "claude-opus-4-1"


def test_sync_ignores_files_that_are_not_modules(repo: Path):
    index = WorkspaceIndex.build([repo])
    prompt = repo / "app" / "greeting.prompt"
    prompt.write_text("Hello {{name}}\n")
    modules = set(index.by_path)
    assert index.sync(str(prompt)) == set()
    assert set(index.by_path) == modules
