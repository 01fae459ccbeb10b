"""UF-TSN's two streams (sections 2 and 3.2): the spatial ResNet on single RGB frames and the motion
classifier on stacked flow, trained with TSN's segment sampling and consensus; and their
video-level scores on ``test_inputs`` inputs spread uniformly over each test video."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from motionlab.data.clips import gather_snippets, sample_snippets, snippet_indices, uniform_test_starts
from motionlab.data.transforms import normalize
from motionlab.data.types import VideoSource
from motionlab.lit.optim import configure_adam
from motionlab.losses.unsupervised import UnsupervisedLossParams, bidirectional_loss, unsupervised_loss
from motionlab.models.pwc_lite import PWCLite
from motionlab.models.tsn import MotionClassifier, average_scores


class SpatialStreamModule(pl.LightningModule):
    """``p``: the ``tsn_spatial`` params (``num_segments``, ``lr``, ``weight_decay``)."""

    def __init__(self, net: nn.Module, p: Any) -> None:
        super().__init__()
        self.net, self.p = net, p

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        frames = batch["frames"]
        b, t = frames.shape[:2]
        index = sample_snippets(b, t, self.p.num_segments, 1)
        images = normalize(gather_snippets(frames, index).flatten(0, 2))
        logits = self.net(images).view(b, self.p.num_segments, -1).mean(1)  # segmental consensus
        loss = F.cross_entropy(logits, batch["label"])
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        return configure_adam(self.net.parameters(), self.p.lr, self.p.weight_decay)


class MotionStreamModule(pl.LightningModule):
    """The motion classifier on stacked flow. During warm-up it reads the batch's ``flows``
    (precomputed, or the frozen flow net's: detached flow, computed once per video instead of every
    step); after, with a flow net, flow comes from the frames and the net trains end to end."""

    def __init__(self, classifier: MotionClassifier, flow_net: PWCLite | None, p: Any,
                 flow_loss: UnsupervisedLossParams | None = None) -> None:
        super().__init__()
        self.classifier, self.flow_net, self.p, self.flow_loss = classifier, flow_net, p, flow_loss
        self.warmup_steps = round(p.max_steps * p.warmup_fraction)

    def flows_and_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Flows ``[B, T-1, 2, H, W]`` of the batch and, when fine-tuning, the unsupervised flow loss."""
        if self.flow_net is None or self.global_step < self.warmup_steps:
            return batch["flow_gt" if self.p.flow_source == "ground_truth" else "flows"].float(), None
        frames = batch["frames"].float() / 255.0
        b, t = frames.shape[:2]
        img1, img2 = frames[:, :-1].flatten(0, 1), frames[:, 1:].flatten(0, 1)
        if self.flow_loss.occlusion:  # the forward-backward check needs the backward flows too
            scales, backward = self.flow_net.bidirectional(img1, img2)
            loss, _ = bidirectional_loss(scales, backward, img1, img2, self.flow_loss)
        else:  # each frame's pyramid once, though the frame is in two pairs
            scales = self.flow_net.flow_sequence(frames, all_scales=True)
            loss, _ = unsupervised_loss(scales, img1, img2, self.flow_loss)
        return scales[0].unflatten(0, (b, t - 1)), loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        flows, flow_loss = self.flows_and_loss(batch)
        b, pairs = flows.shape[:2]
        index = sample_snippets(b, pairs, self.p.num_segments, self.p.num_flows)
        stacks = gather_snippets(flows, index).flatten(0, 1)  # [B*S, num_flows, 2, H, W]
        logits = self.classifier(stacks).view(b, self.p.num_segments, -1).mean(1)
        loss = F.cross_entropy(logits, batch["label"])
        self.log("train/ce", loss, prog_bar=True)
        if flow_loss is not None:
            self.log("train/flow_loss", flow_loss)
            loss = loss + self.p.flow_loss_weight * flow_loss
        return loss

    def configure_optimizers(self):
        groups = [{"params": self.classifier.parameters(), "lr": self.p.lr}]
        if self.flow_net is not None:
            groups.append({"params": self.flow_net.parameters(), "lr": self.p.flow_lr})
        return configure_adam(groups, self.p.lr, self.p.weight_decay)


@torch.inference_mode()
def spatial_scores(net: nn.Module, source: VideoSource, test_inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """Video-level probabilities from ``test_inputs`` frames spread uniformly over each video."""
    net.eval()
    scores, labels = [], []
    for i in range(len(source)):
        sample = source[i]
        starts = uniform_test_starts(len(sample.frames), 1, test_inputs)
        images = normalize(torch.from_numpy(sample.frames[starts]).permute(0, 3, 1, 2))
        scores.append(average_scores(net(images)[None])[0].numpy())
        labels.append(sample.label)
    return np.stack(scores), np.array(labels)


@torch.inference_mode()
def motion_scores(classifier: MotionClassifier, flows: np.ndarray | None, flow_net: PWCLite | None,
                  source: VideoSource, num_flows: int, test_inputs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Video-level probabilities from ``test_inputs`` flow stacks spread uniformly over each video
    (flow of every pair computed once per video), the labels, and the flows used."""
    classifier.eval()
    scores, labels, used = [], [], []
    for i in range(len(source)):
        sample = source[i]
        if flow_net is not None:
            frames = torch.from_numpy(sample.frames).permute(0, 3, 1, 2).float()[None] / 255.0
            video_flow = flow_net.eval().flow_sequence(frames)[0]
        else:
            video_flow = torch.from_numpy(flows[i])
        starts = uniform_test_starts(len(video_flow), num_flows, test_inputs)
        stacks = video_flow[torch.from_numpy(snippet_indices(starts, num_flows, len(video_flow)))]
        scores.append(average_scores(classifier(stacks)[None])[0].numpy())
        labels.append(sample.label)
        used.append(video_flow.numpy())
    return np.stack(scores), np.array(labels), np.stack(used)
