"""The feature dispatcher: every kind of analysis has a module that implements every feature, so no handler
branches on the kind."""

from __future__ import annotations

import inspect

from promptls.lsp.features import common, dispatch


def test_every_kind_implements_every_feature_with_the_same_parameters():
    wanted = {name: list(inspect.signature(fn).parameters) for name, fn in vars(common.Face).items()
              if inspect.isfunction(fn) and not name.startswith("_")}
    assert wanted  # the interface was read
    for kind, face in dispatch.FACES.items():
        for name, params in wanted.items():
            fn = getattr(face, name, None)
            assert callable(fn), f"{kind} has no {name}"
            assert list(inspect.signature(fn).parameters) == params[1:], f"{kind}.{name}"
        assert isinstance(face.LLM_COMPLETION, bool), kind


def test_the_kinds_are_the_analysis_kinds():
    assert set(dispatch.FACES) == {"prompt", "code", "dataset"}
