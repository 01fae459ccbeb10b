"""UF-TSN step 1: PWC-lite trained on unlabeled video pairs with the multi-scale unsupervised loss,
forward and backward (the paper's backward-flow augmentation)."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch

from motionlab.data.clips import random_pairs
from motionlab.lit.optim import configure_adam
from motionlab.losses.unsupervised import bidirectional_loss, unsupervised_loss
from motionlab.models.pwc_lite import PWCLite


class UnsupervisedFlowModule(pl.LightningModule):
    """``p``: the stage params (``loss``, ``bidirectional``, ``lr``, ``weight_decay``)."""

    def __init__(self, net: PWCLite, p: Any) -> None:
        super().__init__()
        self.net, self.p = net, p

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        img1, img2 = random_pairs(batch["frames"])
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
