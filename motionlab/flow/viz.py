"""Flow as colour (the Middlebury colour wheel of Baker et al., via torchvision): hue is the
direction, saturation the magnitude relative to the largest one shown."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torchvision.utils import flow_to_image

from motionlab.core.io import atomic_write_bytes


def flow_to_rgb(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """uint8 RGB [H, W, 3] (or [N, H, W, 3]) of flow [2, H, W] (or [N, 2, H, W]).

    By default the largest magnitude present is full saturation (for a batch, the largest in the
    batch, so its frames compare). ``max_magnitude`` fixes that scale instead, so that maps drawn
    one at a time compare too; longer vectors are clipped to it."""
    flow = np.asarray(flow, dtype=np.float32)
    if flow.ndim not in (3, 4) or flow.shape[-3] != 2:
        raise ValueError(f"flow must be [2, H, W] or [N, 2, H, W], got {flow.shape}")
    batch = flow if flow.ndim == 4 else flow[None]
    if max_magnitude is not None:
        if max_magnitude <= 0:
            raise ValueError(f"max_magnitude must be positive, got {max_magnitude}")
        norm = np.sqrt((batch**2).sum(axis=1, keepdims=True))
        batch = batch * np.minimum(1.0, max_magnitude / np.maximum(norm, 1e-12))
        # torchvision scales by the largest vector present: add one of length max_magnitude
        marker = np.zeros((*batch.shape[:3], 1), np.float32)
        marker[:, 0, 0, 0] = max_magnitude
        batch = np.concatenate([batch, marker], axis=3)
    rgb = flow_to_image(torch.from_numpy(np.ascontiguousarray(batch))).permute(0, 2, 3, 1).numpy()
    if max_magnitude is not None:
        rgb = rgb[:, :, :-1]
    return np.ascontiguousarray(rgb if flow.ndim == 4 else rgb[0])


def save_rgb_png(path: Path | str, rgb: np.ndarray) -> None:
    """Write uint8 RGB [H, W, 3] as PNG, atomically."""
    path = Path(path)
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"{path}: PNG encoding failed for an image of shape {rgb.shape}")
    atomic_write_bytes(path, png.tobytes())
