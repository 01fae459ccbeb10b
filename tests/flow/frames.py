"""Synthetic inputs for flow tests: a smooth random texture and exact integer translations of it."""

from __future__ import annotations

import cv2
import numpy as np

def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """uint8 RGB texture with structure at several scales (what every estimator needs to lock on)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((height, width, 3), np.float32)
    for sigma, weight in ((6.0, 1.0), (2.0, 0.7), (1.0, 0.4)):
        layer = cv2.GaussianBlur(rng.standard_normal((height, width, 3)).astype(np.float32), (0, 0), sigma)
        out += weight * layer / layer.std()
    out = (out - out.min()) / (out.max() - out.min()) * 255
    return out.astype(np.uint8)


def translated_pair(height: int, width: int, dx: int, dy: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two crops of one texture so that frame2(x + d) = frame1(x): true flow is (dx, dy) everywhere
    (pixels leaving the view excepted)."""
    pad = max(abs(dx), abs(dy))
    world = texture(height + 2 * pad, width + 2 * pad, seed)
    frame1 = world[pad:pad + height, pad:pad + width]
    frame2 = world[pad - dy:pad - dy + height, pad - dx:pad - dx + width]
    return np.ascontiguousarray(frame1), np.ascontiguousarray(frame2)
