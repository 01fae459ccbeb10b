"""flow_real / flow_real_fast end to end at smoke scale on a folder of written videos: the
checkpoint lands in the artifact store, the held-out loss is reported next to zero flow's, and
``motionlab-flow --method pwclite --checkpoint`` reads it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from data_formats.dataset_writers import coded_frame, write_video

from motionlab.flow.cli import main as flow_cli
from motionlab.flow.io import read_flo
from motionlab.task import train


@pytest.mark.slow  # minutes on the shared 2-core CPU (517 s for both under load)
@pytest.mark.parametrize("experiment", ["flow_real", "flow_real_fast"])
def test_flow_real_trains_stores_and_serves_its_checkpoint(experiment, cfg_factory, tmp_path):
    videos = tmp_path / "videos"
    for i in range(3):
        write_video(videos / f"cam{i}" / f"clip{i}.avi", 40, height=48, width=64, seed=i)
    cfg = cfg_factory(f"experiment={experiment}", f"data.video.root={videos}", "data.video.size=[48,64]",
                      "data.video.num_videos=8", "data.video.num_test_videos=2", "data.video.test_every=2")
    summary = train(cfg, tmp_path / "run")
    assert summary["report_metric"] == "flow/test_loss"
    assert np.isfinite(summary["value"])
    [checkpoint] = (tmp_path / "out" / "store" / "flow_pretrain").glob("*/flow_net.pt")
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(2):
        cv2.imwrite(str(frames / f"{i}.png"), coded_frame(i, 48, 64))
    out = tmp_path / "flow.flo"
    assert flow_cli(["--method", "pwclite", "--checkpoint", str(checkpoint), str(frames / "0.png"),
                     str(frames / "1.png"), "--out", str(out), "--no-png"]) == 0
    assert read_flo(out).shape == (2, 48, 64)
