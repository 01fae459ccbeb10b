"""Classical flow from OpenCV: TV-L1 (the default), DIS and Farneback.

The paper used Ce Liu's Coarse2Fine flow, which OpenCV does not ship; TV-L1 is the closest
variational method available. Its OpenCV defaults (5 scales at a step of 0.8, i.e. a coarsest
level only 2.4x smaller than the frame) lose displacements beyond ~10 px: on a 256x340 texture
shifted by (20, 10) px they give an EPE of 21 px, and 35 px for (30, 15). A scale step of 0.5
(coarsest level 16x smaller) recovers both to < 0.01 px, and is faster (0.5 s instead of 20 s per
pair, since it converges); with 3 warps instead of 5 the (30, 15) shift fails again (EPE 31 px).
Measured by ``motionlab/bench/flow_backends.py`` (experiments/benchmarks/flow_backends/).
OpenCV stops the pyramid where a level would be under 16 px, so small frames cannot follow large
motion at all (a 96x128 frame has 3 levels: shifts beyond ~10 px fail whatever the settings).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from motionlab.flow.base import FlowEstimator, register_flow


def to_gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def _as_flow(hw2: np.ndarray) -> np.ndarray:
    """OpenCV's [H, W, 2] -> ours [2, H, W]."""
    return np.ascontiguousarray(hw2.transpose(2, 0, 1), dtype=np.float32)


class _OpenCVFlow(FlowEstimator):
    def implementation(self) -> str:
        return f"opencv-{cv2.__version__}"


@dataclass(frozen=True)
class TVL1Params:
    """cv2.optflow.DualTVL1OpticalFlow; ``lam`` is OpenCV's ``lambda`` (data-term weight)."""

    tau: float = 0.25
    lam: float = 0.15
    theta: float = 0.3
    scales: int = 5
    scale_step: float = 0.5  # OpenCV default 0.8: too shallow a pyramid for large motion
    warps: int = 5
    epsilon: float = 0.01
    inner_iterations: int = 30
    outer_iterations: int = 10
    gamma: float = 0.0
    median_filtering: int = 5

    def __post_init__(self) -> None:
        if not 0.0 < self.scale_step < 1.0:
            raise ValueError(f"tvl1: scale_step must be in (0, 1), got {self.scale_step}")
        if self.scales < 1 or self.warps < 1:
            raise ValueError(f"tvl1: scales and warps must be >= 1, got {self.scales}, {self.warps}")


@register_flow("tvl1")
class TVL1Flow(_OpenCVFlow):
    """Dual TV-L1 (Zach et al. 2007) with a pyramid deep enough for large displacements."""

    Params = TVL1Params

    def __init__(self, params: TVL1Params | None = None) -> None:
        super().__init__(params)
        p = self.params
        self._tvl1 = cv2.optflow.DualTVL1OpticalFlow_create(
            tau=p.tau, lambda_=p.lam, theta=p.theta, nscales=p.scales, warps=p.warps, epsilon=p.epsilon,
            innnerIterations=p.inner_iterations,  # sic: OpenCV's keyword has three n's
            outerIterations=p.outer_iterations, scaleStep=p.scale_step, gamma=p.gamma,
            medianFiltering=p.median_filtering)

    def compute(self, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        # OpenCV lowers its stored scale count when a frame is too small for it (levels stop at
        # 16 px) and keeps the lowered count for every later, larger frame: reset it on each call.
        self._tvl1.setScalesNumber(self.params.scales)
        return _as_flow(self._tvl1.calc(to_gray(frame1), to_gray(frame2), None))


DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


@dataclass(frozen=True)
class DISParams:
    """cv2.DISOpticalFlow (Kroeger et al. 2016) by preset."""

    preset: str = "medium"

    def __post_init__(self) -> None:
        if self.preset not in DIS_PRESETS:
            raise ValueError(f"dis: unknown preset {self.preset!r}; valid: {list(DIS_PRESETS)}")


@register_flow("dis")
class DISFlow(_OpenCVFlow):
    """Dense Inverse Search: patch-based, an order of magnitude faster than TV-L1."""

    Params = DISParams

    def __init__(self, params: DISParams | None = None) -> None:
        super().__init__(params)
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[self.params.preset])

    def compute(self, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        return _as_flow(self._dis.calc(to_gray(frame1), to_gray(frame2), None))


@dataclass(frozen=True)
class FarnebackParams:
    """cv2.calcOpticalFlowFarneback (polynomial expansion), OpenCV sample's settings with 5 levels."""

    pyr_scale: float = 0.5
    levels: int = 5
    winsize: int = 15
    iterations: int = 3
    poly_n: int = 5
    poly_sigma: float = 1.2
    gaussian_window: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.pyr_scale < 1.0:
            raise ValueError(f"farneback: pyr_scale must be in (0, 1), got {self.pyr_scale}")


@register_flow("farneback")
class FarnebackFlow(_OpenCVFlow):
    Params = FarnebackParams

    def compute(self, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        p = self.params
        flags = cv2.OPTFLOW_FARNEBACK_GAUSSIAN if p.gaussian_window else 0
        flow = cv2.calcOpticalFlowFarneback(to_gray(frame1), to_gray(frame2), None, p.pyr_scale, p.levels,
                                            p.winsize, p.iterations, p.poly_n, p.poly_sigma, flags)
        return _as_flow(flow)
