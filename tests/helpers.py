"""Shared test helpers: compose a tiny config from the real tree, run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from omegaconf import DictConfig, open_dict

from motionlab.config.preflight import CONF_DIR, compose_config

REPO = CONF_DIR.parent
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


def make_cfg(output_root: Path, *overrides: str) -> DictConfig:
    cfg = compose_config(["debug=fast", "trainer=cpu", *overrides])
    with open_dict(cfg):
        cfg.paths.output_root = str(output_root)
        cfg.trainer.progress_bar = False
    return cfg


def run_cli(args: list[str], env: dict | None = None, timeout: int = 600, **kw) -> subprocess.CompletedProcess:
    """The real console entry point in a subprocess (what a user types)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "motionlab.cli", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout, **kw)
