"""Fine-tuning datasets (JSONL): format detection, the DS rules, token and training-cost figures.

`check_text` serves the editor, `check_file` the CLI (a streaming pass with bounded memory); both return the
findings, a `DatasetSummary` and a `LineLocator` that maps the findings' offsets to positions.
"""

from promptls.datasets.check import (
    DatasetResult,
    DatasetSettings,
    DatasetSummary,
    LineLocator,
    check_file,
    check_text,
    looks_like_dataset,
)
from promptls.datasets.training import TrainingTarget, training_target

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
