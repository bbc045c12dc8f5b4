"""Editor assistance: inline completions, LLM code actions and prompt runs, over the router (floor 5)."""
