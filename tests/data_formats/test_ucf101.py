"""UCF101 reader on a miniature official tree: counts and labels of the three splits, the list
quirks, the key-frame protocol, Nv sampling, skips of bad videos (nothing decoded twice) and
clear errors for a broken tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data_formats.configs import ALL_NATIVE, data_cfg
from data_formats.dataset_writers import UCF_CLASSES, corrupt_file, read_code, truncate_file, write_video
from motionlab.core.errors import DataError
from motionlab.data.datasets.video_source import VideoFileReader
from motionlab.data.sources import build_video_source


def ucf(root: Path, split: str, cache: Path, **overrides):
    cfg = data_cfg("video", "ucf101", root=str(root), **{**ALL_NATIVE, **overrides})
    return build_video_source(cfg, split, cache)


def on_disk_id(list_path: str) -> str:
    """The id of a listed video: its path on disk (folder HandstandPushups) without .avi."""
    folder, name = list_path.split("/")
    return f"{'HandstandPushups' if folder.lower() == 'handstandpushups' else folder}/{name[:-4]}"


@pytest.fixture
def ucf_copy(ucf_tree, tmp_path) -> Path:
    """A private copy of the module's tree, for tests that break it."""
    root = tmp_path / "UCF101"
    shutil.copytree(ucf_tree[0], root)
    return root


@pytest.mark.parametrize("split_id", [1, 2, 3])
@pytest.mark.parametrize("split", ["train", "test"])
def test_each_split_lists_the_right_videos_and_labels(ucf_tree, tmp_path, split_id, split):
    root, expected = ucf_tree
    source = ucf(root, split, tmp_path, split_id=split_id)
    assert source.class_names == UCF_CLASSES  # CRLF stripped, classInd order
    got = sorted((source[i].video_id, source[i].label) for i in range(len(source)))
    want = sorted((on_disk_id(rel), label) for rel, label in expected[split_id][split])
    assert got == want and len(got) == (9 if split == "train" else 3)
    assert source.skipped == [] and source.notes == []


def test_handstand_case_quirk_is_resolved(ucf_tree, tmp_path):
    root, _ = ucf_tree
    lists = (root / "ucfTrainTestlist" / "trainlist01.txt").read_bytes()
    assert b"HandStandPushups/v_HandStandPushups_g08_c01.avi 2\r\n" in lists  # the lists' spelling ...
    assert (root / "UCF-101" / "HandstandPushups").is_dir()  # ... and the folder's
    source = ucf(root, "train", tmp_path)
    ids = {source[i].video_id: source[i].label for i in range(len(source))}
    assert ids["HandstandPushups/v_HandStandPushups_g08_c01"] == 1


def test_file_name_case_differing_from_the_list_is_found(ucf_copy, tmp_path):
    folder = ucf_copy / "UCF-101" / "HandstandPushups"
    for video in folder.iterdir():
        video.rename(folder / video.name.replace("HandStand", "Handstand"))
    source = ucf(ucf_copy, "test", tmp_path)
    assert "HandstandPushups/v_HandstandPushups_g01_c01" in {source[i].video_id for i in range(len(source))}


def test_key_frames_follow_the_paper_protocol(ucf_tree, tmp_path):
    root, _ = ucf_tree
    source = ucf(root, "test", tmp_path)
    sample = source[0]
    assert sample.frames.shape == (12, 48, 64, 3) and sample.frames.dtype.name == "uint8"
    assert [read_code(f) for f in sample.frames] == list(range(0, 34, 3))
    assert sample.flow_gt is None
    assert sample.meta["frame_indices"] == list(range(0, 34, 3)) and sample.meta["fps"] == pytest.approx(25)
    assert Path(sample.meta["path"]).is_file()
    resized = ucf(root, "test", tmp_path, size=[24, 32])[0].frames
    assert resized.shape == (12, 24, 32, 3)


def test_nv_subset_is_seeded(ucf_tree, tmp_path):
    root, _ = ucf_tree
    ids = {seed: [ucf(root, "train", tmp_path, num_videos=4, subset_seed=seed)[i].video_id for i in range(4)]
           for seed in (0, 1)}
    assert ids[0] == [ucf(root, "train", tmp_path, num_videos=4, subset_seed=0)[i].video_id for i in range(4)]
    assert ids[0] != ids[1] and len(set(ids[0])) == 4
    assert len(ucf(root, "test", tmp_path, num_videos=4, num_test_videos=2)) == 2


