"""The project index (floor 2): modules, imports and the symbols that matter to LLM calls across files."""

from promptls.workspace.index import ModuleEnv, ModuleInfo, WorkspaceIndex, list_python_files

__all__ = ["ModuleEnv", "ModuleInfo", "WorkspaceIndex", "list_python_files"]
