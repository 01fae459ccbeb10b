import dataclasses

import numpy as np
import pytest

from motionlab.flow import base
from motionlab.flow.base import FlowEstimator, available_flows, build_flow, register_flow


def test_opencv_backends_registered_with_their_params():
    flows = available_flows()
    assert {"tvl1", "dis", "farneback"} <= set(flows)
    assert flows["dis"] == {"preset": "medium"}
    assert flows["tvl1"]["scale_step"] == 0.5


def test_unknown_backend_lists_valid_names():
    with pytest.raises(KeyError, match=r"unknown flow backend 'tvl2'.*'dis'.*'farneback'.*'tvl1'"):
        build_flow("tvl2")


def test_unknown_param_lists_valid_params():
    with pytest.raises(KeyError, match=r"no param\(s\) \['scale'\].*scale_step"):
        build_flow("tvl1", scale=0.5)


def test_string_values_are_typed_by_the_params_dataclass():
    est = build_flow("tvl1", scale_step="0.6", warps="4", lam=1)
    assert est.params.scale_step == 0.6 and est.params.warps == 4 and isinstance(est.params.lam, float)
    with pytest.raises(ValueError, match="'warps' must be int"):
        build_flow("tvl1", warps="many")
    with pytest.raises(ValueError, match="'warps' must be int"):
        build_flow("tvl1", warps=2.5)
    with pytest.raises(ValueError, match="unknown preset 'slow'.*ultrafast"):
        build_flow("dis", preset="slow")


def test_config_hash_follows_params_only():
    assert build_flow("dis").config_hash() == build_flow("dis", preset="medium").config_hash()
    assert build_flow("dis").config_hash() != build_flow("dis", preset="fast").config_hash()
    assert build_flow("dis").config_hash() != build_flow("farneback").config_hash()


def test_frames_are_checked_before_the_backend_sees_them():
    est = build_flow("farneback")
    frame = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="frame2 must be uint8 RGB"):
        est(frame, frame.astype(np.float32))
    with pytest.raises(ValueError, match="differ in shape"):
        est(frame, frame[:8])


def test_registered_backend_is_built_and_called(monkeypatch):
    monkeypatch.setattr(base, "FLOWS", dict(base.FLOWS))

    @dataclasses.dataclass(frozen=True)
    class ShiftParams:
        dx: float = 1.0

    @register_flow("constant")
    class Constant(FlowEstimator):
        Params = ShiftParams

        def compute(self, frame1, frame2):
            return np.stack([np.full(frame1.shape[:2], self.params.dx), np.zeros(frame1.shape[:2])])

    frames = np.zeros((3, 4, 5, 3), np.uint8)
    flow = build_flow("constant", dx="2.5").clip(frames)
    assert flow.shape == (2, 2, 4, 5) and flow.dtype == np.float32
    assert np.all(flow[:, 0] == 2.5) and np.all(flow[:, 1] == 0)