def test_bad_videos_are_skipped_with_reasons_and_replaced(ucf_copy, tmp_path):
    videos = ucf_copy / "UCF-101"
    write_video(videos / "YoYo" / "v_YoYo_g08_c01.avi", 20)                       # too few frames
    corrupt_file(videos / "YoYo" / "v_YoYo_g15_c01.avi")                          # not a video
    truncate_file(videos / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g08_c01.avi", 0.7)  # cut copy
    (videos / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g22_c01.avi").unlink()          # listed, missing
    source = ucf(ucf_copy, "train", tmp_path)
    reasons = {Path(s.path).name: s.reason for s in source.skipped}
    assert set(reasons) == {"v_YoYo_g08_c01.avi", "v_YoYo_g15_c01.avi", "v_ApplyEyeMakeup_g08_c01.avi",
                            "v_ApplyEyeMakeup_g22_c01.avi"}
    assert reasons["v_YoYo_g08_c01.avi"] == "too few frames: 20 in the video, 34 needed"
    assert reasons["v_ApplyEyeMakeup_g08_c01.avi"].startswith("truncated or corrupt")
    assert "not found" in reasons["v_ApplyEyeMakeup_g22_c01.avi"]
    assert len(source) == 9 - 4 and len(source.skip_records()) == 4
    # Nv below the usable count: every slot whose video is bad takes one from its reserve
    subset = ucf(ucf_copy, "train", tmp_path, num_videos=4)
    assert len(subset) == 4
    assert not {subset[i].video_id.split("/")[1] + ".avi" for i in range(4)} & set(reasons)


def test_nothing_decoded_twice_when_a_later_video_goes_bad(ucf_copy, tmp_path, monkeypatch):
    calls = []
    read = VideoFileReader.read
    def counting_read(self, entry, *args):
        calls.append(entry.path)
        return read(self, entry, *args)

    monkeypatch.setattr(VideoFileReader, "read", counting_read)
    first = ucf(ucf_copy, "train", tmp_path)
    assert len(calls) == 9
    corrupt_file(ucf_copy / "UCF-101" / "YoYo" / "v_YoYo_g22_c01.avi")
    calls.clear()
    second = ucf(ucf_copy, "train", tmp_path)
    assert [Path(p).name for p in calls] == ["v_YoYo_g22_c01.avi"]  # only the changed file is read again
    assert len(second) == 8 and len(first) == 9
    calls.clear()
    [second[i] for i in range(len(second))]
    assert calls == []  # every epoch after the first reads the cache


def test_on_bad_video_error_names_the_file(ucf_copy, tmp_path):
    corrupt_file(ucf_copy / "UCF-101" / "YoYo" / "v_YoYo_g15_c01.avi")
    with pytest.raises(DataError, match=r"v_YoYo_g15_c01\.avi: cannot open video"):
        ucf(ucf_copy, "train", tmp_path, on_bad_video="error")


def test_class_folder_missing_is_recorded_per_video(ucf_copy, tmp_path):
    shutil.rmtree(ucf_copy / "UCF-101" / "YoYo")
    source = ucf(ucf_copy, "train", tmp_path)
    assert len(source) == 6 and len(source.skipped) == 3
    for skip in source.skipped:
        assert skip.reason.startswith("listed in trainlist01.txt but folder 'YoYo' not found in")


def test_strict_mode_makes_a_missing_class_folder_an_error(ucf_copy, tmp_path):
    shutil.rmtree(ucf_copy / "UCF-101" / "YoYo")
    with pytest.raises(DataError, match=r"folder 'YoYo' not found .*3 listed ucf101 train videos.*on_bad_video=skip"):
        ucf(ucf_copy, "train", tmp_path, on_bad_video="error")


def test_broken_tree_errors_name_the_file_and_the_fix(ucf_copy, tmp_path):
    lists = ucf_copy / "ucfTrainTestlist"
    (lists / "trainlist02.txt").unlink()
    with pytest.raises(DataError, match=r"trainlist02\.txt: UCF101 split list not found \(extract"):
        ucf(ucf_copy, "train", tmp_path, split_id=2)
    with pytest.raises(DataError, match="split_id must be 1, 2 or 3"):
        ucf(ucf_copy, "train", tmp_path, split_id=4)
    with pytest.raises(DataError, match=r"data\.video\.root not set: point it at your copy"):
        build_video_source(data_cfg("video", "ucf101"), "train", tmp_path)
    with pytest.raises(DataError, match=r"ucfTrainTestlist/classInd\.txt: UCF101 class index not found"):
        ucf(tmp_path, "train", tmp_path)
    with pytest.raises(DataError, match=r"none of the 9 listed videos exist .* holding UCF-101/"):
        ucf(ucf_copy, "train", tmp_path, video_dir="videos")
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n2 HandstandPushups\n")
    with pytest.raises(DataError, match=r"testlist01\.txt:3: class folder 'YoYo' is not in classInd\.txt"):
        ucf(ucf_copy, "test", tmp_path)
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\n3 YoYo\n")
    with pytest.raises(DataError, match=r"classInd\.txt: class ids must run 1\.\.N"):
        ucf(ucf_copy, "test", tmp_path)


def test_unknown_config_key_is_named(ucf_tree, tmp_path):
    from motionlab.core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown key 'key_frame'.*Did you mean 'key_frames'"):
        ucf(ucf_tree[0], "train", tmp_path, key_frame=7)


def test_train_label_disagreeing_with_folder_is_noted(ucf_copy, tmp_path):
    lists = ucf_copy / "ucfTrainTestlist" / "trainlist01.txt"
    lists.write_bytes(lists.read_bytes().replace(b"v_YoYo_g08_c01.avi 3", b"v_YoYo_g08_c01.avi 1"))
    source = ucf(ucf_copy, "train", tmp_path)
    assert len(source.notes) == 1 and "folder 'YoYo' is class 3" in source.notes[0].reason
    assert {source[i].label for i in range(len(source)) if "YoYo" in source[i].video_id} == {2}
