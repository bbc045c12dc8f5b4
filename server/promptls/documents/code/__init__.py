"""Static analysis of LLM SDK use in Python and TypeScript/JavaScript source files (see `model.py`)."""
