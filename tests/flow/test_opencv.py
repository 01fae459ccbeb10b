import numpy as np
import pytest
from flow.frames import translated_pair

from motionlab.flow.base import build_flow
from motionlab.flow.metrics import endpoint_error


def _interior_epe(flow: np.ndarray, dx: float, dy: float, margin: int) -> float:
    gt = np.stack([np.full(flow.shape[1:], dx), np.full(flow.shape[1:], dy)]).astype(np.float32)
    inner = (slice(None), slice(margin, -margin), slice(margin, -margin))
    return endpoint_error(flow[inner], gt[inner])


@pytest.mark.parametrize("method, params", [("tvl1", {}), ("dis", {"preset": "ultrafast"}),
                                            ("dis", {"preset": "fast"}), ("dis", {"preset": "medium"}),
                                            ("farneback", {})])
def test_backends_recover_a_small_translation(method, params):
    frame1, frame2 = translated_pair(48, 64, dx=2, dy=-1)
    flow = build_flow(method, **params)(frame1, frame2)
    assert flow.shape == (2, 48, 64) and flow.dtype == np.float32
    assert _interior_epe(flow, 2, -1, margin=8) < 0.3


def test_tvl1_defaults_recover_large_displacement_where_opencv_defaults_fail():
    frame1, frame2 = translated_pair(128, 160, dx=16, dy=8)
    tvl1 = build_flow("tvl1")
    tvl1(*translated_pair(32, 40, dx=1, dy=1))  # a small frame first: OpenCV then lowers its scale count
    ours = _interior_epe(tvl1(frame1, frame2), 16, 8, margin=24)
    opencv_defaults = build_flow("tvl1", scale_step=0.8, warps=5)(frame1, frame2)
    assert ours < 0.5
    assert _interior_epe(opencv_defaults, 16, 8, margin=24) > 4 * max(ours, 0.25)
