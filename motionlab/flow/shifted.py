"""Frame pairs with exactly known flow, for tests and benchmarks: a smooth random texture and a copy
shifted by a whole number of pixels, so the true flow is (dx, dy) everywhere (up to the borders,
where the shifted frame shows what the first one did not)."""

from __future__ import annotations

import cv2
import numpy as np

from motionlab.flow.metrics import endpoint_error


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """uint8 RGB texture with structure at several scales (what every estimator needs to lock on)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((height, width, 3), np.float32)
    for sigma, weight in ((6.0, 1.0), (2.0, 0.7), (1.0, 0.4)):
        layer = cv2.GaussianBlur(rng.standard_normal((height, width, 3)).astype(np.float32), (0, 0), sigma)
        out += weight * layer / layer.std()
    out = (out - out.min()) / (out.max() - out.min()) * 255
    return out.astype(np.uint8)


def shifted_pair(height: int, width: int, dx: int, dy: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two crops of one texture with frame2(x + d) = frame1(x): the flow from 1 to 2 is (dx, dy)."""
    pad = max(abs(dx), abs(dy))
    world = texture(height + 2 * pad, width + 2 * pad, seed)
    frame1 = world[pad:pad + height, pad:pad + width]
    frame2 = world[pad - dy:pad - dy + height, pad - dx:pad - dx + width]
    return np.ascontiguousarray(frame1), np.ascontiguousarray(frame2)


def interior_epe(flow: np.ndarray, dx: float, dy: float, margin: int) -> float:
    """EPE of flow [2, H, W] against the constant (dx, dy), ``margin`` pixels away from the borders."""
    gt = np.stack([np.full(flow.shape[1:], dx, np.float32), np.full(flow.shape[1:], dy, np.float32)])
    inner = (slice(None), slice(margin, -margin), slice(margin, -margin))
    return endpoint_error(flow[inner], gt[inner])
