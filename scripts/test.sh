#!/usr/bin/env bash
# The test command: install what the tests need, lint, then run the whole pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check server tests bench scripts
.venv/bin/lint-imports  # the floors of ../shared/ARCHITECTURE.md (contracts in pyproject.toml)
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
