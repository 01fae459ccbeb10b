"""decode_clip / read_rawframes: the right frames (read back from the coded bars), only the frames
needed, both backends, and bad files reported with their path."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import motionlab.data.decode as decode
from data_formats.dataset_writers import coded_frame, corrupt_file, read_code, truncate_file, write_video
from motionlab.data.decode import ClipError, decode_clip, output_shape, read_rawframes


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    return {
        "mpeg4": write_video(root / "mpeg4.avi", 200, codec="mpeg4", gop=12),
        "mjpeg": write_video(root / "mjpeg.avi", 40, codec="mjpeg"),
    }


@pytest.mark.parametrize("backend", ["pyav", "opencv", "auto"])
@pytest.mark.parametrize("codec", ["mpeg4", "mjpeg"])
def test_key_frames_are_the_requested_ones(videos, backend, codec):
    indices = list(range(0, 34, 3))  # the paper protocol: first 12 key frames at interval 3
    frames, info = decode_clip(videos[codec], indices, None, backend)
    assert frames.dtype == np.uint8 and frames.shape == (12, 48, 64, 3)
    assert [read_code(f) for f in frames] == indices
    assert info.fps == pytest.approx(25.0)


def test_decoding_stops_after_the_last_needed_frame(videos):
    _, info = decode_clip(videos["mpeg4"], list(range(0, 34, 3)), None, "pyav")
    assert info.frames_decoded == 34  # not the 200 frames of the file
    assert info.declared_frames == 200


def test_far_frames_are_reached_by_seeking(videos):
    frames, info = decode_clip(videos["mpeg4"], [2, 190], None, "pyav")
    assert [read_code(f) for f in frames] == [2, 190]
    assert info.frames_decoded < 3 + 12 + 1 + 8  # frames 0-2, then at most one GOP before 190 (and its tail)


def test_order_and_repeats_follow_the_request(videos):
    frames, _ = decode_clip(videos["mjpeg"], [9, 3, 9], None)
    assert [read_code(f) for f in frames] == [9, 3, 9]


def test_resize_to_square_or_pair(videos):
    assert decode_clip(videos["mjpeg"], [0, 1], 32)[0].shape == (2, 32, 32, 3)
    assert decode_clip(videos["mjpeg"], [0], [24, 40], "opencv")[0].shape == (1, 24, 40, 3)
    assert output_shape(240, 320, None) == (240, 320)


def test_too_few_frames_names_the_file(videos):
    with pytest.raises(ClipError, match=r"mjpeg\.avi: too few frames: 40 in the video, 46 needed") as err:
        decode_clip(videos["mjpeg"], range(0, 46, 3))
    assert err.value.reason.startswith("too few frames")


def test_corrupt_file_fails_on_both_backends(tmp_path):
    path = write_video(tmp_path / "bad.avi", 10)
    corrupt_file(path)
    with pytest.raises(ClipError, match="bad.avi"):
        decode_clip(path, [0, 3])


@pytest.mark.parametrize("backend", ["pyav", "opencv"])
def test_truncated_file_is_reported(tmp_path, backend):
    path = write_video(tmp_path / "cut.avi", 60)
    truncate_file(path, 0.7)  # the header still declares 60 frames, the data stops at 19
    with pytest.raises(ClipError, match=r"cut\.avi: truncated or corrupt: frames end at 19, the header"):
        decode_clip(path, range(0, 34, 3), None, backend)
    truncate_file(path, 0.3)  # the AVI index is gone too
    with pytest.raises(ClipError, match=r"cut\.avi: (OpenCV )?cannot open"):
        decode_clip(path, range(0, 34, 3), None, backend)


def test_missing_file(tmp_path):
    with pytest.raises(ClipError, match="file not found"):
        decode_clip(tmp_path / "nope.avi", [0])


def test_opencv_fallback_when_pyav_fails(videos, monkeypatch):
    def broken(path, wanted, size):
        raise ClipError(path, "simulated PyAV failure")

    monkeypatch.setitem(decode._DECODERS, "pyav", broken)
    frames, info = decode_clip(videos["mjpeg"], [0, 5], None, "auto")
    assert info.backend == "opencv" and [read_code(f) for f in frames] == [0, 5]
    with pytest.raises(ClipError, match="simulated"):
        decode_clip(videos["mjpeg"], [0], None, "pyav")


def test_backends_agree(videos):
    a, _ = decode_clip(videos["mpeg4"], [0, 30, 100], None, "pyav")
    b, _ = decode_clip(videos["mpeg4"], [0, 30, 100], None, "opencv")
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 3


def test_rawframes_count_from_one(tmp_path):
    for i in range(10):
        Image.fromarray(coded_frame(i)).save(tmp_path / f"img_{i + 1:05d}.jpg", quality=95)
    frames = read_rawframes(tmp_path, [0, 3, 9])
    assert [read_code(f) for f in frames] == [0, 3, 9]
    with pytest.raises(ClipError, match=r"img_00011\.jpg: frame 10 missing"):
        read_rawframes(tmp_path, [10])
    (tmp_path / "img_00002.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ClipError, match=r"img_00002\.jpg: frame image cannot be decoded"):
        read_rawframes(tmp_path, [1])
