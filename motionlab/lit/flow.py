"""UF-TSN step 1: PWC-lite trained on unlabeled video pairs with the multi-scale unsupervised loss,
forward and backward (the paper's backward-flow augmentation)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from motionlab.data.clips import random_pairs
from motionlab.data.types import VideoSource
from motionlab.lit.optim import configure_adam
from motionlab.losses.unsupervised import UnsupervisedLossParams, bidirectional_loss, unsupervised_loss
from motionlab.models.pwc_lite import PWCLite


def random_crop(img1: torch.Tensor, img2: torch.Tensor, size: list[int] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """One random ``[h, w]`` window, the same in both frames (None: the whole frames). Training on
    crops of 256x340 frames keeps a CPU step affordable; the net is fully convolutional."""
    if not size:
        return img1, img2
    h, w = img1.shape[-2:]
    ch, cw = min(int(size[0]), h), min(int(size[1]), w)
    y, x = int(torch.randint(0, h - ch + 1, ())), int(torch.randint(0, w - cw + 1, ()))
    return img1[..., y:y + ch, x:x + cw], img2[..., y:y + ch, x:x + cw]


class UnsupervisedFlowModule(pl.LightningModule):
    """``p``: the stage params (``loss``, ``bidirectional``, ``lr``, ``weight_decay``, ``crop``)."""

    def __init__(self, net: PWCLite, p: Any) -> None:
        super().__init__()
        self.net, self.p = net, p

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        img1, img2 = random_crop(*random_pairs(batch["frames"]), self.p.crop)
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
