"""The editor features: `dispatch.py` registers each LSP method once and hands it to the module of the document's
kind (`prompt.py`, `code.py`, `dataset.py`, sharing `common.py`); `assist.py` and `eval.py` add the LLM
assistance and prompt tests; `tokens.py` counts tokens online on save."""
