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
