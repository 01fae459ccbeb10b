"""Two-stream TSN of UF-TSN: a spatial ResNet on RGB, a motion ResNet-18 on 10 stacked flow fields,
and average fusion of the two streams (segment sampling and the 25 test inputs: motionlab.data.clips).

The motion stream either learns its flow (PWC-lite in front of the classifier, trained end to end)
or reads precomputed flow (the TV-L1 / DIS baselines of Table 2) through the same classifier.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision import models

from motionlab.models.imagenet import load_imagenet_weights

RESNETS = {18: models.resnet18, 34: models.resnet34, 50: models.resnet50, 101: models.resnet101,
           152: models.resnet152}


def build_resnet(depth: int, num_classes: int, in_channels: int = 3, weights: str | None = None,
                 key: str = "weights") -> nn.Module:
    """A torchvision ResNet of ``depth`` with ``in_channels`` inputs, random init unless ``weights``
    names ImageNet weights (``IMAGENET1K_V1`` through torchvision's weights API, or a local
    ``state_dict`` file: ``motionlab.models.imagenet``); ``key`` is the config key, for messages."""
    if depth not in RESNETS:
        raise ValueError(f"unknown ResNet depth {depth}; valid: {sorted(RESNETS)}")
    net = RESNETS[depth](weights=None, num_classes=num_classes)
    if in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    if weights:
        load_imagenet_weights(net, weights, f"resnet{depth}", head="fc.", key=key)
    return net


class MotionClassifier(nn.Module):
    """ResNet on ``num_flows`` stacked flow fields (``2 * num_flows`` channels, dx/dy interleaved per
    field). Flow in pixels is divided by ``flow_scale`` so typical motions land near unit range."""

    def __init__(self, num_classes: int, num_flows: int = 10, depth: int = 18, flow_scale: float = 20.0,
                 weights: str | None = None, key: str = "weights") -> None:
        super().__init__()
        self.num_flows, self.flow_scale = num_flows, flow_scale
        self.net = build_resnet(depth, num_classes, 2 * num_flows, weights, key)

    def forward(self, flows: torch.Tensor) -> torch.Tensor:
        """``flows [B, num_flows, 2, H, W]`` -> logits ``[B, num_classes]``."""
        if flows.shape[1] != self.num_flows:
            raise ValueError(f"motion classifier expects {self.num_flows} stacked flows, "
                             f"got {flows.shape[1]}")
        return self.net(flows.flatten(1, 2) / self.flow_scale)


def average_scores(logits: torch.Tensor) -> torch.Tensor:
    """Segmental consensus / test-time averaging: mean softmax over the inputs of a video,
    ``[B, S, K]`` -> ``[B, K]``."""
    return logits.softmax(-1).mean(1)


def average_fusion(*stream_scores: torch.Tensor) -> torch.Tensor:
    """Late fusion of the streams' video-level class scores (probabilities) by their mean."""
    return torch.stack(stream_scores).mean(0)
