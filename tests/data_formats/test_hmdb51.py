"""HMDB51 reader: the 0/1/2 tags of the three splits, class order from the split file names,
trailing blanks and odd characters in names, the k=7 protocol, and layout errors that say what to
set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data_formats.configs import ALL_NATIVE, data_cfg
from data_formats.dataset_writers import HMDB_VIDEOS, read_code, write_hmdb51
from motionlab.core.errors import DataError
from motionlab.data.sources import build_video_source

CLASSES = sorted(HMDB_VIDEOS)  # brush_hair, climb, climb_stairs


def hmdb(root: Path, split: str, cache: Path, **overrides):
    cfg = data_cfg("video", "hmdb51", root=str(root), **{**ALL_NATIVE, **overrides})
    return build_video_source(cfg, split, cache)


@pytest.mark.parametrize("split_id", [1, 2, 3])
def test_tags_select_train_test_and_unused(hmdb_tree, tmp_path, split_id):
    root, expected = hmdb_tree
    for split, tags in {"train": [1], "test": [2], "all": [0, 1, 2]}.items():
        source = hmdb(root, split, tmp_path, split_id=split_id)
        got = sorted((source[i].video_id, source[i].label) for i in range(len(source)))
        want = sorted((f"{c}/{v}", CLASSES.index(c)) for tag in tags for c, v in expected[split_id][tag])
        assert got == want, split
    assert hmdb(root, "train", tmp_path, split_id=split_id).class_names == CLASSES


def test_lines_end_in_a_blank_and_names_hold_odd_characters(hmdb_tree, tmp_path):
    root, _ = hmdb_tree
    text = (root / "testTrainMulti_7030_splits" / "climb_stairs_test_split1.txt").read_text()
    assert "Stair_Climbing_(!)_climb_stairs_f_cm_np1_fr_med_0.avi 2 \n" in text
    ids = {hmdb(root, "all", tmp_path)[i].video_id for i in range(9)}
    assert "climb_stairs/Stair_Climbing_(!)_climb_stairs_f_cm_np1_fr_med_0" in ids
    assert "climb_stairs/stairs&more_climb_stairs_u_cm_np1_ba_bad_1" in ids


def test_seven_key_frames_at_interval_three(hmdb_tree, tmp_path):
    root, _ = hmdb_tree
    sample = hmdb(root, "train", tmp_path)[0]
    assert [read_code(f) for f in sample.frames] == [0, 3, 6, 9, 12, 15, 18]
    cfg = data_cfg("video", "hmdb51")
    protocol = (cfg.key_frames, cfg.key_interval, cfg.motion_subclip, cfg.delta_t, cfg.num_videos)
    assert protocol == (7, 3, 5, 5, 1000)


def test_nested_video_dir_is_suggested(tmp_path):
    write_hmdb51(tmp_path / "HMDB51", num_frames=20, video_dir="hmdb51_org")
    with pytest.raises(DataError, match="no class folder found .* set data.video.video_dir=hmdb51_org"):
        hmdb(tmp_path / "HMDB51", "train", tmp_path)
    assert len(hmdb(tmp_path / "HMDB51", "all", tmp_path, video_dir="hmdb51_org")) == 9


def test_bad_split_files(hmdb_tree, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(hmdb_tree[0], root)
    splits = root / "testTrainMulti_7030_splits"
    with pytest.raises(DataError, match=r"no <class>_test_split1\.txt files \(extract test_train_splits"):
        hmdb(root, "train", tmp_path, split_dir="elsewhere")
    (splits / "climb_test_split1.txt").write_text("Wall_Climb_#1_climb_f_cm_np1_ba_med_0.avi 3 \n")
    with pytest.raises(DataError, match=r"climb_test_split1\.txt:1: expected '<video>\.avi <0\|1\|2>'"):
        hmdb(root, "train", tmp_path)
