"""UF-TSN stages: a smoke run of every experiment config, fusion and report on known numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from motionlab.config.preflight import CONF_DIR, compose_config
from motionlab.eval.report import main as report
from motionlab.models.pwc_lite import load_pwclite
from motionlab.pipeline import StageContext
from motionlab.stages.tsn import LABELS, SCORES, TSNFusionStage
from motionlab.task import train

ALL_EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("uftsn_*.yaml"))
# real-data experiments need a dataset root: run on a miniature official tree below
REAL = [e for e in ALL_EXPERIMENTS if OmegaConf.missing_keys(compose_config([f"experiment={e}"]))]
EXPERIMENTS = [e for e in ALL_EXPERIMENTS if e not in REAL]


@pytest.fixture(scope="module")
def shared_out(tmp_path_factory) -> Path:
    """One output root for all smoke runs: they share the spatial stream and the flow caches, as the
    jobs of a real sweep do."""
    return tmp_path_factory.mktemp("uftsn")


def _counts_videos(top1: float, num_videos: int) -> bool:
    """A video-level top-1 is k / n of the n test videos for a whole k (not a batch mean, not a range)."""
    correct = top1 * num_videos / 100.0
    return num_videos > 0 and abs(correct - round(correct)) < 1e-6 and 0 <= round(correct) <= num_videos


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_smoke_run(experiment, shared_out):
    from helpers import make_cfg

    cfg = make_cfg(shared_out, f"experiment={experiment}")
    summary = train(cfg, shared_out / "runs" / experiment)
    m = summary["metrics"]
    if cfg.pipeline.name == "uftsn_flow_cpu":  # a flow-net variant without classifier (Table 3 row)
        assert summary["report_metric"] == "flow/epe"
    else:
        assert summary["report_metric"] == "fusion/top1"
        for key in ("spatial/top1", "motion/top1", "fusion/top1"):
            assert _counts_videos(m[key], m["fusion/num_test_videos"]), (key, m[key])
    if "flow/epe" in m:
        assert {"flow/epe_tvl1", "flow/epe_dis", "flow/epe_zero", "flow/epe_moving", "flow/epe_moving_tvl1"} <= set(m)
        # the reference backends on the same test pairs do recover motion: the EPE columns measure something
        assert m["flow/epe_moving_tvl1"] < m["flow/epe_moving_zero"]
        store = Path(cfg.paths.store_dir) / "flow_pretrain"
        assert list(store.glob("*/figures/*.png")) and list(store.glob("*/flow_net.pt"))
    if experiment == "uftsn_gt":
        assert m["motion/flow_epe"] == 0.0


def test_real_data_experiments_run_on_a_miniature_ucf101_tree(shared_out, tmp_path, monkeypatch):
    """uftsn_ucf101 / uftsn_hmdb51 at paper scale (ResNet-18 spatial stream to keep it short) on
    real encoded .avi files in UCF101's layout: consecutive frames, enough for 10-flow stacks.
    Offline (an empty torch hub cache, sockets refused), from scratch by the override that the
    missing ImageNet weights' message names (tests/uftsn/test_imagenet_init.py)."""
    import socket

    from data_formats.dataset_writers import write_ucf101
    from helpers import make_cfg

    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse)

    assert REAL == ["uftsn_hmdb51", "uftsn_ucf101"]
    splits = write_ucf101(tmp_path / "ucf")
    broken = splits[1]["train"][0][0]  # a corrupt file: a recorded skip, next to the stage's results
    (tmp_path / "ucf" / "UCF-101" / broken).write_bytes(b"not a video")
    cfg = make_cfg(shared_out, "experiment=uftsn_ucf101", f"data.video.root={tmp_path / 'ucf'}",
                   "data.video.key_frames=12", "data.video.size=64", "pipeline.stages.spatial.params.depth=18",
                   "pipeline.stages.spatial.params.weights=null", "pipeline.stages.motion.params.weights=null")
    assert cfg.data.video.key_interval == 1 and cfg.pipeline.stages.motion.params.num_flows == 10
    run_dir = shared_out / "runs" / "uftsn_ucf101"
    m = train(cfg, run_dir)["metrics"]
    assert _counts_videos(m["fusion/top1"], m["fusion/num_test_videos"])
    stages = json.loads((run_dir / "stages.json").read_text())
    skipped = json.loads((Path(stages["spatial"]["dir"]) / "skipped_videos.json").read_text())
    [record] = skipped["train"]
    assert record["path"].endswith(Path(broken).name) and record["reason"]


def test_fine_tuning_after_the_warm_up_trains_the_flow_net_end_to_end(shared_out):
    """Training step 3 (sec. 3.2): past the warm-up on detached flow, cross-entropy and the
    unsupervised loss reach the flow net (here 1 warm-up step of 3, then 2 end to end)."""
    from helpers import make_cfg

    cfg = make_cfg(shared_out, "experiment=uftsn_ours", "pipeline.stages.motion.params.warmup_fraction=0.34")
    run_dir = shared_out / "runs" / "uftsn_e2e"
    train(cfg, run_dir)
    stages = json.loads((run_dir / "stages.json").read_text())
    pretrained = load_pwclite(Path(stages["flow"]["dir"]) / "flow_net.pt").state_dict()
    tuned = load_pwclite(Path(stages["motion"]["dir"]) / "flow_net.pt").state_dict()
    changed = [k for k in pretrained if not torch.equal(pretrained[k], tuned[k])]
    assert len(changed) > len(pretrained) // 2, f"only {len(changed)} of {len(pretrained)} flow tensors moved"


def test_fusion_averages_stream_probabilities(tmp_path):
    labels = np.array([0, 1, 1])
    spatial = np.array([[0.6, 0.4], [0.6, 0.4], [0.2, 0.8]])
    motion = np.array([[0.3, 0.7], [0.1, 0.9], [0.3, 0.7]])
    inputs = {}
    for name, scores in (("spatial", spatial), ("motion", motion)):
        inputs[name] = tmp_path / name
        inputs[name].mkdir()
        np.save(inputs[name] / SCORES, scores)
        np.save(inputs[name] / LABELS, labels)
    work = tmp_path / "fusion"
    work.mkdir()
    ctx = StageContext("fusion", None, None, inputs, work, tmp_path)
    metrics = TSNFusionStage().run(ctx)
    # fused: [0.45, 0.55], [0.35, 0.65], [0.25, 0.75] -> all class 1; spatial: 0, 0, 1; motion: 1, 1, 1
    assert metrics["top1"] == pytest.approx(200 / 3)
    assert metrics["spatial_top1"] == pytest.approx(200 / 3)
    assert metrics["motion_top1"] == pytest.approx(200 / 3)
    assert np.allclose(np.load(work / SCORES), (spatial + motion) / 2)


def test_report_mean_std_over_seeds(tmp_path):
    for method, seed, value in (("A", 0, 50.0), ("A", 1, 70.0), ("B", 0, 10.0)):
        run = tmp_path / "sweep" / method / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps(
            {"method": method, "seed": seed, "metrics": {"motion/top1": value}}))
    report(["uftsn", tmp_path / "sweep", "--out", tmp_path / "out", "--title", "T", "--column", "motion=motion/top1",
            "--command", "cmd", "--methods", "B,A"])
    text = (tmp_path / "out" / "results.md").read_text()
    assert "| B | 10.00 (n = 1) | 1 |" in text and "| A | 60.00 ± 14.14 | 2 |" in text
    assert (tmp_path / "out" / "results.csv").read_text().splitlines()[0] == "method,motion,seeds"
