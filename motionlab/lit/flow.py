"""UF-TSN step 1: PWC-lite trained on unlabeled video pairs with the multi-scale unsupervised loss,
forward and backward (the paper's backward-flow augmentation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from motionlab.data.clips import random_pairs
from motionlab.data.types import VideoSource
from motionlab.lit.optim import configure_adam
from motionlab.losses.unsupervised import UnsupervisedLossParams, bidirectional_loss, unsupervised_loss
from motionlab.models.pwc_lite import PWCLite
from motionlab.models.warp import backward_warp, pixel_grid
from motionlab.pipeline import plain


def random_crop(img1: torch.Tensor, img2: torch.Tensor, size: list[int] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """One random ``[h, w]`` window, the same in both frames (None: the whole frames). Training on
    crops of 256x340 frames keeps a CPU step affordable; the net is fully convolutional."""
    if not size:
        return img1, img2
    h, w = img1.shape[-2:]
    ch, cw = min(int(size[0]), h), min(int(size[1]), w)
    y, x = int(torch.randint(0, h - ch + 1, ())), int(torch.randint(0, w - cw + 1, ()))
    return img1[..., y:y + ch, x:x + cw], img2[..., y:y + ch, x:x + cw]


@dataclass
class CameraMotion:
    """Bounds of the random camera motion ``camera_motion`` adds to frame 2 of a training pair: a
    shift of up to ``shift`` px, a rotation of up to ``rotation_deg`` and a zoom of up to ``zoom``
    (fraction) about the frame centre, drawn uniformly per pair."""

    shift: float = 16.0
    rotation_deg: float = 5.0
    zoom: float = 0.05


def camera_motion(img2: torch.Tensor, motion: CameraMotion) -> torch.Tensor:
    """Frame 2 resampled under a random similarity per pair (borders replicated). Footage from a
    fixed camera moves a pixel or less between frames, so zero flow nearly minimises the photometric
    loss there and the net learns to output it; the added camera motion gives every pair
    displacements of several pixels, and the loss still needs no ground truth."""
    b, _, h, w = img2.shape
    angle = torch.deg2rad((torch.rand(b) * 2 - 1) * motion.rotation_deg).view(b, 1, 1)
    scale = (1 + (torch.rand(b) * 2 - 1) * motion.zoom).view(b, 1, 1)
    shift = ((torch.rand(b, 2) * 2 - 1) * motion.shift).view(b, 2, 1, 1)
    grid = pixel_grid(img2)[0]
    x, y = grid[0] - (w - 1) / 2, grid[1] - (h - 1) / 2
    src = torch.stack((scale * (torch.cos(angle) * x - torch.sin(angle) * y),
                       scale * (torch.sin(angle) * x + torch.cos(angle) * y)), 1)
    flow = src - torch.stack((x, y))[None] + shift
    return backward_warp(img2, flow.to(img2.dtype), padding_mode="border")


class UnsupervisedFlowModule(pl.LightningModule):
    """``p``: the stage params (``loss``, ``bidirectional``, ``lr``, ``weight_decay``, ``crop``,
    ``camera_motion``)."""

    def __init__(self, net: PWCLite, p: Any) -> None:
        super().__init__()
        self.net, self.p = net, p

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        img1, img2 = random_pairs(batch["frames"])
        if self.p.camera_motion is not None:
            img2 = camera_motion(img2, CameraMotion(**plain(self.p.camera_motion)))
        img1, img2 = random_crop(img1, img2, self.p.crop)
        if self.p.bidirectional:
            loss, terms = bidirectional_loss(*self.net.bidirectional(img1, img2), img1, img2, self.p.loss)
        else:
            loss, terms = unsupervised_loss(self.net(img1, img2), img1, img2, self.p.loss)
        self.log("train/loss", loss, prog_bar=True)
        for name, value in terms.items():
            self.log(f"train/{name}", value)
        return loss

    def configure_optimizers(self):
        return configure_adam(self.net.parameters(), self.p.lr, self.p.weight_decay)


@torch.inference_mode()
def held_out_loss(net: PWCLite, source: VideoSource, loss: UnsupervisedLossParams) -> dict[str, float]:
    """Mean unsupervised loss (full-resolution flow only) over every consecutive pair of the held-out
    clips, of the net and of zero flow: where no ground truth exists, the one measure that the
    net learned to match anything (it should end well below the zero-flow value)."""
    net.eval()
    totals = {"loss": [], "loss_zero": []}
    for i in range(len(source)):
        frames = torch.from_numpy(np.ascontiguousarray(source[i].frames)).permute(0, 3, 1, 2).float() / 255.0
        img1, img2 = frames[:-1], frames[1:]
        flow = net.flow_sequence(frames[None])[0]
        totals["loss"].append(float(unsupervised_loss([flow], img1, img2, loss)[0]))
        totals["loss_zero"].append(float(unsupervised_loss([torch.zeros_like(flow)], img1, img2, loss)[0]))
    return {f"test_{name}": float(np.mean(values)) for name, values in totals.items()}
