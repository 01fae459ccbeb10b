"""Where the sub-clips of the paper's proxy task start inside a k-key-frame clip."""

from __future__ import annotations

import math

import torch


def motion_subclip_starts(num_frames: int, length: int, count: int = 3) -> list[int]:
    """Starts of the ``count`` (k-2)-frame clips each k-frame clip is split into (paper: three)."""
    if length > num_frames:
        raise ValueError(f"motion sub-clip of {length} frames does not fit a {num_frames}-frame clip")
    last = num_frames - length
    return sorted({round(i * last / max(count - 1, 1)) for i in range(count)})


def smoothness_starts(num_frames: int, delta_t: int, batch: int, generator: torch.Generator
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random starts (t1, t2, t3) per video with |t2-t1| ≤ ⌈Δt/2⌉ and |t3-t2| ≤ ⌈Δt/2⌉: consecutive
    sub-clips of Δt frames that overlap by at least half (the sets S1 and S2)."""
    last = num_frames - delta_t
    if last < 0:
        raise ValueError(f"smoothness window Δt={delta_t} does not fit a {num_frames}-frame clip")
    reach = math.ceil(delta_t / 2)

    def step(t: torch.Tensor) -> torch.Tensor:
        lo, hi = torch.clamp(t - reach, min=0), torch.clamp(t + reach, max=last)
        return lo + (torch.rand(t.shape, generator=generator) * (hi - lo + 1)).long().clamp(max=hi - lo)

    t1 = torch.randint(0, last + 1, (batch,), generator=generator)
    t2 = step(t1)
    return t1, t2, step(t2)


def other_video_rows(video_ids: torch.Tensor) -> torch.Tensor:
    """For each row of a batch, a row holding a *different* video: the negative of S1 and the third
    clip of Ŝ2. The previous row, cyclically (the batch is shuffled each epoch), or the nearest
    earlier one whose video differs where a sampler repeats a video in a batch (DDP padding)."""
    b = len(video_ids)
    rows = torch.arange(b, device=video_ids.device)
    candidates = (rows[:, None] - rows[None, 1:]) % b  # row i: i-1, i-2, ... (cyclic)
    differs = video_ids[candidates] != video_ids[:, None]
    if b < 2 or not bool(differs.any(1).all()):
        raise ValueError(f"the smoothness losses need clips of at least two different videos per batch; got video "
                         f"ids {video_ids.tolist()}: raise the video batch size (per device)")
    return candidates[rows, differs.int().argmax(1)]
