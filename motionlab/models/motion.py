"""The GRU of the proxy task and the MRA module (Zhang et al., sec. 3.1-3.2)."""

from __future__ import annotations

import torch
from torch import nn


class MotionGRU(nn.Module):
    """One GRU cell (θg) unrolled over per-frame features; the first step gets an all-zero state,
    exactly like the MRA on a still image. ``forward`` returns the last output f̃(v)."""

    def __init__(self, feature_dim: int, hidden: int = 512) -> None:
        super().__init__()
        self.cell = nn.GRUCell(feature_dim, hidden)
        self.hidden = hidden

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """feats [B, T, D] -> [B, hidden]."""
        h = feats.new_zeros(feats.shape[0], self.hidden)
        for t in range(feats.shape[1]):
            h = self.cell(feats[:, t], h)
        return h

    def still_image(self, feat: torch.Tensor) -> torch.Tensor:
        """MR of a still image: one step from the zero state (the image as a video's first frame)."""
        return self.cell(feat, feat.new_zeros(feat.shape[0], self.hidden))

    def windows(self, feats: torch.Tensor, starts: torch.Tensor, length: int) -> torch.Tensor:
        """f̃ of the sub-clip [start, start+length) of every video: feats [B,T,D], starts [B]."""
        index = starts[:, None] + torch.arange(length, device=feats.device)[None]
        sub = torch.gather(feats, 1, index[..., None].expand(-1, -1, feats.shape[-1]))
        return self(sub)


class MotionAugmentedFeatures(nn.Module):
    """[f̃(x); f(x)] for the MRA classifier p_a (or f̃(x) alone for the "only MR" ablation)."""

    def __init__(self, encoder: nn.Module, gru: MotionGRU, only_motion: bool = False) -> None:
        super().__init__()
        self.encoder, self.gru, self.only_motion = encoder, gru, only_motion
        self.out_dim = gru.hidden + (0 if only_motion else encoder.feature_dim)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        visual = self.encoder(image)
        motion = self.gru.still_image(visual)
        return motion if self.only_motion else torch.cat([motion, visual], dim=1)
