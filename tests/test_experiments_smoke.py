"""A fast_dev_run-style smoke run of every experiment config: tiny data, 3 steps per stage."""

from __future__ import annotations

import pytest

from motionlab.config.preflight import CONF_DIR
from motionlab.task import train

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_smoke(experiment, cfg_factory, tmp_path):
    cfg = cfg_factory(f"experiment={experiment}")
    summary = train(cfg, tmp_path / "run")
    assert summary["method"] == cfg.method
    assert summary["value"] == summary["value"]  # a number, not NaN
