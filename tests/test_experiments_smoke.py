"""A fast_dev_run-style smoke run of every experiment config: tiny data, 3 steps per stage."""

from __future__ import annotations

import math

import pytest
from omegaconf import OmegaConf

from motionlab.config.preflight import CONF_DIR, compose_config
from motionlab.task import train

# Smoke-run (with more checks) by their own packages: tests/uftsn, tests/cgmu, tests/flow.
OWN_SMOKE_TESTS = ("uftsn_", "cgmu_", "flow_real")  # flow_real*: tests/flow/test_flow_real.py
# Minutes on a 2-core CPU even at 3 steps: in `make test-all` only.
SLOW = ("zhang_vgg16", "zhang_unreg_vgg16", "zhang_unreg_matched_vgg16")


def _experiments() -> list:
    """Every other experiment; one that needs a user-supplied value (``???``, e.g. SUP-FT's
    ImageNet weights file) is smoke-tested by its own test, which writes that file."""
    out = []
    for path in sorted((CONF_DIR / "experiment").glob("*.yaml")):
        if path.stem.startswith(OWN_SMOKE_TESTS):
            continue
        missing = OmegaConf.missing_keys(compose_config([f"experiment={path.stem}"]))
        marks = [pytest.mark.slow] if path.stem in SLOW else []
        if missing:
            marks.append(pytest.mark.skip(reason=f"needs {sorted(missing)}; see its own test"))
        out.append(pytest.param(path.stem, marks=marks))
    return out


@pytest.mark.parametrize("experiment", _experiments())
def test_experiment_smoke(experiment, cfg_factory, tmp_path):
    cfg = cfg_factory(f"experiment={experiment}")
    summary = train(cfg, tmp_path / "run")
    assert summary["method"] == cfg.method
    assert math.isfinite(summary["value"]) and summary["value"] == summary["metrics"][summary["report_metric"]]


def test_table_s1_cpu_scale_smoke(cfg_factory, tmp_path):
    """Table S1 on the synthetic settings (make reproduce-zhang-tableS1): the VGG16 layout at CPU scale."""
    cfg = cfg_factory("experiment=zhang_vgg16", "model=vgg16_small")
    assert cfg.model.arch == "vgg16_small"
    summary = train(cfg, tmp_path / "run")
    assert math.isfinite(summary["value"]) and summary["report_metric"] in summary["metrics"]
