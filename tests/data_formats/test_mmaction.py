"""MMAction2 list files: 0-based video lists, rawframe lists with frames counted from 1, class
names from folders or config, and list/frame-count problems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data_formats.configs import ALL_NATIVE, data_cfg
from data_formats.dataset_writers import UCF_CLASSES, read_code
from motionlab.core.errors import DataError
from motionlab.data.sources import build_video_source


def mm(kind: str, root: Path, split: str, cache: Path, **overrides):
    cfg = data_cfg("video", f"mmaction_{kind}", root=str(root), **{**ALL_NATIVE, **overrides})
    return build_video_source(cfg, split, cache)


@pytest.mark.parametrize("kind", ["video", "rawframes"])
def test_lists_load_with_zero_based_labels(mmaction_tree, tmp_path, kind):
    root, expected = mmaction_tree
    train = mm(kind, root, "train", tmp_path)
    assert train.class_names == UCF_CLASSES  # from the <Class>/ folders
    lines = expected["train_videos"]
    want = sorted((line.split()[0].removesuffix(".avi"), int(line.split()[1])) for line in lines)
    assert sorted((train[i].video_id, train[i].label) for i in range(len(train))) == want
    assert len(mm(kind, root, "test", tmp_path)) == 3 and len(mm(kind, root, "all", tmp_path)) == 6


def test_rawframes_are_counted_from_one(mmaction_tree, tmp_path):
    root, _ = mmaction_tree
    frames = mm("rawframes", root, "train", tmp_path)[0]
    assert [read_code(f) for f in frames.frames] == list(range(0, 34, 3))  # img_00001.jpg is frame 0
    assert frames.meta["declared_frames"] == 40 and frames.meta["backend"] == "rawframes"


def test_class_names_from_config(mmaction_tree, tmp_path):
    root, _ = mmaction_tree
    assert mm("video", root, "train", tmp_path, class_names=["a", "b", "c"]).class_names == ["a", "b", "c"]
    with pytest.raises(DataError, match=r"label 2 but only 2 class names \(labels are 0-based\)"):
        mm("video", root, "train", tmp_path, class_names=["a", "b"])


def test_flat_layout_gets_generic_class_names(tmp_path, mmaction_tree):
    root = tmp_path / "flat"
    shutil.copytree(mmaction_tree[0] / "videos", root / "videos")
    (root / "list.txt").write_text("".join(f"{p.name} {i % 2}\n" for i, p in enumerate(
        sorted((root / "videos").rglob("*.avi")))))
    for p in (root / "videos").rglob("*.avi"):
        p.rename(root / "videos" / p.name)
    source = mm("video", root, "all", tmp_path, train_list="list.txt", test_list="list.txt")
    assert source.class_names == ["class_0", "class_1"]


def test_frame_folder_shorter_than_needed_is_skipped(mmaction_tree, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(mmaction_tree[0], root)
    lists = root / "ucf101_train_split_1_rawframes.txt"
    first = lists.read_text().splitlines()[0].split()
    lists.write_text(lists.read_text().replace(f"{first[0]} 40 ", f"{first[0]} 30 ", 1))
    last = root / "rawframes" / "YoYo" / "v_YoYo_g02_c01" / "img_00034.jpg"
    last.unlink()
    source = mm("rawframes", root, "train", tmp_path)
    reasons = sorted(s.reason for s in source.skipped)
    assert reasons == ["frame 33 missing (too few frames extracted?)",
                       "too few frames: the list declares 30, 34 needed"]
    assert len(source) == 1


def test_malformed_list_line(mmaction_tree, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(mmaction_tree[0], root)
    (root / "ucf101_test_split_1_videos.txt").write_text("YoYo/v_YoYo_g01_c01.avi 2 1\n")
    with pytest.raises(DataError, match=r"ucf101_test_split_1_videos\.txt:1: expected '<path> <label>'"):
        mm("video", root, "test", tmp_path)
