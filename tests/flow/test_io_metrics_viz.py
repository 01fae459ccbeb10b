import numpy as np
import pytest

from motionlab.core.errors import DataError
from motionlab.flow.io import read_flo, write_flo
from motionlab.flow.metrics import endpoint_error
from motionlab.flow.viz import flow_to_rgb


def test_flo_round_trip_and_byte_layout(tmp_path):
    flow = np.random.default_rng(0).normal(size=(2, 3, 5)).astype(np.float32)
    path = tmp_path / "a.flo"
    write_flo(path, flow)
    np.testing.assert_array_equal(read_flo(path), flow)
    raw = path.read_bytes()  # Middlebury layout, written out by hand
    expected = (np.float32(202021.25).tobytes() + np.int32(5).tobytes() + np.int32(3).tobytes()
                + np.stack([flow[0], flow[1]], axis=-1).astype("<f4").tobytes())
    assert raw == expected
    assert not list(tmp_path.glob(".*tmp*"))


def test_flo_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.flo"
    bad.write_bytes(np.float32(1.0).tobytes() + np.int32(1).tobytes() + np.int32(1).tobytes() + bytes(8))
    with pytest.raises(DataError, match=r"bad\.flo: not a Middlebury \.flo file"):
        read_flo(bad)
    write_flo(bad, np.zeros((2, 4, 4), np.float32))
    bad.write_bytes(bad.read_bytes()[:-4])
    with pytest.raises(DataError, match=r"bad\.flo: .*truncated"):
        read_flo(bad)
    with pytest.raises(DataError, match=r"missing\.flo"):
        read_flo(tmp_path / "missing.flo")


def test_endpoint_error_hand_computed():
    gt = np.zeros((2, 1, 2), np.float32)
    flow = np.array([[[3.0, 0.0]], [[4.0, 1.0]]], np.float32)  # errors 5 and 1
    assert endpoint_error(flow, gt) == pytest.approx(3.0)
    assert endpoint_error(flow, gt, mask=np.array([[True, False]])) == pytest.approx(5.0)
    assert np.isnan(endpoint_error(flow, gt, mask=np.zeros((1, 2), bool)))


def test_colour_wheel_known_colours():
    # Middlebury wheel (Baker et al.): right red, down yellow, left cyan-blue, up violet; zero white
    directions = {(1, 0): (255, 0, 0), (0, 1): (255, 229, 0), (-1, 0): (0, 209, 255), (0, -1): (88, 0, 255),
                  (0, 0): (255, 255, 255)}
    flow = np.array([[[dx for dx, _ in directions]], [[dy for _, dy in directions]]], np.float32)
    rgb = flow_to_rgb(flow)
    assert rgb.shape == (1, 5, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[0], np.array(list(directions.values())))


def test_colour_scale_is_fixed_by_max_magnitude():
    flow = np.array([[[1.0, 4.0]], [[0.0, 0.0]]], np.float32)
    rgb = flow_to_rgb(flow, max_magnitude=2.0)
    # half of the scale: halfway from white to red; beyond the scale: clipped to full red
    np.testing.assert_array_equal(rgb[0], [[255, 127, 127], [255, 0, 0]])
    batch = flow_to_rgb(np.stack([flow, flow / 4]))
    assert batch.shape == (2, 1, 2, 3)
    np.testing.assert_array_equal(batch[1, 0, 1], [255, 191, 191])  # 1/4 of the batch's largest
