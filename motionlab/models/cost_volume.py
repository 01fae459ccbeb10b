"""Local correlation (cost volume) in pure PyTorch: no CUDA extension, runs anywhere, exports to ONNX.

``cost[b, k, y, x] = <f1[b, :, y, x], f2[b, :, y + dy_k, x + dx_k]> / C`` for every displacement
``(dy_k, dx_k)`` in the square ``[-r, r]^2``, ``k = (dy + r) * (2r + 1) + (dx + r)`` (row-major, dy
outer); positions outside ``f2`` read zero. This is eq. 3 of UF-TSN with ``N = C``.

``CostVolume(normalize=True)`` first scales every feature vector to unit length, i.e. correlates
by cosine similarity (in [-1, 1], no ``/ C``). Raw dot products of freshly initialised features are
dominated by feature magnitude, not by similarity: on textured test pairs their argmax sits at the
true displacement for ~3% of moving pixels, against ~60% for the normalised ones, so a decoder
has something to read from the first step (see docs in ``motionlab/models/pwc_lite.py``).

A banded batched-matmul form (``motionlab.bench.flow.banded_correlation_sums``: per row offset,
GEMMs of runs of a row against the window they reach, the offsets read as a band of the product)
gives the same values; it is timed against this one by ``make bench-flow``
(``experiments/benchmarks/flow/``) and replaces it only once a run on a quiet machine shows it
faster. Definitions for the tests: ``tests/uftsn/test_warp_cost_volume.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def displacements(radius: int) -> list[tuple[int, int]]:
    """The ``(dy, dx)`` offsets in channel order of the cost volume."""
    return [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]


def local_correlation(f1: torch.Tensor, f2: torch.Tensor, radius: int) -> torch.Tensor:
    """``[B, (2r+1)^2, H, W]`` normalised dot products between ``f1`` and shifted copies of ``f2``.

    One vectorised product per displacement (81 for r = 4) over whole feature maps: the loop runs
    over offsets, never over pixels, and holds only one shifted map at a time (an ``unfold`` would
    materialise all ``C * (2r+1)^2`` shifted channels at once).
    """
    if f1.shape != f2.shape:
        raise ValueError(f"feature maps differ in shape: {tuple(f1.shape)} vs {tuple(f2.shape)}")
    h, w = f1.shape[-2:]
    channels = f1.shape[1]
    padded = F.pad(f2, (radius, radius, radius, radius))
    costs = [
        (f1 * padded[:, :, radius + dy : radius + dy + h, radius + dx : radius + dx + w]).sum(1)
        for dy, dx in displacements(radius)
    ]
    return torch.stack(costs, dim=1) / channels


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
        channels = f1.shape[1]
        return local_correlation(F.normalize(f1, dim=1), F.normalize(f2, dim=1), self.radius) * channels
