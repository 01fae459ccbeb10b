"""The ``pseudolabels`` stage on the tiny synthetic setting: artifacts, determinism across worker
counts and shards, skips, kill/resume, and a real-format (UCF101) video tree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import make_cfg

from motionlab.core.errors import ConfigError, DataError
from motionlab.data.sources import build_video_source, register_video_source
from motionlab.data.synthetic import SyntheticVideos
from motionlab.data.types import VideoSample
from motionlab.flow.base import build_flow
from motionlab.flow.cache import FlowCache, cache_key
from motionlab.pipeline import plain, run_pipeline
from motionlab.pseudolabel.cluster import clustering_scores
from motionlab.pseudolabel.otsu import MagnitudeHistogram
from motionlab.pseudolabel.passes import ClipPool, PassConfig, decode_flow_task
from motionlab.training import cache_dir

P = "pipeline.stages.pseudolabels.params."
NUM_VIDEOS = 18  # debug=fast


def param(override: str) -> str:
    """``key=value`` of the stage's params as a Hydra override (``+key=value`` adds a new key)."""
    return "+" + P + override[1:] if override.startswith("+") else P + override


def run(root: Path, *overrides: str, data: tuple[str, ...] = ()) -> tuple[dict, Path]:
    cfg = make_cfg(root, "pipeline=pseudolabels", *data, *(param(o) for o in overrides))
    done = run_pipeline(cfg, root / "run")["pseudolabels"]
    return done["metrics"], root / "run" / "stages" / "pseudolabels"


def flow_cache(root: Path, backend: str, *overrides: str, **params) -> FlowCache:
    cfg = make_cfg(root, "pipeline=pseudolabels", *overrides)
    estimator = build_flow(backend, **params)
    return FlowCache(cache_dir(cfg) / "flow", cache_key(estimator.config_hash(), plain(cfg.data.video)))


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> tuple[dict, Path, Path]:
    root = tmp_path_factory.mktemp("serial")
    metrics, out = run(root, "backend=dis", "workers=0")
    return metrics, out, root


def test_artifacts_manifest_and_scores(serial):
    metrics, out, root = serial
    labels, codebook, vlad = (np.load(out / f) for f in ("labels.npy", "codebook.npy", "vlad.npy"))
    assert labels.shape == (NUM_VIDEOS,) and labels.min() >= 0 and labels.max() < 16
    assert codebook.shape == (128, 2) and vlad.shape == (NUM_VIDEOS, 7, 256)
    norms = np.linalg.norm(vlad, axis=2)  # power + L2 per map; 0 where nothing passed the threshold
    assert (np.isclose(norms, 1.0, rtol=1e-5) | (norms == 0)).all() and np.isclose(norms, 1.0).mean() > 0.5
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backend"] == "dis" and manifest["backend_params"] == {"preset": "medium"}
    assert len(manifest["used"]) == NUM_VIDEOS and manifest["skipped"] == []
    true = np.array([c["label"] for c in manifest["used"]])
    assert clustering_scores(true, labels) == {"nmi": pytest.approx(metrics["nmi"]),
                                               "ari": pytest.approx(metrics["ari"])}
    assert 0 < metrics["epe"] < 2 and metrics["flow_computed"] == NUM_VIDEOS
    assert set(manifest["timings"]) >= {"flow_pass_s", "codebook_s", "vlad_s", "cluster_s", "total_s"}


def test_streamed_otsu_equals_the_threshold_of_all_flow_at_once(serial):
    metrics, _, root = serial
    cache = flow_cache(root, "dis")
    everything = np.stack([cache.load(f"synthetic-train-{i:05d}") for i in range(NUM_VIDEOS)])
    histogram = MagnitudeHistogram(0.01, 512.0)
    histogram.add_flow(everything)
    assert metrics["otsu_threshold"] == pytest.approx(histogram.threshold())


