"""The learned flow backend: a PWC-lite net trained without labels (UF-TSN), behind the same
interface as the OpenCV backends, so pseudo labels, ``motionlab-flow`` and the flow caches can use
it by name::

    motionlab-flow --method pwclite --checkpoint STORE/flow_pretrain/<key>/flow_net.pt A.png B.png

Inference runs in ``torch.inference_mode`` with the net and the frames in channels-last memory
format (the convolutions' fast layout on CPU, and the cost volume reads channels last): the
same flow as the training layout, faster.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from motionlab.core.errors import DataError
from motionlab.flow.base import FlowEstimator, register_flow


@dataclass(frozen=True)
class PWCLiteParams:
    """``checkpoint``: the ``flow_net.pt`` of a ``flow_pretrain`` stage. ``batch_pairs``: frame pairs
    per forward pass in ``clip``; ``device``: ``cpu`` or ``cuda``; ``threads``: CPU threads for
    torch (0 leaves torch's default); ``channels_last``: the memory format of net and frames."""

    checkpoint: str = ""
    batch_pairs: int = 16
    device: str = "cpu"
    threads: int = 0
    channels_last: bool = True

    def __post_init__(self) -> None:
        if not self.checkpoint:
            raise DataError("flow backend 'pwclite' needs a checkpoint: --param checkpoint=PATH/flow_net.pt "
                            "(written by the flow_pretrain stage)")
        if self.batch_pairs < 1:
            raise ValueError(f"pwclite: batch_pairs must be >= 1, got {self.batch_pairs}")


@register_flow("pwclite")
class PWCLiteFlow(FlowEstimator):
    """UF-TSN's unsupervised PWC-lite; ``clip`` runs ``batch_pairs`` pairs per pass and computes each
    frame's feature pyramid once."""

    Params = PWCLiteParams

    def __init__(self, params: PWCLiteParams | None = None) -> None:
        super().__init__(params)
        from motionlab.models.pwc_lite import load_pwclite

        if self.params.threads:
            torch.set_num_threads(self.params.threads)
        self.device = torch.device(self.params.device)
        self.memory_format = torch.channels_last if self.params.channels_last else torch.contiguous_format
        self.net = load_pwclite(self.params.checkpoint).to(self.device, memory_format=self.memory_format)

    @cached_property
    def _digest(self) -> str:
        return hashlib.sha256(Path(self.params.checkpoint).read_bytes()).hexdigest()[:16]

    def implementation(self) -> str:
        """Flow changes with the weights, not only with the path: key caches by the file's digest."""
        return f"pwclite-{self._digest}-torch-{torch.__version__}"

    def _to_tensor(self, frames: np.ndarray) -> torch.Tensor:
        images = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)
        return (images.permute(0, 3, 1, 2).float() / 255.0).contiguous(memory_format=self.memory_format)

    @torch.inference_mode()
    def compute(self, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        images = self._to_tensor(np.stack((frame1, frame2)))
        return self.net(images[:1], images[1:])[0][0].cpu().numpy()

    @torch.inference_mode()
    def clip(self, frames: np.ndarray) -> np.ndarray:
        if len(frames) < 2:
            raise ValueError(f"need at least 2 frames for flow, got {len(frames)}")
        out = []
        step = self.params.batch_pairs
        for start in range(0, len(frames) - 1, step):
            chunk = self._to_tensor(frames[start : start + step + 1])  # step pairs share their frames
            out.append(self.net.flow_sequence(chunk[None])[0].cpu().numpy())
        return np.concatenate(out).astype(np.float32)
