"""Pure analysis: document model + catalog + tokenizer + config in, findings out. No LSP, no SDK."""