def test_decode_flow_baseline_computes_the_cached_flow(serial):
    """The bench's "decode + flow alone" pass does the stage's flow work: the same flow, unrounded."""
    _, _, root = serial
    cfg = make_cfg(root, "pipeline=pseudolabels")
    source = build_video_source(cfg.data.video, "train", cache_dir(cfg))
    config = PassConfig("dis", {"preset": "medium"}, str(root / "unused"), "unused", 0.01, 512.0)
    with ClipPool(0, source, config, progress=False) as pool:
        assert list(pool.map(decode_flow_task, [0, 1], "decode + flow")) == [7, 7]
    cached = flow_cache(root, "dis").load("synthetic-train-00001")
    np.testing.assert_allclose(build_flow("dis", preset="medium").clip(source[1].frames), cached, atol=0.01)


def test_inside_a_launcher_worker_the_pool_runs_in_process(serial, monkeypatch):
    """A job of ``hydra/launcher=parallel`` is itself a worker process: no nested pool there."""
    _, _, root = serial
    cfg = make_cfg(root, "pipeline=pseudolabels")
    source = build_video_source(cfg.data.video, "train", cache_dir(cfg))
    config = PassConfig("dis", {"preset": "medium"}, str(root / "unused"), "unused", 0.01, 512.0)
    monkeypatch.setattr("motionlab.pseudolabel.passes.mp.parent_process", lambda: object())
    with ClipPool(2, source, config, progress=False) as pool:
        assert pool.executor is None and pool.workers == 0
        assert list(pool.map(decode_flow_task, [0], "decode + flow")) == [7]


def test_workers_do_not_change_labels(serial, tmp_path):
    _, out, _ = serial
    _, parallel = run(tmp_path, "backend=dis", "workers=2")
    for name in ("labels.npy", "codebook.npy", "vlad.npy"):
        np.testing.assert_array_equal(np.load(parallel / name), np.load(out / name))


def test_two_shards_give_the_labels_of_one_run(serial, tmp_path):
    _, out, _ = serial
    first, _ = run(tmp_path, "backend=dis", "workers=0", "shard=0/2")
    assert first["shard"] == "0/2" and first["flow_computed"] == NUM_VIDEOS // 2
    with pytest.raises(DataError, match=r"shard\(s\) \['1/2'\] missing"):
        run(tmp_path, "backend=dis", "workers=0")
    run(tmp_path, "backend=dis", "workers=0", "shard=1/2")
    metrics, clustered = run(tmp_path, "backend=dis", "workers=0")
    assert metrics["flow_cached"] == NUM_VIDEOS and metrics["flow_computed"] == 0
    np.testing.assert_array_equal(np.load(clustered / "labels.npy"), np.load(out / "labels.npy"))


class FaultySource(SyntheticVideos):
    """Synthetic videos with an unreadable clip (3), a one-frame clip (5) and a short one (7)."""

    def __getitem__(self, index: int) -> VideoSample:
        if index == 3:
            raise DataError("/videos/three.avi: cannot decode (re-encode it)")
        sample = super().__getitem__(index)
        if index in (5, 7):
            keep = 1 if index == 5 else 4
            sample.frames, sample.flow_gt = sample.frames[:keep], sample.flow_gt[: keep - 1]
        return sample


register_video_source("test_faulty_synthetic")(FaultySource)


def test_bad_and_short_clips_are_recorded_skips(tmp_path):
    metrics, out = run(tmp_path, "backend=farneback", "workers=0", "clusters=4",
                       data=("data.video.source=test_faulty_synthetic",))
    labels = np.load(out / "labels.npy")
    assert (labels[[3, 5, 7]] == -1).all() and (np.delete(labels, [3, 5, 7]) >= 0).all()
    skipped = {s["index"]: s["reason"] for s in json.loads((out / "manifest.json").read_text())["skipped"]}
    assert set(skipped) == {3, 5, 7}
    assert "three.avi" in skipped[3] and "at least 2 key frames" in skipped[5] and "3 key-frame pairs" in skipped[7]
    assert metrics["clips_used"] == NUM_VIDEOS - 3 and metrics["clips_skipped"] == 3


