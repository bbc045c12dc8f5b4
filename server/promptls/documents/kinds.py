"""Which files promptls analyses, and as what: prompt files, source files that call LLM SDKs, and fine-tuning
datasets. The language server asks this for every document it is sent."""

from __future__ import annotations

from promptls.config import Config
from promptls.core import safe_read
from promptls.documents.dataset.formats import looks_like_dataset
from promptls.documents.load import is_prompt_path


def kind_of(path: str, config: Config, head: str | None = None) -> str | None:
    """"prompt", "code" or "dataset" for a file promptls analyses, else None. `head`: the file's first lines, used
    to recognise a dataset that no glob names (None: no sniffing)."""
    if is_prompt_path(path, config):
        return "prompt"
    if config.code_language_for(path):
        return "code"
    if path.endswith(".jsonl"):
        if config.is_dataset_glob(path):
            return "dataset"
        if config.dataset_sniff and head is not None:
            return "dataset" if looks_like_dataset(head[:65536].splitlines()[:20]) else None
    return None


def read_head(path: str, limit: int = 65536) -> str:
    """The first bytes of a file as text (for sniffing), or "" when it is no regular file or cannot be read."""
    try:
        return safe_read.read_head(path, limit).decode("utf-8", errors="replace")
    except (safe_read.Refused, OSError):
        return ""
