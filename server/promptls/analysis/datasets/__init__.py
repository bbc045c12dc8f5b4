"""Fine-tuning datasets (JSONL): format detection, the DS rules, token and training-cost figures.

`check_text` serves the editor, `check_file` the CLI (a streaming pass with bounded memory); both return the
findings, a `DatasetSummary` and a `LineLocator` that maps the findings' offsets to positions.
"""

from promptls.analysis.datasets.check import (
    DatasetResult,
    DatasetSettings,
    DatasetSummary,
    LineLocator,
    check_text,
)
from promptls.analysis.datasets.parallel import check_file
from promptls.catalog.training import TrainingTarget, training_target
from promptls.documents.dataset.formats import looks_like_dataset

__all__ = [
    "DatasetResult",
    "DatasetSettings",
    "DatasetSummary",
    "LineLocator",
    "TrainingTarget",
    "check_file",
    "check_text",
    "looks_like_dataset",
    "training_target",
]