def test_killed_run_resumes_without_recomputing_cached_flow(tmp_path):
    slow = ("backend=tvl1", "workers=1", "+backend_params.outer_iterations=30")
    root = tmp_path / "killed"
    cache = flow_cache(root, "tvl1", outer_iterations=30)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("run_stage.py")), str(root),
                             *map(param, slow)],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and len(list(cache.dir.glob("synthetic-*.npy"))) < 4:
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in cache.dir.glob("synthetic-*.npy")}
    assert 4 <= len(before) < NUM_VIDEOS
    metrics, resumed = run(root, "backend=tvl1", "workers=0", "+backend_params.outer_iterations=30")
    assert metrics["flow_cached"] == len(before) and metrics["flow_computed"] == NUM_VIDEOS - len(before)
    assert all(cache.dir.joinpath(name).stat().st_mtime_ns == mtime for name, mtime in before.items())
    _, clean = run(tmp_path / "clean", "backend=tvl1", "workers=0", "+backend_params.outer_iterations=30")
    np.testing.assert_array_equal(np.load(resumed / "labels.npy"), np.load(clean / "labels.npy"))


def test_real_format_video_tree(tmp_path):
    from data_formats.dataset_writers import corrupt_file, write_ucf101

    root = tmp_path / "UCF101"
    write_ucf101(root)
    corrupt_file(root / "UCF-101" / "YoYo" / "v_YoYo_g22_c01.avi")
    data = ("data/video=ucf101", f"data.video.root={root}", "data.video.size=32", "data.video.key_frames=4",
            "data.video.num_videos=null", "data.video.decode_workers=1")
    metrics, out = run(tmp_path, "backend=dis", "workers=0", "clusters=2", data=data)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["path"].endswith("v_YoYo_g22_c01.avi") for s in manifest["source_skipped"]] == [True]
    assert metrics["clips_used"] == 8 and np.load(out / "vlad.npy").shape == (8, 3, 256)
    assert metrics["epe"] is None and "nmi" in metrics  # UCF101 has action labels, no flow


def test_oracle_labels_are_the_true_motions(tmp_path):
    metrics, out = run(tmp_path, "source=oracle")
    manifest = json.loads((out / "manifest.json").read_text())
    source = build_video_source(make_cfg(tmp_path, "pipeline=pseudolabels").data.video, "train", tmp_path / "c")
    motions = [manifest["motions"][label] for label in np.load(out / "labels.npy")]
    assert motions == [source[i].meta["motion"] for i in range(len(source))]
    assert metrics["source"] == "oracle" and metrics["nmi"] == pytest.approx(1.0)
    assert not (out / "vlad.npy").exists()  # no flow needed


def test_shuffled_labels_permute_the_flow_labels_with_the_run_seed(serial, tmp_path):
    _, out, _ = serial
    flow = np.load(out / "labels.npy")
    _, shuffled = run(tmp_path, "backend=dis", "workers=0", "source=shuffled")
    labels = np.load(shuffled / "labels.npy")
    assert sorted(labels) == sorted(flow) and not np.array_equal(labels, flow)
    _, again = run(tmp_path / "again", "backend=dis", "workers=0", "source=shuffled")
    np.testing.assert_array_equal(np.load(again / "labels.npy"), labels)


def test_kmeans_follows_the_run_seed_and_the_key_names_it(serial, tmp_path):
    _, out, _ = serial
    cfg = make_cfg(tmp_path, "pipeline=pseudolabels", "seed=1", param("backend=dis"), param("workers=0"))
    done = run_pipeline(cfg, tmp_path / "run")["pseudolabels"]
    assert done["key"] != json.loads((out / "done.json").read_text())["key"]
    other = tmp_path / "run" / "stages" / "pseudolabels"
    assert not np.array_equal(np.load(other / "codebook.npy"), np.load(out / "codebook.npy"))
    with pytest.raises(ConfigError, match="source"):
        run(tmp_path / "bad", "source=optical")
