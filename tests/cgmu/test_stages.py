"""Smoke run of every CGMU experiment at tiny scale, then the report (table + figure) over them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from omegaconf import OmegaConf

import motionlab.stages.cgmu as cgmu  # noqa: F401  (registers the stages until stages/__init__ imports it)
from motionlab.config.preflight import CONF_DIR
from motionlab.eval.cgmu_table import report
from motionlab.task import train

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("cgmu_*.yaml"))
TINY = ["pipeline.stages.action.params.max_steps=2", "pipeline.stages.action.params.batch_size=4"]
TINY_MOTION = ["pipeline.stages.motion.params.max_steps=2", "pipeline.stages.motion.params.batch_size=2"]


def _run(cfg_factory, name: str, root: Path, seed: int = 0) -> dict:
    overrides = [f"experiment={name}", f"seed={seed}", *TINY]
    probe = cfg_factory(f"experiment={name}")
    if "motion" in probe.pipeline.stages:
        overrides += TINY_MOTION
    cfg = cfg_factory(*overrides)
    run_dir = root / name / f"seed{seed}"
    summary = train(cfg, run_dir)
    (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)  # what the CLI leaves for the report
    OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
    return summary


def test_every_cgmu_experiment_is_covered() -> None:
    assert set(EXPERIMENTS) >= {"cgmu_bilinear", "cgmu_convex", "cgmu_cgmu", "cgmu_gt_flow", "cgmu_e2e_cgmu",
                                "cgmu_cgmu_supervised"}


def test_smoke_every_experiment_then_the_report(cfg_factory, tmp_path: Path) -> None:
    sweep = tmp_path / "multirun"
    for name in EXPERIMENTS:
        metrics = _run(cfg_factory, name, sweep)["metrics"]
        assert metrics["action/num_test_videos"] > 0
        if "motion/epe" in metrics:
            assert metrics["motion/boundary_fraction"] > 0  # the synthetic actors do move
            # perfect low-res motion upsampled bilinearly is far better than no motion, most of all at boundaries
            assert metrics["motion/ideal_bilinear_epe"] < 0.5 * metrics["motion/zero_epe"]
        if name.startswith("cgmu_") and not name.startswith("cgmu_e2e") and "motion/epe" in metrics:
            # the probe's input is the ideal low-res motion: the decomposition's columns coincide
            assert metrics["motion/lowres_bilinear_epe"] == pytest.approx(metrics["motion/ideal_bilinear_epe"])
            assert metrics["motion/ideal_epe"] == pytest.approx(metrics["motion/epe"], rel=1e-4)
        if name == "cgmu_bilinear":
            assert metrics["motion/epe"] == pytest.approx(metrics["motion/lowres_bilinear_epe"])
    out = tmp_path / "experiments" / "cgmu"
    md = report(sweep, out, "pytest", wall_time_s=1.0).read_text()
    methods = ["bilinear", "convex (RAFT)", "CGMU", "convex (RAFT), supervised ceiling", "CGMU, supervised ceiling",
               "e2e bilinear", "e2e convex (RAFT)", "e2e CGMU", "ground-truth flow", "zero motion (reference)"]
    for method in methods:
        assert f"| {method} |" in md
    assert "| CGMU - bilinear |" in md and "smallest detectable effect" in md  # the paired tables
    with open(out / "results.csv") as f:
        rows = list(csv.reader(f))
    assert [r[0] for r in rows] == ["method", *methods]
    assert (out / "example.png").stat().st_size > 10_000


def test_action_stage_needs_the_motion_input(cfg_factory, tmp_path: Path) -> None:
    cfg = cfg_factory("experiment=cgmu_gt_flow", *TINY, "pipeline.stages.action.params.motion_source=predicted")
    with pytest.raises(ValueError, match="needs an input 'motion'"):
        train(cfg, tmp_path / "run")
