"""All clip and segment sampling: where the sub-clips of Zhang et al.'s proxy task start inside a
k-key-frame clip, TSN's segment sampling and test inputs (UF-TSN; the training draw per video is
``motionlab.data.datamodules.TSNSegments``), and the random pairs and
windows that flow and motion training read from a batch of clips."""

from __future__ import annotations

import math

import numpy as np
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


def segment_starts(num_frames: int, num_segments: int, snippet_len: int,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """TSN sampling: split the valid start positions into ``num_segments`` equal segments and take a
    random start in each (training, ``rng`` given) or each segment's centre (``rng`` None).
    A video shorter than one snippet starts every snippet at 0 (the reader repeats frames)."""
    valid = max(num_frames - snippet_len + 1, 1)
    edges = np.linspace(0, valid, num_segments + 1)
    if rng is None:
        starts = (edges[:-1] + edges[1:]) / 2
    else:
        starts = edges[:-1] + rng.random(num_segments) * (edges[1:] - edges[:-1])
    return np.minimum(starts.astype(np.int64), valid - 1)


def uniform_test_starts(num_frames: int, snippet_len: int, num_inputs: int = 25) -> np.ndarray:
    """The test protocol: ``num_inputs`` snippet starts spread uniformly over the video."""
    valid = max(num_frames - snippet_len + 1, 1)
    return np.linspace(0, valid - 1, num_inputs).round().astype(np.int64)


def snippet_indices(starts: np.ndarray, snippet_len: int, num_frames: int) -> np.ndarray:
    """``[len(starts), snippet_len]`` frame indices, clamped so short videos repeat their last frame."""
    return np.minimum(starts[:, None] + np.arange(snippet_len)[None, :], num_frames - 1)


def random_pairs(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One random consecutive pair per clip of uint8 ``[B, T, 3, H, W]``, as floats in [0, 1]."""
    b, t = frames.shape[:2]
    first = torch.randint(0, t - 1, (b,))
    rows = torch.arange(b)
    return frames[rows, first].float() / 255.0, frames[rows, first + 1].float() / 255.0


def random_window(batch: dict[str, torch.Tensor], length: int) -> dict[str, torch.Tensor]:
    """One random window of ``length`` key frames, the same for the whole batch: ``frames`` and,
    where present, the ``length - 1`` ground-truth flows between them."""
    start = int(torch.randint(0, batch["frames"].shape[1] - length + 1, ()))
    window = {"frames": batch["frames"][:, start:start + length]}
    if "flow_gt" in batch:
        window["flow_gt"] = batch["flow_gt"][:, start:start + length - 1]
    return window
