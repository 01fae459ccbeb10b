"""Every registered real-data reader satisfies VideoSource/ImageSource, feeds the shared
DataModules (in DataLoader worker processes), and the paper-protocol helpers do what Sec. 4.1
says."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from data_formats.configs import data_cfg
from motionlab.data.datamodules import ImageDataModule, VideoClipDataModule
from motionlab.data.datasets.protocol import key_frame_indices, subset_chains
from motionlab.data.sources import IMAGE_SOURCES, VIDEO_SOURCES, build_image_source, build_video_source
from motionlab.data.types import ImageSample, ImageSource, VideoSample, VideoSource

VIDEO_TREES = {"ucf101": "ucf_tree", "hmdb51": "hmdb_tree", "mmaction_video": "mmaction_tree",
               "mmaction_rawframes": "mmaction_tree"}
IMAGE_TREES = {"voc2012_action": "voc_tree", "stanford40": "s40_tree"}


def test_every_reader_is_registered():
    import motionlab.data.datasets  # noqa: F401  (the import registers the readers)

    assert set(VIDEO_TREES) <= set(VIDEO_SOURCES) and set(IMAGE_TREES) <= set(IMAGE_SOURCES)


@pytest.mark.parametrize("name", sorted(VIDEO_TREES))
def test_video_readers_satisfy_the_protocol(name, request, tmp_path):
    root, _ = request.getfixturevalue(VIDEO_TREES[name])
    cfg = data_cfg("video", name, root=str(root), size=32, num_videos=2, key_frames=5)
    source = build_video_source(cfg, "train", tmp_path)
    assert isinstance(source, VideoSource) and len(source) == 2 and source.class_names
    sample = source[1]
    assert isinstance(sample, VideoSample) and sample.flow_gt is None
    assert sample.frames.shape == (5, 32, 32, 3) and sample.frames.dtype == np.uint8
    assert 0 <= sample.label < len(source.class_names) and sample.video_id
    assert {"path", "fps", "frame_indices"} <= set(sample.meta)


@pytest.mark.parametrize("name", sorted(IMAGE_TREES))
def test_image_readers_satisfy_the_protocol(name, request, tmp_path):
    root, _ = request.getfixturevalue(IMAGE_TREES[name])
    source = build_image_source(data_cfg("image", name, root=str(root)), "train", tmp_path)
    assert isinstance(source, ImageSource) and len(source) > 0
    labels = source.labels()
    assert labels.dtype == np.int64 and labels.shape == (len(source),)
    sample = source[0]
    assert isinstance(sample, ImageSample) and sample.image.dtype == np.uint8 and sample.image.shape[2] == 3
    assert sample.label == labels[0]


def test_video_datamodule_with_worker_processes(ucf_tree, tmp_path):
    cfg = data_cfg("video", "ucf101", root=str(ucf_tree[0]), size=32, num_videos=4)
    dm = VideoClipDataModule(cfg, tmp_path, batch_size=2, eval_batch_size=2, num_workers=2, seed=0)
    dm.setup()
    batches = list(dm.train_dataloader())
    assert len(batches) == 2
    assert batches[0]["frames"].shape == (2, 12, 3, 32, 32) and batches[0]["frames"].dtype == torch.uint8
    assert sorted(torch.cat([b["index"] for b in batches]).tolist()) == [0, 1, 2, 3]


def test_image_datamodule_few_shot_and_test_limit(voc_tree, tmp_path):
    cfg = data_cfg("image", "voc2012_action", root=str(voc_tree[0]), size=32, shots_per_class=1, test_limit=4)
    dm = ImageDataModule(cfg, tmp_path, batch_size=4, eval_batch_size=4, num_workers=0, seed=0)
    dm.setup()
    assert dm.num_classes == 10 and len(dm.train_set) == 10 and len(dm.test_set) == 4
    batch = next(iter(dm.train_dataloader()))
    assert batch["image"].shape == (4, 3, 32, 32)


def test_key_frames():  # the motion sub-clips: tests/zhang (motionlab.data.clips.motion_subclip_starts)
    assert key_frame_indices(12, 3) == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33]
    assert key_frame_indices(7, 3) == [0, 3, 6, 9, 12, 15, 18]


def test_subset_chains_are_a_seeded_partition():
    chains = subset_chains(10, 3, seed=5)
    perm = np.random.default_rng(5).permutation(10)
    assert [c[0] for c in chains] == perm[:3].tolist()  # the first choices: a seeded uniform sample
    assert sorted(np.concatenate(chains).tolist()) == list(range(10))  # reserves disjoint, nothing twice
    assert len(subset_chains(10, None, 0)) == 10 and len(subset_chains(2, 1000, 0)) == 2


def test_a_few_shot_draw_that_takes_the_whole_pool_leaves_no_validation_split(voc_tree, tmp_path):
    """Figure 4 at shots = the whole pool once failed deep in numpy ("need at least one array");
    now it names the two settings that collide."""
    cfg = data_cfg("image", "voc2012_action", root=str(voc_tree[0]), size=32, shots_per_class=100)
    dm = ImageDataModule(cfg, tmp_path, batch_size=4, eval_batch_size=4, num_workers=0, seed=0, val_per_class=2)
    with pytest.raises(ValueError, match=r"shots_per_class=100 leaves no labeled image .*\(val_per_class=2\)"):
        dm.setup()
    dm = ImageDataModule(cfg, tmp_path, batch_size=4, eval_batch_size=4, num_workers=0, seed=0)
    dm.setup()  # without a validation split the whole pool trains
