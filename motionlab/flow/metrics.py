"""Flow accuracy: end-point error overall, on moving pixels and near motion boundaries."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


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


def moving_mask(gt: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels whose ground-truth motion is at least ``threshold`` px: the moving actors, where the
    class lives (the rest is sub-pixel camera jitter, which zero flow already gets nearly right)."""
    return np.hypot(gt[..., 0, :, :], gt[..., 1, :, :]) >= threshold


def epe_map(flow: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-pixel end-point error ``[..., H, W]`` of flows ``[..., 2, H, W]`` (torch, differentiable; the
    scalar numpy mean is ``motionlab.flow.metrics.endpoint_error``)."""
    return (flow - gt).norm(dim=-3)


def motion_boundary_band(gt: torch.Tensor, threshold: float, radius: int) -> torch.Tensor:
    """``bool [N, H, W]``: pixels within ``radius`` (Chebyshev) of a ground-truth motion boundary, i.e.
    of a pixel whose flow differs from a 4-neighbour's by more than ``threshold`` px (end-point
    distance). ``gt``: ``[N, 2, H, W]``."""
    jump_x = (gt[..., :, 1:] - gt[..., :, :-1]).norm(dim=1) > threshold  # [N, H, W-1]
    jump_y = (gt[..., 1:, :] - gt[..., :-1, :]).norm(dim=1) > threshold  # [N, H-1, W]
    edge = torch.zeros(gt.shape[0], *gt.shape[-2:], dtype=torch.bool, device=gt.device)
    edge[..., :, 1:] |= jump_x
    edge[..., :, :-1] |= jump_x
    edge[..., 1:, :] |= jump_y
    edge[..., :-1, :] |= jump_y
    if radius <= 0:
        return edge
    return F.max_pool2d(edge[:, None].float(), 2 * radius + 1, stride=1, padding=radius)[:, 0] > 0


class FlowErrors:
    """Running sums of EPE overall and in the boundary band, so means are over pixels of the split."""

    def __init__(self) -> None:
        self.sum_all = self.sum_band = 0.0
        self.n_all = self.n_band = 0

    def add(self, flow: torch.Tensor, gt: torch.Tensor, band: torch.Tensor) -> None:
        epe = epe_map(flow, gt)
        self.sum_all += float(epe.sum())
        self.n_all += epe.numel()
        self.sum_band += float(epe[band].sum())
        self.n_band += int(band.sum())

    def means(self, prefix: str) -> dict[str, float]:
        return {f"{prefix}epe": self.sum_all / max(self.n_all, 1),
                f"{prefix}epe_boundary": self.sum_band / max(self.n_band, 1)}
