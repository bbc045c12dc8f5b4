"""Per-workspace server state: configuration from every source, the latest analysis of each open document,
and the workspace index of Dotprompt partials."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptls import config as cfgmod
from promptls.config import Config
from promptls.core.findings import FileReport
from promptls.core.positions import LineIndex

if TYPE_CHECKING:
    from promptls.documents.prompt.model import PromptDocument

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Analysis:
    uri: str
    version: int | None
    text: str
    doc: PromptDocument | Any | None  # PromptDocument, code.model.CodeDocument or datasets.DatasetResult
    report: FileReport
    index: LineIndex
    kind: str = "prompt"  # "prompt" | "code" | "dataset"
    partial: bool = False  # a large dataset's first lines only; the full analysis follows
    generation: int = 0  # the scheduler's settings generation it was made under (`Scheduler.invalidate`)

    @property
    def prompt(self) -> PromptDocument | None:
        """The prompt document, when this is a prompt file (features for prompts read only this)."""
        return self.doc if self.kind == "prompt" else None


@dataclass
class ServerState:
    root: Path | None = None
    file_settings: dict[str, Any] = field(default_factory=dict)
    init_settings: dict[str, Any] = field(default_factory=dict)
    client_settings: dict[str, Any] = field(default_factory=dict)
    config: Config = field(default_factory=Config)
    config_errors: list[str] = field(default_factory=list)
    analyses: dict[str, Analysis] = field(default_factory=dict)
    partial_index: dict[str, str] = field(default_factory=dict)  # partial name -> path
    open_texts: dict[str, str] = field(default_factory=dict)  # path -> text of open documents
    visible_end: dict[str, int] = field(default_factory=dict)  # uri -> last line the client asked hints for
    online_lookup: Any = None  # cache-only online token counts (lsp/online_tokens.py), set on the first save
    workspace_index: Any = None  # workspace.WorkspaceIndex of `root`, built on the first source-file analysis

    def load_file_settings(self) -> list[str]:
        if self.root is None:
            return []
        path = cfgmod.find_config_file(self.root)
        if path is None:
            self.file_settings = {}
            return []
        data, errs = cfgmod.load_file(path)
        self.file_settings = data
        return [f"{path.name}: {e}" for e in errs]

    def rebuild_config(self) -> list[str]:
        """Merge file < initializationOptions < client settings; keep defaults for anything invalid."""
        errors = self.load_file_settings()
        cfg = Config()
        for source, data in (("promptls.toml", self.file_settings), ("initializationOptions", self.init_settings),
                             ("settings", self.client_settings)):
            if not data:
                continue
            cfg, errs = cfgmod.from_dict(data, cfg)
            errors.extend(f"{source}: {e}" for e in errs)
        self.config = cfg
        self.config_errors = errors
        return errors

    def partial_lookup(self, name: str, from_path: str) -> tuple[str, str] | None:
        folder = Path(from_path).parent
        for cand in (folder / f"_{name}.prompt", folder / f"{name}.prompt"):
            p = str(cand)
            if p in self.open_texts:
                return p, self.open_texts[p]
        from promptls.documents.partials import fs_partials, read_partial

        found = fs_partials(name, from_path)
        if found is not None:
            return found
        indexed = self.partial_index.get(name)
        if indexed:
            if indexed in self.open_texts:
                return indexed, self.open_texts[indexed]
            try:
                return indexed, read_partial(indexed)[0]  # the scan lists FIFOs too: never read one
            except FileNotFoundError:
                return None
        return None


def scan_partials(root: Path, limit: int = 20_000, on_progress=None) -> dict[str, str]:
    """`_name.prompt` files below root (bounded), as name -> path."""
    found: dict[str, str] = {}
    seen = 0
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in {"node_modules", "__pycache__", "venv"}]
        for f in files:
            seen += 1
            if f.startswith("_") and f.endswith(".prompt"):
                found.setdefault(f[1:-len(".prompt")], os.path.join(dirpath, f))
            if seen >= limit:
                return found
        if on_progress is not None:
            on_progress(seen, dirpath)
    return found
