"""Flow upsamplers behind one interface: bilinear, RAFT-style convex, and context-guided (CGMU).

Every upsampler maps a low-resolution flow ``[B, 2, h, w]`` (pixels of the low resolution) to
``[B, 2, s*h, s*w]`` in pixels of the full resolution, i.e. vectors are multiplied by the integer
``scale`` s. All three share one call::

    up = build_upsampler(name, scale, feature_channels=Cf, context_channels=Cc, **options)
    flow_full = up(flow_lowres, context, features)   # context [B, Cc, s*h, s*w] or None,
                                                     # features [B, Cf, h, w] or None

``up.needs_context`` says whether a model must compute the context; ``features`` are optional
(convex reads them when built with ``feature_channels`` > 0). Geometry is the cell geometry of
strided convolutions and average pooling: low-res pixel ``q`` covers full-res pixels
``[q*s, (q+1)*s)`` (``align_corners=False``).

The two learned upsamplers are both "softmax over a k x k neighbourhood of the low-res flow, one
weight vector per full-res pixel" and differ only in where the weights come from:

- convex (RAFT, Teed & Deng 2020): a mask head predicts the ``9 * s * s`` weights of each low-res
  cell from the *full-resolution context, pixel-unshuffled into its cell* (every full-res position
  keeps its own channels, so no edge inside a cell is averaged away), plus the low-res decoder
  features where a decoder exists. It reads the same context as CGMU, so the two compare layers,
  not inputs;
- CGMU (Shen et al. 2020, "context guided motion upsampling"): the weights of a full-res pixel come
  from the *full-resolution spatial context* of the frame. Ours (the abstract fixes no formula, see
  docs/cgmu.md) is an affinity form: a small head embeds the context, and the logit of neighbour j
  is ``-||e(p) - e_cell(q_j)||^2 - d_j(p)^2 / (2 sigma^2)``: the context distance between the
  pixel and the neighbour cell's mean embedding, plus a fixed Gaussian prior on the distance
  between the pixel and the neighbour's centre (learned bandwidth sigma). A pixel thus takes its
  motion from neighbouring cells that look like the object it belongs to; with constant context the
  first term vanishes and the layer is a fixed, smooth (Gaussian-weighted) interpolation.
"""

from __future__ import annotations

import inspect
import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn


def _check_divisible(flow: torch.Tensor, full: torch.Tensor, scale: int, what: str) -> None:
    h, w = flow.shape[-2:]
    if tuple(full.shape[-2:]) != (h * scale, w * scale):
        raise ValueError(
            f"{what} is {tuple(full.shape[-2:])} but flow {h}x{w} x scale {scale} needs "
            f"{(h * scale, w * scale)}: pad or crop the input to a multiple of the total stride"
        )


def neighbourhood_upsample(flow: torch.Tensor, weights: torch.Tensor, scale: int) -> torch.Tensor:
    """``s * sum_j w_j(p) flow(q_j)`` over the k x k low-res neighbours ``q_j`` of each full-res
    pixel's cell. ``weights``: ``[B, k*k, s, s, h, w]`` (neighbour, sub-row, sub-col, cell row, cell
    col), normalised over dim 1. Borders replicate the flow, so a constant field stays exact (RAFT
    zero-pads, which pulls border flow towards zero)."""
    b, _, h, w = flow.shape
    k = math.isqrt(weights.shape[1])
    r = k // 2
    padded = F.pad(scale * flow, (r, r, r, r), mode="replicate")
    neighbours = F.unfold(padded, k).view(b, 2, k * k, 1, 1, h, w)
    out = (weights.unsqueeze(1) * neighbours).sum(2)  # [B, 2, s, s, h, w]
    return out.permute(0, 1, 4, 2, 5, 3).reshape(b, 2, h * scale, w * scale)


def weights_to_full_res(weights: torch.Tensor) -> torch.Tensor:
    """``[B, K, s, s, h, w]`` -> ``[B, K, s*h, s*w]``: the weight vector of every full-res pixel."""
    b, k, s, _, h, w = weights.shape
    return weights.permute(0, 1, 4, 2, 5, 3).reshape(b, k, h * s, w * s)


