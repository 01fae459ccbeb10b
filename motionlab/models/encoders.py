"""CNN encoders f(.) and two-fc-layer heads, built from torchvision architectures (random init).

The paper splits AlexNet after its first fc layer: f(.) = conv layers + fc6 (4096-d), and the
visual classifier p_c = the last two fc layers. ``alexnet_small`` keeps that layout at 64 px for
CPU-scale data, so every method runs the same code path on either.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn
from torchvision import models

from motionlab.models.imagenet import load_imagenet_weights

ARCHS = ("alexnet", "alexnet_small", "vgg16", "vgg16_small")  # what build_encoder builds


class Encoder(nn.Module):
    """conv features -> pooled -> one fc layer: the ``feature_dim`` visual representation."""

    def __init__(self, features: nn.Module, pool: nn.Module, fc: nn.Module, feature_dim: int) -> None:
        super().__init__()
        self.features, self.pool, self.fc = features, pool, fc
        self.feature_dim = feature_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


class ClassifierHead(nn.Sequential):
    """Two fc layers (the paper's p_c, p_m and p_a all have this shape)."""

    def __init__(self, in_dim: int, hidden: int, num_classes: int, dropout: float = 0.5) -> None:
        super().__init__(nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, num_classes))


def _alexnet_small_features() -> nn.Module:
    """AlexNet's five convs (strided first conv, three pools) at ~1/60 of its FLOPs for 64 px input."""
    return nn.Sequential(
        nn.Conv2d(3, 24, 5, stride=2, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(24, 48, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(48, 64, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(64, 48, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
    )


# VGG16's layout (configuration "D": 13 convs in five blocks) at 1/8 of its widths, for 64 px input;
# built with BatchNorm, without which it does not leave chance at CPU-scale schedules (conf/model/vgg16_small.yaml).
VGG16_SMALL = [8, 8, "M", 16, 16, "M", 32, 32, 32, "M", 64, 64, 64, "M", 64, 64, 64, "M"]


def build_encoder(cfg: DictConfig) -> Encoder:
    """The encoder named by ``cfg.arch`` (alexnet | alexnet_small | vgg16 | vgg16_small), random init
    unless ``cfg.weights`` points to a local torchvision state_dict."""
    dim, drop = int(cfg.feature_dim), float(cfg.dropout)
    if cfg.arch in ("alexnet_small", "vgg16_small") and cfg.get("weights"):
        full = cfg.arch.removesuffix("_small")
        raise ValueError(f"{cfg.arch} has no pretrained weights; use model={full} for SUP-FT")
    if cfg.arch == "alexnet_small":
        fc = nn.Sequential(nn.Dropout(drop), nn.Linear(48 * 4 * 4, dim), nn.ReLU(inplace=True))
        return Encoder(_alexnet_small_features(), nn.AdaptiveMaxPool2d(4), fc, dim)
    if cfg.arch == "vgg16_small":
        fc = nn.Sequential(nn.Linear(64 * 2 * 2, dim), nn.ReLU(inplace=True), nn.Dropout(drop))
        return Encoder(models.vgg.make_layers(VGG16_SMALL, batch_norm=True), nn.AdaptiveMaxPool2d(2), fc, dim)
    if cfg.arch == "alexnet":
        net = models.alexnet(weights=None)
        if cfg.get("weights"):
            load_imagenet_weights(net, cfg.weights, cfg.arch, head="classifier.6.", key="model.weights")
        fc = nn.Sequential(*list(net.classifier.children())[:3])  # Dropout, fc6, ReLU
        if dim != 4096:
            raise ValueError("alexnet's fc6 is 4096-d; set model.feature_dim=4096")
        return Encoder(net.features, net.avgpool, fc, dim)
    if cfg.arch == "vgg16":
        net = models.vgg16(weights=None)
        if cfg.get("weights"):
            load_imagenet_weights(net, cfg.weights, cfg.arch, head="classifier.6.", key="model.weights")
        fc = nn.Sequential(*list(net.classifier.children())[:3])  # fc6, ReLU, Dropout
        return Encoder(net.features, net.avgpool, fc, dim)
    raise ValueError(f"unknown model.arch {cfg.arch!r}; valid: {list(ARCHS)}")
