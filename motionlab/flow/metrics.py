"""Flow accuracy."""

from __future__ import annotations

import numpy as np


def endpoint_error(flow: np.ndarray, gt: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean end-point error (Euclidean distance between flow vectors, pixels) of ``flow`` against
    ``gt``, both [..., 2, H, W]; ``mask`` [..., H, W] (bool) restricts it to valid pixels.
    NaN when the mask selects nothing."""
    if flow.shape != gt.shape or flow.ndim < 3 or flow.shape[-3] != 2:
        raise ValueError(f"flow and gt must both be [..., 2, H, W], got {flow.shape} and {gt.shape}")
    diff = flow.astype(np.float64) - gt.astype(np.float64)
    error = np.sqrt(diff[..., 0, :, :] ** 2 + diff[..., 1, :, :] ** 2)
    if mask is None:
        return float(error.mean())
    mask = np.broadcast_to(np.asarray(mask, bool), error.shape)
    return float(error[mask].mean()) if mask.any() else float("nan")
