"""CI and commit hooks: ``.ci/run`` is the README's test command plus lint; pre-commit runs ruff and
the whitespace and YAML checks."""

from __future__ import annotations

import re

import yaml
from helpers import REPO


def test_ci_runs_the_readme_test_command_then_lint():
    script = (REPO / ".ci" / "run").read_text().splitlines()
    commands = [line for line in script if line and not line.startswith(("#", "set ", "cd "))]
    quick_start = re.search(r"^    (make \w+) +# the fast test suite", (REPO / "README.md").read_text(), re.M)
    assert quick_start, "README's quick start names no test command"
    assert commands == [quick_start.group(1), "make lint"]


def test_pre_commit_runs_ruff_and_the_whitespace_and_yaml_hooks():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert {"ruff", "trailing-whitespace", "end-of-file-fixer", "check-yaml"} <= hooks
