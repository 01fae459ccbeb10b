"""UF-TSN over whole videos (paper: TSN segments over the whole video) with flow streamed from the
on-disk cache: whole-video decoding on a miniature UCF101 tree, segment sampling over every frame,
memory-mapped reads, and flow extraction sharded across machines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from data_formats.configs import ALL_NATIVE, data_cfg
from data_formats.dataset_writers import read_code, write_ucf101

from motionlab.core.errors import DataError
from motionlab.data.datamodules import TSNSegments
from motionlab.data.sources import build_video_source
from motionlab.flow.cache import FlowCache, fill_flow_cache
from motionlab.pipeline import run_pipeline

FRAMES = 60


@pytest.fixture(scope="module")
def ucf_whole(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ucf_whole")
    write_ucf101(root, num_frames=FRAMES)
    return root


def whole_source(root: Path, cache: Path, **overrides):
    cfg = data_cfg("video", "ucf101", root=str(root), **{**ALL_NATIVE, "key_frames": None, "key_interval": 1,
                                                         **overrides})
    return build_video_source(cfg, "train", cache)


def test_key_frames_null_decodes_every_frame_of_each_video_memory_mapped(ucf_whole, tmp_path):
    source = whole_source(ucf_whole, tmp_path)
    sample = source[0]
    assert len(sample.frames) == FRAMES
    assert isinstance(sample.frames, np.memmap)  # a sampler reads a few frames, never the whole video
    assert [read_code(f) for f in sample.frames[[0, 30, FRAMES - 1]]] == [0, 30, FRAMES - 1]
    assert sample.meta["frame_indices"] == list(range(FRAMES))
    every_other = whole_source(ucf_whole, tmp_path, key_interval=2)[0]
    assert [read_code(f) for f in every_other.frames[:3]] == [0, 2, 4] and len(every_other.frames) == FRAMES // 2
    clip = build_video_source(data_cfg("video", "ucf101", root=str(ucf_whole), **ALL_NATIVE), "train", tmp_path)
    assert len(clip[0].frames) == 12  # the key-frame protocol is unchanged


def test_segments_span_the_whole_video_and_do_not_depend_on_who_asks(ucf_whole, tmp_path):
    source = whole_source(ucf_whole, tmp_path)
    segments = TSNSegments(source, num_segments=3, snippet_len=1, seed=0)
    codes = np.array([[read_code(f.permute(1, 2, 0).numpy()) for f in segments[(0, epoch)]["frames"][:, 0]]
                      for epoch in range(12)])
    assert codes[:, 0].max() < FRAMES / 3 <= codes[:, 1].min()  # one start per third of the video
    assert codes[:, 2].max() >= 40  # past the first 33 frames that the clip protocol kept
    assert len({tuple(c) for c in codes}) > 1  # a new draw each epoch
    again = TSNSegments(source, num_segments=3, snippet_len=1, seed=0)
    assert torch.equal(again[(0, 5)]["frames"], segments[(0, 5)]["frames"])


def test_motion_segments_read_their_stacks_from_the_flow_cache(ucf_whole, tmp_path):
    source = whole_source(ucf_whole, tmp_path / "clips", size=16)
    cache = FlowCache(tmp_path / "flow", "k")
    rng = np.random.default_rng(0)
    assert fill_flow_cache(cache, source, range(2), lambda s: rng.normal(size=(len(s.frames) - 1, 2, 16, 16))) == 2
    assert fill_flow_cache(cache, source, range(2), lambda s: 1 / 0) == 0  # cached: nothing recomputed
    item = TSNSegments(source, 3, 10, seed=1, frames=True, flows=cache)[(1, 0)]
    assert item["flows"].shape == (3, 10, 2, 16, 16) and item["frames"].shape == (3, 11, 3, 16, 16)
    flow = cache.load(source[1].video_id)
    first = int(np.flatnonzero([np.allclose(item["flows"][0, 0].numpy(), f) for f in flow])[0])
    np.testing.assert_allclose(item["flows"][0].numpy(), flow[first:first + 10])


def _motion_cfg(cfg_factory, root: Path, shard: str = ""):
    cfg = cfg_factory("experiment=uftsn_tvl1", "pipeline.stages.motion.params.flow_source=dis",
                      f"pipeline.stages.motion.params.shard={shard}", f"paths.output_root={root}",
                      "data.video.num_videos=6", "data.video.num_test_videos=3")
    cfg.pipeline.stages = {"motion": cfg.pipeline.stages.motion}
    return cfg


def test_flow_extraction_shards_across_machines_and_training_checks_every_shard(cfg_factory, tmp_path):
    root = tmp_path / "out"
    first = run_pipeline(_motion_cfg(cfg_factory, root, "0/2"), tmp_path / "run0")["motion"]["metrics"]
    assert first["shard"] == "0/2" and first["flow_computed"] == 5  # 3 of 6 train + 2 of 3 test videos
    with pytest.raises(DataError, match=r"shard\(s\) \['1/2'\] missing"):
        run_pipeline(_motion_cfg(cfg_factory, root), tmp_path / "run1")
    second = run_pipeline(_motion_cfg(cfg_factory, root, "1/2"), tmp_path / "run2")["motion"]["metrics"]
    assert second["flow_computed"] == 4
    [cache_dir] = [p.parent for p in (root / "store" / "cache" / "flow").rglob("shards")]
    before = {p: p.stat().st_mtime_ns for p in cache_dir.glob("*.npy")}
    assert len(before) == 9
    done = run_pipeline(_motion_cfg(cfg_factory, root), tmp_path / "run3")["motion"]
    assert "top1" in done["metrics"]
    assert {p: p.stat().st_mtime_ns for p in cache_dir.glob("*.npy")} == before  # nothing recomputed
    assert json.loads((cache_dir / "shards" / "2" / "1.json").read_text())["computed"] == 4
