"""Integration on real camera footage: the sample videos of Debian's ``opencv-doc`` package
(XviD/MS-MPEG4 .avi like UCF101's) arranged into a UCF101 tree, read with the shipped ucf101
config, checked against a plain PyAV decode of every frame. Skipped where the package is absent:
    apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest

from data_formats.configs import data_cfg
from motionlab.data.check import main as check_data
from motionlab.data.sources import build_video_source

CANDIDATES = [os.environ.get("OPENCV_DOC_DATA", ""), "/tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data",
              "/usr/share/doc/opencv-doc/examples/data"]
DATA = next((Path(p) for p in CANDIDATES if p and (Path(p) / "vtest.avi").is_file()), None)
pytestmark = pytest.mark.skipif(DATA is None, reason="opencv-doc sample videos not installed")

VIDEOS = {"WalkingPeople": ["vtest.avi"], "Animation": ["Megamind.avi", "Megamind_bugy.avi"],
          "Trees": ["tree.avi"]}


@pytest.fixture(scope="module")
def real_ucf(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("real_ucf")
    lists = root / "ucfTrainTestlist"
    lists.mkdir()
    classes = list(VIDEOS)
    train = []
    for label, (class_name, files) in enumerate(VIDEOS.items(), start=1):
        (root / "UCF-101" / class_name).mkdir(parents=True)
        for group, name in enumerate(files, start=8):
            target = f"v_{class_name}_g{group:02d}_c01.avi"
            (root / "UCF-101" / class_name / target).symlink_to(DATA / name)
            train.append(f"{class_name}/{target} {label}")
    (lists / "classInd.txt").write_text("".join(f"{i} {c}\r\n" for i, c in enumerate(classes, start=1)))
    (lists / "trainlist01.txt").write_text("\r\n".join(train) + "\r\n")
    (lists / "testlist01.txt").write_text("WalkingPeople/v_WalkingPeople_g08_c01.avi\r\n")
    return root


def reference_frames(path: Path, indices: list[int]) -> np.ndarray:
    """Every frame decoded in order with plain PyAV, then the wanted ones picked."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(max(indices) + 1),
                                                                container.decode(video=0), strict=False)]
    return np.stack([frames[i] for i in indices])


def test_key_frames_equal_a_plain_full_decode(real_ucf, tmp_path):
    cfg = data_cfg("video", "ucf101", root=str(real_ucf), size=None, num_videos=None)
    source = build_video_source(cfg, "train", tmp_path)
    assert len(source) == 4 and source.skipped == []
    for i in range(len(source)):
        sample = source[i]
        expected = reference_frames(Path(sample.meta["path"]), list(range(0, 34, 3)))
        assert np.array_equal(sample.frames, expected), sample.video_id
        assert sample.meta["fps"] > 0


def test_paper_protocol_and_check_data_on_real_footage(real_ucf, tmp_path, capsys):
    source = build_video_source(data_cfg("video", "ucf101", root=str(real_ucf)), "test", tmp_path)
    assert source[0].frames.shape == (12, 112, 112, 3)
    assert check_data(["--video", "ucf101", "--video-root", str(real_ucf), "--only", "video",
                       "--cache-dir", str(tmp_path)]) == 0
    assert "train: 4 listed, 4 found, 4 selected, 0 skipped" in capsys.readouterr().out
