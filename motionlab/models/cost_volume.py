"""Local correlation (cost volume) in pure PyTorch: no CUDA extension, runs anywhere, exports to ONNX.

``cost[b, k, y, x] = <f1[b, :, y, x], f2[b, :, y + dy_k, x + dx_k]> / C`` for every displacement
``(dy_k, dx_k)`` in the square ``[-r, r]^2``, ``k = (dy + r) * (2r + 1) + (dx + r)`` (row-major, dy
outer); positions outside ``f2`` read zero. This is eq. 3 of UF-TSN with ``N = C``.

``CostVolume(normalize=True)`` first scales every feature vector to unit length, i.e. correlates
by cosine similarity (in [-1, 1], no ``/ C``). Raw dot products of freshly initialised features are
dominated by feature magnitude, not by similarity: on textured test pairs their argmax sits at the
true displacement for ~3% of moving pixels, against ~60% for the normalised ones, so a decoder
has something to read from the first step (see docs in ``motionlab/models/pwc_lite.py``).

Why batched matmuls: the cost volume is a small share of PWC-lite's arithmetic but, as one
``(f1 * shifted f2).sum(C)`` per offset, each writing a full ``[B, C, H, W]`` temporary, it was
bound by memory traffic, not arithmetic. Here each row offset is one batch of small GEMMs whose
products stay in cache, and the wanted offsets are gathered as a band of them. Only pad,
reshape, slice, concat, matmul and gather: the graph exports to ONNX (``Tensor.unfold`` /
``as_strided`` windows do not). Equal to the definition in values and gradients
(``tests/uftsn/test_warp_cost_volume.py``); the nets' speed with it: ``make bench-flow``
(``experiments/benchmarks/flow/``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

BLOCK = 16  # pixels of a row per GEMM: wider wastes products outside the band, narrower makes tiny GEMMs


def displacements(radius: int) -> list[tuple[int, int]]:
    """The ``(dy, dx)`` offsets in channel order of the cost volume."""
    return [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]


def correlation_sums(f1: torch.Tensor, f2: torch.Tensor, radius: int, block: int = BLOCK) -> torch.Tensor:
    """``[B, (2r+1)^2, H, W]`` dot products between ``f1`` and shifted copies of ``f2`` (not divided).

    Each row of ``f1`` is cut into runs of ``block`` pixels; a run meets the ``block + 2r`` pixels
    of a row of ``f2`` that its offsets reach (its window: the run's own columns and ``2r`` more).
    Per row offset ``dy``, one batched matmul gives every run times its window, ``[block, block +
    2r]``; pixel ``x`` of a run wants columns ``x .. x + 2r`` of its row, a band gathered from it.
    Channels-last inputs (the backend's layout) are read without a transposing copy.
    """
    if f1.shape != f2.shape:
        raise ValueError(f"feature maps differ in shape: {tuple(f1.shape)} vs {tuple(f2.shape)}")
    b, c, h, w = f1.shape
    side, block = 2 * radius + 1, max(block, 2 * radius)  # a window then reaches into the next run only
    runs = (w + block - 1) // block  # not -(-w // block): ONNX divides integers toward zero
    extra = runs * block - w
    first = f1.permute(0, 2, 3, 1)  # [B, H, W, C]
    if extra:
        first = F.pad(first, (0, 0, 0, extra))
    first = first.reshape(b, h, runs, block, c)
    # f2 padded by r around (the zeros outside), then to runs + 1 whole runs wide
    second = F.pad(f2.permute(0, 2, 3, 1), (0, 0, radius, extra + block - radius, radius, radius))
    rows = h + 2 * radius
    own = second[:, :, : runs * block].reshape(b, rows, runs, block, c)
    beyond = second[:, :, block:].reshape(b, rows, runs, block, c)[:, :, :, : 2 * radius]
    windows = torch.cat((own, beyond), 3).transpose(-1, -2)  # [B, H + 2r, runs, C, block + 2r]
    band = (torch.arange(block, device=f1.device)[:, None] + torch.arange(side, device=f1.device))
    band = band.expand(b, h, runs, block, side)  # pixel x of a run reads window columns x .. x + 2r
    costs = [torch.gather(torch.matmul(first, windows[:, dy : dy + h]), -1, band) for dy in range(side)]
    cost = torch.stack(costs, -2).reshape(b, h, runs * block, side * side)[:, :, :w]
    return cost.permute(0, 3, 1, 2)


def local_correlation(f1: torch.Tensor, f2: torch.Tensor, radius: int) -> torch.Tensor:
    """``[B, (2r+1)^2, H, W]`` normalised dot products (eq. 3: divided by the channels)."""
    return correlation_sums(f1, f2, radius) / f1.shape[1]


class CostVolume(nn.Module):
    """Module wrapper so the search radius (default 4 -> 81 channels) and the normalisation are part
    of the model config."""

    def __init__(self, radius: int = 4, normalize: bool = False) -> None:
        super().__init__()
        self.radius, self.normalize = radius, normalize

    @property
    def out_channels(self) -> int:
        return (2 * self.radius + 1) ** 2

    def forward(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        if not self.normalize:
            return local_correlation(f1, f2, self.radius)
        return correlation_sums(F.normalize(f1, dim=1), F.normalize(f2, dim=1), self.radius)
