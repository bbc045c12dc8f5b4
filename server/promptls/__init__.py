"""promptls: a language server and CI checker for prompt files and LLM call sites."""

__version__ = "0.1.0"
