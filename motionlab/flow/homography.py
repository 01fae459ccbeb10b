"""Real-image frame pairs with exact ground-truth flow: a photo under a random homography (the
camera) with an independently moving textured patch on top (an object, hence a motion boundary).

Frame 1 shows the photo and the patch; frame 2 the photo warped by the homography ``S`` and the
patch moved by its own affine map ``A``. The flow of a frame-1 pixel ``p`` is ``A(p) - p`` on the
patch and ``S(p) - p`` elsewhere, exactly (both frames are rendered from those maps). A pixel has no
match in frame 2, and is masked out of every EPE, where its target leaves the frame or (background)
lands under the patch in frame 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from motionlab.core.errors import DataError
from motionlab.flow.metrics import motion_boundary_band


@dataclass(frozen=True)
class HomographyPair:
    """``frames`` uint8 ``[2, H, W, 3]``, ``flow`` float32 ``[2, H, W]``; masks bool ``[H, W]``:
    ``valid`` (a visible match), ``moving`` (the patch, valid), ``boundary`` (valid, near a motion
    boundary)."""

    frames: np.ndarray
    flow: np.ndarray
    valid: np.ndarray
    moving: np.ndarray
    boundary: np.ndarray


def read_rgb(path: Path, height: int, width: int) -> np.ndarray:
    """``path`` resized to cover ``height x width`` (aspect kept) and centre-cropped."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DataError(f"{path}: cannot read the image")
    h, w = bgr.shape[:2]
    scale = max(height / h, width / w)
    resized = cv2.resize(bgr, (max(width, round(w * scale)), max(height, round(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y, x = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    return cv2.cvtColor(resized[y:y + height, x:x + width], cv2.COLOR_BGR2RGB)


def random_homography(rng: np.random.Generator, height: int, width: int, shift: float, angle_deg: float,
                      zoom: float, perspective: float) -> np.ndarray:
    """A 3x3 map about the frame centre: rotation, zoom, a shift of up to ``shift`` px, and a mild
    perspective term (``perspective`` px of corner displacement)."""
    cx, cy = width / 2, height / 2
    a = np.deg2rad(rng.uniform(-angle_deg, angle_deg))
    s = 1 + rng.uniform(-zoom, zoom)
    centre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    rot = np.array([[s * np.cos(a), -s * np.sin(a), 0], [s * np.sin(a), s * np.cos(a), 0], [0, 0, 1]])
    persp = np.eye(3)
    persp[2, :2] = rng.uniform(-1, 1, 2) * perspective / (cx * max(cx, cy))
    back = np.array([[1, 0, cx + rng.uniform(-shift, shift)], [0, 1, cy + rng.uniform(-shift, shift)], [0, 0, 1]])
    return back @ persp @ rot @ centre


def apply(matrix: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = matrix[2, 0] * xs + matrix[2, 1] * ys + matrix[2, 2]
    return ((matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2]) / d,
            (matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]) / d)


def make_pair(scene: np.ndarray, texture: np.ndarray, rng: np.random.Generator, shift: float = 8.0,
              patch_shift: float = 14.0, boundary_radius: int = 2) -> HomographyPair:
    """One pair from a ``scene`` photo and a ``texture`` photo for the patch (both ``[H, W, 3]``)."""
    height, width = scene.shape[:2]
    camera = random_homography(rng, height, width, shift, 3.0, 0.04, 2.0)
    ph, pw = int(rng.uniform(0.25, 0.4) * height), int(rng.uniform(0.2, 0.35) * width)
    top, left = int(rng.uniform(0.15, 0.85) * height - ph / 2), int(rng.uniform(0.15, 0.85) * width - pw / 2)
    shape = np.zeros((height, width), np.uint8)
    cv2.ellipse(shape, (left + pw // 2, top + ph // 2), (pw // 2, ph // 2), float(rng.uniform(0, 180)), 0, 360, 1, -1)
    patch_map = random_homography(rng, height, width, 0.0, 6.0, 0.06, 0.0)
    patch_map[2] = [0, 0, 1]  # affine: rotate/zoom about the frame centre ...
    cx, cy = left + pw / 2, top + ph / 2  # ... moved to act about the patch centre, plus its own shift
    gx, gy = apply(patch_map, np.array([cx]), np.array([cy]))
    patch_map[:2, 2] += [cx - gx[0] + rng.uniform(-patch_shift, patch_shift),
                         cy - gy[0] + rng.uniform(-patch_shift, patch_shift)]

    size = (width, height)
    warp = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    inverse = lambda m: np.linalg.inv(m)  # noqa: E731  (warpPerspective wants dst -> src with this flag)
    texture2 = cv2.warpPerspective(texture, inverse(patch_map), size, flags=warp, borderMode=cv2.BORDER_REFLECT)
    shape2 = cv2.warpPerspective(shape, inverse(patch_map), size, flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    scene2 = cv2.warpPerspective(scene, inverse(camera), size, flags=warp, borderMode=cv2.BORDER_REFLECT)
    frame1 = np.where(shape[..., None] > 0, texture, scene)
    frame2 = np.where(shape2[..., None] > 0, texture2, scene2)

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    on_patch = shape > 0
    tx, ty = apply(camera, xs, ys)
    px, py = apply(patch_map, xs, ys)
    tx, ty = np.where(on_patch, px, tx), np.where(on_patch, py, ty)
    flow = np.stack((tx - xs, ty - ys)).astype(np.float32)
    inside = (tx >= 0) & (tx <= width - 1) & (ty >= 0) & (ty <= height - 1)
    covered = cv2.remap(shape2, tx.astype(np.float32), ty.astype(np.float32), cv2.INTER_NEAREST,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    valid = inside & (on_patch | ~covered)
    boundary = motion_boundary_band(torch.from_numpy(flow)[None], 1.0, boundary_radius)[0].numpy()
    return HomographyPair(np.stack((frame1, frame2)), flow, valid, valid & on_patch, valid & boundary)


def photo_pairs(photos: list[Path], height: int, width: int, seed: int = 0) -> list[HomographyPair]:
    """One pair per photo (the patch textured with the next photo), reproducible from ``seed``."""
    if len(photos) < 2:
        raise DataError(f"need at least 2 photos for scene + patch, got {len(photos)}")
    rng = np.random.default_rng(seed)
    images = [read_rgb(p, height, width) for p in photos]
    return [make_pair(images[i], images[(i + 1) % len(images)], rng) for i in range(len(images))]
