"""The VRE module's training (Zhang et al., sec. 3.1): main task on labeled images + λ · proxy task
(pseudo-motion classification, first- and second-order smoothness) on unlabeled video clips.

One module serves Algorithm 1 step 2 (update θn, θc, θg, θm on L_VRE) and step 4 (update θg, θm
on L_proxy alone): ``update`` lists the parts that learn; the others are frozen and kept in eval
mode."""

from __future__ import annotations

from collections.abc import Sequence

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from motionlab.data.clips import motion_subclip_starts, other_video_rows, smoothness_starts
from motionlab.data.transforms import normalize
from motionlab.lit.optim import configure_adam
from motionlab.losses.smoothness import first_order_smoothness, second_order_smoothness
from motionlab.models.motion import MotionGRU

PROXY_LOSSES = ("motion", "smooth1", "smooth2")


class VRETrainingModule(pl.LightningModule):
    def __init__(self, encoder: nn.Module, classifier: nn.Module, gru: MotionGRU, motion_head: nn.Module, *,
                 num_classes: int, update: Sequence[str], main_weight: float, proxy_weight: float,
                 losses: Sequence[str], motion_subclip: int, delta_t: int, margin: float, image_size: int,
                 lr: float, lr_decay_every: int, lr_decay: float) -> None:
        super().__init__()
        bad = [x for x in losses if x not in PROXY_LOSSES]
        if bad:
            raise ValueError(f"unknown proxy losses {bad}; valid: {list(PROXY_LOSSES)}")
        self.encoder, self.classifier, self.gru, self.motion_head = encoder, classifier, gru, motion_head
        self.parts = {"encoder": encoder, "classifier": classifier, "gru": gru, "motion_head": motion_head}
        unknown = [u for u in update if u not in self.parts]
        if unknown:
            raise ValueError(f"unknown parts to update {unknown}; valid: {list(self.parts)}")
        self.update = list(update)
        for name, part in self.parts.items():
            part.requires_grad_(name in self.update)
        self.main_weight, self.proxy_weight, self.losses = main_weight, proxy_weight, list(losses)
        self.motion_subclip, self.delta_t, self.margin, self.image_size = motion_subclip, delta_t, margin, image_size
        self.lr, self.lr_decay_every, self.lr_decay = lr, lr_decay_every, lr_decay
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")

    def train(self, mode: bool = True) -> VRETrainingModule:
        super().train(mode)
        for name, part in self.parts.items():
            if name not in self.update:
                part.eval()
        return self

    def video_features(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 [B,T,3,H,W] -> per-frame f(x) [B,T,D] (frames resized to the image size)."""
        b, t = frames.shape[:2]
        x = normalize(frames.flatten(0, 1))
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return self.encoder(x).view(b, t, -1)

    def proxy_terms(self, video: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        feats = self.video_features(video["frames"])
        b, t = feats.shape[:2]
        terms: dict[str, torch.Tensor] = {}
        if "motion" in self.losses:
            starts = motion_subclip_starts(t, self.motion_subclip)
            logits = torch.cat([self.motion_head(self.gru(feats[:, s: s + self.motion_subclip])) for s in starts])
            labels = video["pseudo_label"].repeat(len(starts))
            terms["motion"] = F.cross_entropy(logits, labels, ignore_index=-1)
            self.log("train/motion_acc", (logits.argmax(1) == labels).float().mean())
        if {"smooth1", "smooth2"} & set(self.losses):
            other = other_video_rows(video["index"])
            t1, t2, t3 = (s.to(feats.device) for s in smoothness_starts(t, self.delta_t, b, None))
            f1, f2, f3 = (self.gru.windows(feats, s, self.delta_t) for s in (t1, t2, t3))
            if "smooth1" in self.losses:
                terms["smooth1"] = first_order_smoothness(f1, f2, f2[other], self.margin)
            if "smooth2" in self.losses:
                terms["smooth2"] = second_order_smoothness(f1, f2, f3, f3[other], self.margin)
        return terms

    def training_step(self, batch: dict[str, dict[str, torch.Tensor]], batch_idx: int) -> torch.Tensor:
        loss = torch.zeros((), device=self.device)
        if self.main_weight:
            image = batch["image"]
            main = F.cross_entropy(self.classifier(self.encoder(image["image"])), image["label"])
            self.log("train/main", main)
            loss = loss + self.main_weight * main
        if self.losses and self.proxy_weight:
            terms = self.proxy_terms(batch["video"])
            for name, value in terms.items():
                self.log(f"train/{name}", value)
            proxy = torch.stack(list(terms.values())).sum()
            self.log("train/proxy", proxy, prog_bar=True)
            loss = loss + self.proxy_weight * proxy
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """The main task's accuracy on held-out labeled images (``val/acc``)."""
        correct = (self.classifier(self.encoder(batch["image"])).argmax(1) == batch["label"]).float()
        self.log("val/acc", correct.mean(), on_epoch=True, batch_size=len(correct))

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.test_acc(self.classifier(self.encoder(batch["image"])), batch["label"])
        self.log("test/acc", self.test_acc, on_epoch=True)

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return configure_adam(params, self.lr, 0.0, "step", step_size=self.lr_decay_every, gamma=self.lr_decay)
