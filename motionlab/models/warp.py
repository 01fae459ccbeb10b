"""Backward warping and flow resizing, the two geometric utilities every flow model and loss shares.

Flow is ``float [B, 2, H, W]`` holding (dx, dy) in pixels of its own resolution: pixel ``p`` of
image 1 moves to ``p + flow(p)`` in image 2. Everything here is plain ``grid_sample`` /
``interpolate``, so it runs on CPU and GPU and exports to ONNX (opset >= 16).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_grid(flow: torch.Tensor) -> torch.Tensor:
    """Pixel coordinates ``[1, 2, H, W]`` (x, y) matching ``flow``'s size, dtype and device."""
    h, w = flow.shape[-2:]
    ys = torch.arange(h, dtype=flow.dtype, device=flow.device)
    xs = torch.arange(w, dtype=flow.dtype, device=flow.device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((grid_x, grid_y)).unsqueeze(0)


def sample_coordinates(flow: torch.Tensor) -> torch.Tensor:
    """Where each pixel of image 1 lands in image 2: ``pixel_grid + flow``, ``[B, 2, H, W]``."""
    return pixel_grid(flow) + flow


def backward_warp(source: torch.Tensor, flow: torch.Tensor, padding_mode: str = "zeros") -> torch.Tensor:
    """Resample ``source`` (image 2 or its features) at ``p + flow(p)``, giving its view aligned with
    image 1 (eq. 2 of UF-TSN). Bilinear; samples falling outside read ``padding_mode``.

    ``align_corners=True`` maps pixel centres exactly, so zero flow returns ``source`` unchanged and
    an integer flow is an exact shift.
    """
    h, w = source.shape[-2:]
    coords = sample_coordinates(flow.to(source.dtype))
    # grid_sample wants (x, y) in [-1, 1]; max(., 1) keeps a 1-pixel-wide axis finite
    norm_x = 2.0 * coords[:, 0] / max(w - 1, 1) - 1.0
    norm_y = 2.0 * coords[:, 1] / max(h - 1, 1) - 1.0
    grid = torch.stack((norm_x, norm_y), dim=-1)
    return F.grid_sample(source, grid, mode="bilinear", padding_mode=padding_mode, align_corners=True)


def out_of_bounds_mask(flow: torch.Tensor) -> torch.Tensor:
    """``[B, 1, H, W]`` 1 where ``p + flow(p)`` lies inside image 2, else 0: pixels that leave the
    frame have nothing to be compared with, so losses can ignore them."""
    h, w = flow.shape[-2:]
    coords = sample_coordinates(flow)
    inside = (coords[:, 0] >= 0) & (coords[:, 0] <= w - 1) & (coords[:, 1] >= 0) & (coords[:, 1] <= h - 1)
    return inside.unsqueeze(1).to(flow.dtype)


def resize_flow(flow: torch.Tensor, size: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Resize a flow field to ``size`` = (H, W) and rescale its vectors by the same factor per axis,
    so that displacements stay in pixels of the new resolution."""
    h, w = flow.shape[-2:]
    out_h, out_w = int(size[0]), int(size[1])
    if (out_h, out_w) == (h, w):
        return flow
    align = None if mode in ("nearest", "area") else True
    resized = F.interpolate(flow, size=(out_h, out_w), mode=mode, align_corners=align)
    scale = torch.tensor([out_w / w, out_h / h], dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1)
    return resized * scale
