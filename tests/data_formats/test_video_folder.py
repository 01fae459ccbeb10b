"""``video_folder``: any folder of videos, searched recursively, cut into clips every clip_stride
frames; unreadable or too-short videos skipped with the reason, a clean error when nothing is left."""

from __future__ import annotations

import numpy as np
import pytest

from data_formats.configs import data_cfg
from data_formats.dataset_writers import corrupt_file, read_code, write_video
from motionlab.core.errors import DataError
from motionlab.data.sources import build_video_source


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    write_video(root / "a.avi", 30)
    write_video(root / "deep" / "er" / "b.MP4", 20, seed=1)
    write_video(root / "short.avi", 3, seed=2)
    corrupt_file(write_video(root / "broken.avi", 20))
    (root / "notes.txt").write_text("not a video")
    return root


def _cfg(root, **kw):
    return data_cfg("video", "video_folder", **{"root": str(root), "size": None, "decode_workers": 1,
                                                "key_frames": 4, "clip_stride": 5, "test_every": 3, **kw})


def test_clips_of_every_video_found_recursively_with_their_frames(folder, tmp_path):
    train = build_video_source(_cfg(folder), "train", tmp_path)
    test = build_video_source(_cfg(folder), "test", tmp_path)
    ids = {train[i].video_id for i in range(len(train))} | {test[i].video_id for i in range(len(test))}
    # a.avi: starts 0, 5, ..., 25 (6 clips of 4 frames in 30); deep/er/b.MP4: 0..15 (4 clips)
    assert ids == {f"a@{s}" for s in range(0, 27, 5)} | {f"deep/er/b@{s}" for s in range(0, 17, 5)}
    assert {test[i].video_id for i in range(len(test))} == {"a@10", "a@25", "deep/er/b@10"}  # every 3rd clip
    for i in range(len(train)):
        sample = train[i]
        start = int(sample.video_id.split("@")[1])
        assert [read_code(f) for f in sample.frames] == list(range(start, start + 4))
        assert sample.label == -1 and sample.meta["frame_indices"] == list(range(start, start + 4))


def test_bad_and_short_videos_are_skipped_with_the_reason(folder, tmp_path):
    source = build_video_source(_cfg(folder), "all", tmp_path)
    reasons = {rec["path"].rsplit("/", 1)[-1]: rec["reason"] for rec in source.skip_records()}
    assert set(reasons) == {"short.avi", "broken.avi"}
    assert "too short: 3 frames" in reasons["short.avi"]
    assert len(source) == 10


def test_errors_name_the_fix(folder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no video files"):
        build_video_source(_cfg(empty), "train", tmp_path)
    with pytest.raises(DataError, match="root"):
        build_video_source(_cfg(tmp_path / "missing"), "train", tmp_path)
    with pytest.raises(DataError, match="no train clips"):
        build_video_source(_cfg(folder, key_frames=40), "train", tmp_path)
    with pytest.raises(DataError, match="split"):
        build_video_source(_cfg(folder), "val", tmp_path)
    assert np.array_equal(build_video_source(_cfg(folder, recursive=False), "all", tmp_path).labels(), -np.ones(6))