class FlowUpsampler(nn.Module):
    """Base class: ``forward(flow [B,2,h,w], context [B,C,sH,sW] | None, features [B,C,h,w] | None)``."""

    needs_context: ClassVar[bool] = False

    def __init__(self, scale: int) -> None:
        super().__init__()
        if scale < 1:
            raise ValueError(f"upsampling scale must be a positive integer, got {scale}")
        self.scale = int(scale)


class BilinearUpsampler(FlowUpsampler):
    """Fixed bilinear interpolation, vectors times the scale: the baseline without parameters."""

    def forward(self, flow: torch.Tensor, context: torch.Tensor | None = None,
                features: torch.Tensor | None = None) -> torch.Tensor:
        if self.scale == 1:
            return flow
        up = F.interpolate(flow, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return up * self.scale


class ConvexUpsampler(FlowUpsampler):
    """RAFT's learned convex combination of the 3 x 3 low-res neighbours; a mask head predicts
    ``9 * s * s`` logits per cell (``logit_scale`` = RAFT's 0.25) from the full-res context
    pixel-unshuffled into the cell (``[B, Cc*s*s, h, w]``), concatenated with the low-res decoder
    features when ``feature_channels`` > 0 (RAFT's input). ``feature_channels=0``: context only, as
    CGMU sees it (the upsampling probe, where there is no decoder)."""

    needs_context = True

    def __init__(self, scale: int, context_channels: int, feature_channels: int = 0, mask_hidden: int = 64,
                 logit_scale: float = 0.25) -> None:
        super().__init__(scale)
        if context_channels < 1:
            raise ValueError("convex upsampling needs context_channels (channels of the full-res context)")
        if feature_channels < 0:
            raise ValueError(f"convex feature_channels must be >= 0, got {feature_channels}")
        self.logit_scale = logit_scale
        self.uses_features = feature_channels > 0
        self.mask_head = nn.Sequential(
            nn.Conv2d(context_channels * self.scale**2 + feature_channels, mask_hidden, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(mask_hidden, 9 * self.scale**2, 1),
        )

    def mask_input(self, context: torch.Tensor, features: torch.Tensor | None) -> torch.Tensor:
        """``[B, Cc*s*s (+ Cf), h, w]``: what the mask head reads."""
        cells = F.pixel_unshuffle(context, self.scale) if self.scale > 1 else context
        if not self.uses_features:
            return cells
        if features is None:
            raise ValueError("this convex upsampler was built with feature_channels > 0: pass the low-res "
                             "decoder features (features=...)")
        return torch.cat((cells, features), 1)

    def weights(self, context: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, 9, s, s, h, w]`` softmax weights."""
        x = self.mask_input(context, features)
        b, _, h, w = x.shape
        logits = self.logit_scale * self.mask_head(x)
        return logits.view(b, 9, self.scale, self.scale, h, w).softmax(dim=1)

    def forward(self, flow: torch.Tensor, context: torch.Tensor | None = None,
                features: torch.Tensor | None = None) -> torch.Tensor:
        if context is None:
            raise ValueError("convex upsampling needs the full-resolution context (context=...)")
        _check_divisible(flow, context, self.scale, "context")
        return neighbourhood_upsample(flow, self.weights(context, features), self.scale)


def subpixel_sq_distances(scale: int, kernel_size: int) -> torch.Tensor:
    """``[k*k, s, s]`` squared distance, in low-res pixels, from full-res sub-pixel ``(i, j)`` of a
    cell to the centre of neighbour cell j (row-major offsets in ``[-k//2, k//2]^2``)."""
    r = kernel_size // 2
    offsets = torch.arange(-r, r + 1, dtype=torch.float32)
    sub = (torch.arange(scale, dtype=torch.float32) + 0.5) / scale - 0.5  # position inside the cell
    d = offsets.view(-1, 1) - sub.view(1, -1)  # [k, s]
    sq = d.pow(2)
    rows, cols = sq.view(kernel_size, 1, scale, 1), sq.view(1, kernel_size, 1, scale)
    return (rows + cols).reshape(kernel_size**2, scale, scale)


class ContextGuidedUpsampler(FlowUpsampler):
    """CGMU: per full-res pixel, softmax weights over the k x k low-res neighbourhood predicted from the
    full-res context (see the module docstring for the affinity form and why)."""

    needs_context = True

    def __init__(self, scale: int, context_channels: int, kernel_size: int = 3, embed_dim: int = 16,
                 embed_hidden: int = 32, sigma: float = 0.5) -> None:
        super().__init__(scale)
        if context_channels < 1:
            raise ValueError("CGMU needs context_channels (channels of the full-res context features)")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"CGMU kernel_size must be odd, got {kernel_size}")
        if sigma <= 0:
            raise ValueError(f"CGMU sigma must be positive, got {sigma}")
        self.kernel_size = kernel_size
        # replicate padding: constant context must give the same embedding at the border as inside
        self.embed = nn.Sequential(
            nn.Conv2d(context_channels, embed_hidden, 3, padding=1, padding_mode="replicate"),
            nn.ReLU(inplace=True),
            nn.Conv2d(embed_hidden, embed_dim, 1),
        )
        self.log_sigma = nn.Parameter(torch.tensor(math.log(sigma)))
        self.register_buffer("sq_dist", subpixel_sq_distances(self.scale, kernel_size), persistent=False)

    def weights(self, context: torch.Tensor, lowres_size: tuple[int, int]) -> torch.Tensor:
        """``[B, k*k, s, s, h, w]`` softmax weights for a low-res flow of ``lowres_size``."""
        s, k = self.scale, self.kernel_size
        h, w = lowres_size
        emb = self.embed(context)  # [B, D, sh, sw]
        b, d = emb.shape[:2]
        cell = F.avg_pool2d(emb, s) if s > 1 else emb  # each low-res cell's mean context embedding
        r = k // 2
        nb = F.unfold(F.pad(cell, (r, r, r, r), mode="replicate"), k).view(b, d, k * k, h, w)
        fine = emb.view(b, d, h, s, w, s)
        # -||e(p) - nb_j||^2 = 2 e(p).nb_j - ||nb_j||^2 - ||e(p)||^2; the last term is the same for all j
        dot = torch.einsum("bdyixj,bdkyx->bkijyx", fine, nb)
        context_logits = 2 * dot - nb.pow(2).sum(1).view(b, k * k, 1, 1, h, w)
        prior = -self.sq_dist / (2 * torch.exp(2 * self.log_sigma))
        return (context_logits + prior.view(1, k * k, s, s, 1, 1)).softmax(dim=1)

    def forward(self, flow: torch.Tensor, context: torch.Tensor | None = None,
                features: torch.Tensor | None = None) -> torch.Tensor:
        if context is None:
            raise ValueError("CGMU needs the full-resolution context features (context=...)")
        _check_divisible(flow, context, self.scale, "context")
        return neighbourhood_upsample(flow, self.weights(context, flow.shape[-2:]), self.scale)


def area_downsample_flow(flow: torch.Tensor, scale: int) -> torch.Tensor:
    """The ideal low-res motion under the cell geometry: each cell's mean flow, in low-res pixels
    (divided by ``scale``). Every upsampler here maps a constant field back to itself."""
    return F.avg_pool2d(flow, scale) / scale if scale > 1 else flow


UPSAMPLERS: dict[str, type[FlowUpsampler]] = {
    "bilinear": BilinearUpsampler,
    "convex": ConvexUpsampler,
    "cgmu": ContextGuidedUpsampler,
}


def _accepted(cls: type) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters) - {"self", "scale"}


def build_upsampler(name: str, scale: int, **kw) -> FlowUpsampler:
    """The upsampler ``name`` for an integer ``scale``. ``kw`` may hold the options of every upsampler
    (one config for all, switched by name); each takes the ones it knows, and a key that no upsampler
    knows is an error."""
    if name not in UPSAMPLERS:
        raise KeyError(f"unknown upsampler {name!r}; valid: {sorted(UPSAMPLERS)}")
    known = set().union(*(_accepted(c) for c in UPSAMPLERS.values()))
    unknown = set(kw) - known
    if unknown:
        raise TypeError(f"unknown upsampler option(s) {sorted(unknown)}; valid: {sorted(known)}")
    cls = UPSAMPLERS[name]
    mine = _accepted(cls)
    return cls(scale, **{k: v for k, v in kw.items() if k in mine})
