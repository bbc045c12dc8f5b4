"""What the router's commands (`run`, `doctor`, `usage`, `eval`) share: the `--config` option and the workspace
configuration with its typed router settings."""

from __future__ import annotations

import argparse
from pathlib import Path

from promptls import config as cfgmod
from promptls.config import Config
from promptls.router.settings import SECTION as ROUTER
from promptls.router.settings import RouterSettings


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="path to promptls.toml or pyproject.toml")


def load_settings(start: Path, explicit: str | None) -> tuple[RouterSettings, list[str], Config]:
    """Router settings from the workspace config (promptls.toml / [tool.promptls]), with the config's messages
    (the router's own among them: the loader validates every declared section)."""
    cfg, messages, _path = cfgmod.load(start, Path(explicit) if explicit else None)
    return cfg.section(ROUTER), messages, cfg
