"""The LightningModule of every image-classification step (UNREG; Algorithm 1 steps 1, 3, 5)."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from motionlab.lit.optim import configure_adam


class ImageClassifierModule(pl.LightningModule):
    """``head(features(x))`` trained with cross-entropy (Lmain / L_MRA). With
    ``train_features=False`` the feature extractor is frozen and kept in eval mode (no dropout), so
    only the head learns — step 5 of Algorithm 1 updates θa alone."""

    def __init__(self, features: nn.Module, head: nn.Module, num_classes: int, lr: float, lr_decay_every: int,
                 lr_decay: float, weight_decay: float = 0.0, train_features: bool = True) -> None:
        super().__init__()
        self.features, self.head = features, head
        self.lr, self.lr_decay_every, self.lr_decay, self.weight_decay = lr, lr_decay_every, lr_decay, weight_decay
        self.train_features = train_features
        if not train_features:
            self.features.requires_grad_(False)
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_mean_class_acc = MulticlassAccuracy(num_classes, average="macro")

    def train(self, mode: bool = True) -> ImageClassifierModule:
        super().train(mode)
        if not self.train_features:
            self.features.eval()
        return self

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(image))

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self(batch["image"])

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = F.cross_entropy(self.logits(batch), batch["label"])
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """Accuracy on the held-out labeled images: where the schedule plateaus (``val/acc``)."""
        correct = (self.logits(batch).argmax(1) == batch["label"]).float()
        self.log("val/acc", correct.mean(), on_epoch=True, batch_size=len(correct))

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits = self.logits(batch)
        self.test_acc(logits, batch["label"])
        self.test_mean_class_acc(logits, batch["label"])
        self.log("test/acc", self.test_acc, on_epoch=True)
        self.log("test/mean_class_acc", self.test_mean_class_acc, on_epoch=True)

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        return configure_adam(params, self.lr, self.weight_decay, "step", step_size=self.lr_decay_every,
                              gamma=self.lr_decay)


class OracleMotionClassifierModule(ImageClassifierModule):
    """The oracle MR control: the head sees [MR*(motion); features(x)], where MR* is a learned
    embedding of the image's true motion as wide as Ours' MR: what a perfect MRA would hand the head,
    and so the most that knowing an image's motion can add to its visual features. An embedding,
    not a one-hot: the head's input dropout would hide a single one-hot entry half the time, which
    no MR of ``embed_dim`` entries suffers. Needs image batches that carry ``motion`` (synthetic data)."""

    def __init__(self, features: nn.Module, head: nn.Module, num_classes: int, num_motions: int, embed_dim: int,
                 lr: float, lr_decay_every: int, lr_decay: float, weight_decay: float = 0.0,
                 train_features: bool = True) -> None:
        super().__init__(features, head, num_classes, lr, lr_decay_every, lr_decay, weight_decay, train_features)
        self.motion_embedding = nn.Embedding(num_motions, embed_dim)

    def logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        motion = batch["motion"]
        if bool((motion < 0).any()):
            raise ValueError("the oracle motion input needs images whose true motion is known (synthetic data)")
        return self.head(torch.cat([self.motion_embedding(motion), self.features(batch["image"])], dim=1))
