"""The real-image ground truth: frame 2 sampled along the true flow gives back frame 1 wherever a
match is marked valid, and the masks mean what they say."""

from __future__ import annotations

import cv2
import numpy as np

from motionlab.flow.homography import make_pair


def _textures(height: int = 96, width: int = 128) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 255, (2, height // 4, width // 4, 3), dtype=np.uint8)
    return tuple(cv2.resize(s, (width, height), interpolation=cv2.INTER_CUBIC) for s in small)


def test_frame2_along_the_flow_is_frame1_on_valid_pixels():
    scene, texture = _textures()
    pair = make_pair(scene, texture, np.random.default_rng(0), shift=6.0, patch_shift=10.0)
    h, w = scene.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    back = cv2.remap(pair.frames[1], xs + pair.flow[0], ys + pair.flow[1], cv2.INTER_LINEAR)
    error = np.abs(back.astype(float) - pair.frames[0].astype(float)).mean(-1)
    interior = pair.valid & ~pair.boundary  # bilinear resampling blends across the patch edge
    assert interior.mean() > 0.6
    assert np.median(error[interior]) < 6.0  # two bilinear resamplings of a sharp texture
    assert np.median(error[~pair.valid]) > np.median(error[interior])  # the masked pixels do not match


def test_masks_patch_moves_independently_and_boundaries_lie_between():
    scene, texture = _textures()
    pair = make_pair(scene, texture, np.random.default_rng(1))
    assert pair.flow.shape == (2, *scene.shape[:2]) and pair.flow.dtype == np.float32
    assert pair.moving.any() and (~pair.moving & pair.valid).any() and pair.boundary.any()
    assert not (pair.moving & ~pair.valid).any() and not (pair.boundary & ~pair.valid).any()
    patch_mean = pair.flow[:, pair.moving].mean(1)
    background_mean = pair.flow[:, pair.valid & ~pair.moving].mean(1)
    assert np.hypot(*(patch_mean - background_mean)) > 0.5
