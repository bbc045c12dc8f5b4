"""The prompts the assist layer sends: fill-in-the-middle requests, the chat "code only" completion contract,
and the instructions of each LLM code action."""

from __future__ import annotations

from dataclasses import dataclass

CURSOR = "<|CURSOR|>"

COMPLETION_SYSTEM = (
    "You are a code completion engine inside an editor. You are shown a file with the marker "
    f"{CURSOR} where the cursor is. Reply with ONLY the text to insert at the cursor: no explanation, no code "
    "fences, no repetition of the text before or after the cursor. If nothing should be inserted, reply with "
    "nothing."
)


@dataclass(frozen=True, slots=True)
class Snippet:
    path: str
    text: str
    why: str  # "open document" | "recent edit"


def chat_completion_messages(path: str, language: str, prefix: str, suffix: str, snippets: list[Snippet],
                             multiline: bool) -> list[dict[str, str]]:
    parts = []
    for s in snippets:
        parts.append(f"Context from {s.path} ({s.why}):\n{s.text}\n")
    scope = ("Complete up to a few lines (finish the current block)." if multiline
             else "Complete the current line only (one line, no newline).")
    parts.append(f"File {path} ({language}). {scope}\n\n{prefix}{CURSOR}{suffix}")
    return [{"role": "system", "content": COMPLETION_SYSTEM}, {"role": "user", "content": "\n".join(parts)}]


def fim_messages(prefix: str) -> list[dict[str, str]]:
    """A native FIM request carries the prefix as its prompt and the suffix in `LLMRequest.suffix`; the
    backend's own template adds the FIM tokens."""
    return [{"role": "user", "content": prefix}]


ACTION_SYSTEM = (
    "You are a precise coding assistant working inside an editor. Follow the instruction exactly. When asked "
    "for code or text to put in the file, reply with only that code or text, without code fences or comments "
    "about what you changed."
)

# Built-in actions: id -> (title, kind, mode, instruction). `mode` as in user-defined actions.
BUILTIN_ACTIONS: dict[str, tuple[str, str, str, str]] = {
    "explain": ("Explain selection (LLM)", "refactor", "show",
                "Explain what the selected {language} code or text does, for a colleague, in concise markdown."),
    "fix": ("Fix this diagnostic (LLM)", "quickfix", "replace",
            "Rewrite the selected {language} text so that this problem goes away, changing nothing else:\n"
            "{diagnostics}\nReply with the corrected replacement for the selection only."),
    "refactor": ("Refactor / improve selection (LLM)", "refactor.rewrite", "replace",
                 "Improve the selected {language} code: clearer names, simpler structure, same behaviour. "
                 "Reply with the replacement for the selection only."),
    "docstring": ("Add docstring / comments (LLM)", "refactor.rewrite", "replace",
                  "Add a docstring and brief comments where useful to the selected {language} code; change no "
                  "behaviour. Reply with the full replacement for the selection."),
    "tests": ("Generate tests (LLM)", "refactor", "new_file",
              "Write unit tests for the selected {language} code from {file}. Reply with a complete test file."),
    "compress": ("Compress the prompt (LLM)", "refactor.rewrite", "replace",
                 "Rewrite this prompt template to use fewer tokens while keeping every instruction, every "
                 "template variable and tag exactly, and the same meaning. Reply with the rewritten text only."),
    "improve": ("Improve the prompt (LLM)", "refactor.rewrite", "replace",
                "Improve this prompt template: clearer instructions, explicit output format, no ambiguity. Keep "
                "every template variable and tag exactly. Reply with the rewritten text only."),
    "samples": ("Generate sample inputs (LLM)", "refactor", "new_file",
                "Write three realistic sample inputs for this prompt template as a JSON list of objects whose "
                "keys are the template's input variables. Reply with JSON only."),
}
PROMPT_ONLY = {"compress", "improve", "samples"}
SELECTION_ONLY = {"explain", "refactor", "docstring", "tests"}


def fill_template(template: str, *, selection: str, file: str, language: str, diagnostics: str,
                  instruction: str) -> str:
    values = {"selection": selection, "file": file, "language": language, "diagnostics": diagnostics,
              "instruction": instruction}
    return template.format_map(values)


def action_messages(instruction: str, selection: str, file: str, language: str) -> list[dict[str, str]]:
    user = f"{instruction}\n\nFile: {file} ({language})\nSelection:\n{selection}"
    return [{"role": "system", "content": ACTION_SYSTEM}, {"role": "user", "content": user}]
