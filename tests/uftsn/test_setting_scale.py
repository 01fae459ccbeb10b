"""UF-TSN's synthetic tables take their frame size from the setting (32 px), while the CGMU probe and
the synthetic-trained flow net read the same videos at the data config's 64 px: a stored table is
only comparable with the runs of its own scale."""

from __future__ import annotations

import pytest

from motionlab.config.preflight import CONF_DIR, compose_config

UFTSN_SYNTHETIC = sorted(p.stem for p in (CONF_DIR / "experiment").glob("uftsn_*.yaml")
                         if p.stem not in ("uftsn_ucf101", "uftsn_hmdb51"))


@pytest.mark.parametrize("experiment", UFTSN_SYNTHETIC)
def test_uftsn_synthetic_experiments_run_at_the_settings_32_px(experiment: str) -> None:
    cfg = compose_config([f"experiment={experiment}"])
    assert cfg.setting.name in ("synthetic_motion", "synthetic_mixed")
    assert cfg.data.video.family == "motion" and cfg.data.video.size == 32


@pytest.mark.parametrize("experiment", ["cgmu_bilinear", "cgmu_cgmu", "flow_synthetic"])
def test_the_cgmu_probe_and_flow_synthetic_keep_64_px(experiment: str) -> None:
    assert compose_config([f"experiment={experiment}"]).data.video.size == 64


def test_a_command_line_size_still_wins_over_the_setting() -> None:
    assert compose_config(["experiment=uftsn_ours", "data.video.size=48"]).data.video.size == 48
