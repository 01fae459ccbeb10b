import cv2
import numpy as np
import pytest

from motionlab.flow.cli import main
from motionlab.flow.io import read_flo
from motionlab.flow.shifted import shifted_pair, texture


def _write_rgb(path, rgb):
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def test_two_images_give_flo_and_png(tmp_path, capsys):
    a, b = shifted_pair(48, 64, dx=3, dy=1)
    _write_rgb(tmp_path / "a.png", a)
    _write_rgb(tmp_path / "b.png", b)
    out = tmp_path / "out" / "ab.flo"
    assert main(["--method", "dis", "--param", "preset=fast", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                 "--out", str(out)]) == 0
    flow = read_flo(out)
    assert flow.shape == (2, 48, 64)
    np.testing.assert_allclose(np.median(flow[:, 8:-8, 8:-8], axis=(1, 2)), [3, 1], atol=0.2)
    png = cv2.imread(str(out.with_suffix(".png")))
    assert png.shape == (48, 64, 3)
    assert "1 flow map(s)" in capsys.readouterr().out


@pytest.fixture
def video(tmp_path):
    """10 frames of a texture panning 2 px right per frame, MJPG in AVI."""
    world = texture(48, 64 + 2 * 10, seed=4)
    path = tmp_path / "pan.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for t in range(10):
        writer.write(cv2.cvtColor(np.ascontiguousarray(world[:, 20 - 2 * t:84 - 2 * t]), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_video_every_pair_and_key_frames(tmp_path, video):
    every, keys = tmp_path / "every", tmp_path / "keys"
    assert main(["--method", "dis", "--video", str(video), "--out", str(every), "--no-png"]) == 0
    assert sorted(p.name for p in every.iterdir()) == [f"flow_{i:05d}_{i + 1:05d}.flo" for i in range(9)]
    assert np.median(read_flo(every / "flow_00004_00005.flo")[0, 8:-8, 8:-8]) == pytest.approx(2, abs=0.3)
    assert main(["--method", "farneback", "--video", str(video), "--out", str(keys), "--key-frames", "3",
                 "--interval", "3"]) == 0
    assert sorted(p.name for p in keys.iterdir()) == ["flow_00000_00003.flo", "flow_00000_00003.png",
                                                      "flow_00003_00006.flo", "flow_00003_00006.png"]


def test_errors_are_one_line_with_exit_code_2(tmp_path, video, capsys):
    assert main(["--method", "dis", "--param", "presett=fast", "--video", str(video), "--out", str(tmp_path)]) == 2
    assert "valid params" in capsys.readouterr().err
    assert main(["--video", str(video), "--out", str(tmp_path / "k"), "--key-frames", "20"]) == 2
    assert "pan.avi" in capsys.readouterr().err
    assert main(["--video", str(tmp_path / "none.avi"), "--out", str(tmp_path / "n")]) == 2
    assert "none.avi: file not found" in capsys.readouterr().err


def test_real_frames_when_available(tmp_path, opencv_data):
    out = tmp_path / "rw.flo"
    assert main(["--method", "dis", str(opencv_data / "rubberwhale1.png"), str(opencv_data / "rubberwhale2.png"),
                 "--out", str(out)]) == 0
    flow = read_flo(out)
    assert flow.shape == (2, 388, 584) and np.abs(flow).max() > 0.5  # the RubberWhale objects move


def test_list_shows_backends_and_params(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "tvl1: tau=0.25" in out and "dis: preset=medium" in out
