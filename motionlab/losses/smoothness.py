"""Video-level smoothness of Zhang et al. (sec. 3.1): contrastive losses on GRU motion features of
overlapping sub-clips. Distances are Euclidean; the margin δ comes from config (paper: 1)."""

from __future__ import annotations

import torch


def contrastive_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                     margin: float) -> torch.Tensor:
    """Hadsell-style contrastive loss as the paper writes it: ``d(a, p) + max(δ - d(a, n), 0)``,
    averaged over the batch (d is the plain Euclidean distance, not its square)."""
    pos = torch.linalg.vector_norm(anchor - positive, dim=-1)
    neg = torch.linalg.vector_norm(anchor - negative, dim=-1)
    return (pos + torch.clamp(margin - neg, min=0)).mean()


def first_order_smoothness(f_t1: torch.Tensor, f_t2: torch.Tensor, f_other: torch.Tensor,
                           margin: float) -> torch.Tensor:
    """L_smooth1: sub-clips of one video that overlap by at least half (S1) are pulled together,
    a sub-clip of another video is pushed at least ``margin`` away."""
    return contrastive_loss(f_t1, f_t2, f_other, margin)


def second_order_smoothness(f_t1: torch.Tensor, f_t2: torch.Tensor, f_t3: torch.Tensor,
                            f_other: torch.Tensor, margin: float) -> torch.Tensor:
    """L_smooth2: for a triple of overlapping sub-clips the feature *change* is smooth,
    ``d̂(t1,t2) ≈ d̂(t2,t3)`` (S2), while the change towards another video's clip (Ŝ2) is not."""
    d12 = f_t1 - f_t2
    return contrastive_loss(d12, f_t2 - f_t3, f_t2 - f_other, margin)
