"""The README's promises: the rule table matches the registry, the two commands come first, CI runs the second."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_rule_table_is_generated_from_the_registry():
    res = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_rules_doc.py"), "--check",
                          str(REPO / "README.md")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_two_commands_first_and_ci_runs_the_test_command():
    readme = (REPO / "README.md").read_text()
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["bash scripts/run.sh", "bash scripts/test.sh"]
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_readme_configuration_examples_are_valid():
    import re
    import tomllib

    from promptls import config

    blocks = re.findall(r"```toml\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        assert config.from_dict(tomllib.loads(block))[1] == []
