import numpy as np
import pytest

from motionlab.flow.base import build_flow
from motionlab.flow.shifted import interior_epe, shifted_pair


@pytest.mark.parametrize("method, params", [("tvl1", {}), ("dis", {"preset": "ultrafast"}),
                                            ("dis", {"preset": "fast"}), ("dis", {"preset": "medium"}),
                                            ("farneback", {})])
def test_backends_recover_a_small_translation(method, params):
    frame1, frame2 = shifted_pair(48, 64, dx=2, dy=-1)
    flow = build_flow(method, **params)(frame1, frame2)
    assert flow.shape == (2, 48, 64) and flow.dtype == np.float32
    assert interior_epe(flow, 2, -1, margin=8) < 0.3


def test_tvl1_defaults_recover_large_displacement_where_opencv_defaults_fail():
    frame1, frame2 = shifted_pair(128, 160, dx=16, dy=8)
    tvl1 = build_flow("tvl1")
    tvl1(*shifted_pair(32, 40, dx=1, dy=1))  # a small frame first: OpenCV then lowers its scale count
    ours = interior_epe(tvl1(frame1, frame2), 16, 8, margin=24)
    opencv_defaults = build_flow("tvl1", scale_step=0.8, warps=5)(frame1, frame2)
    assert ours < 0.5
    assert interior_epe(opencv_defaults, 16, 8, margin=24) > 4 * max(ours, 0.25)


def test_shifted_pair_is_an_exact_shift():
    frame1, frame2 = shifted_pair(20, 30, dx=3, dy=-2)
    np.testing.assert_array_equal(frame2[0:18, 3:30], frame1[2:20, 0:27])  # frame2(x + d) = frame1(x)
