"""UF-TSN's two streams (sections 2 and 3.2): the spatial ResNet on single RGB frames and the motion
classifier on stacked flow, trained with TSN's segment sampling (done per video by
``motionlab.data.datamodules.TSNSegments``, over the whole video) and consensus; and their
video-level scores on ``test_inputs`` inputs spread uniformly over each test video."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from motionlab.data.clips import snippet_indices, uniform_test_starts
from motionlab.data.transforms import normalize
from motionlab.data.types import VideoSource
from motionlab.flow.metrics import endpoint_error
from motionlab.lit.optim import configure_adam
from motionlab.losses.unsupervised import UnsupervisedLossParams, bidirectional_loss, unsupervised_loss
from motionlab.models.pwc_lite import PWCLite
from motionlab.models.tsn import MotionClassifier, average_scores


class SpatialStreamModule(pl.LightningModule):
    """``p``: the ``tsn_spatial`` params (``lr``, ``weight_decay``); batches of ``frames``
    ``[B, S, 1, 3, H, W]``, one frame per segment."""

    def __init__(self, net: nn.Module, p: Any) -> None:
        super().__init__()
        self.net, self.p = net, p

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        frames = batch["frames"]
        b, s = frames.shape[:2]
        logits = self.net(normalize(frames.flatten(0, 2))).view(b, s, -1).mean(1)  # segmental consensus
        loss = F.cross_entropy(logits, batch["label"])
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        return configure_adam(self.net.parameters(), self.p.lr, self.p.weight_decay)


class MotionStreamModule(pl.LightningModule):
    """The motion classifier on stacked flow. During warm-up it reads the batch's ``flows``
    ``[B, S, L, 2, H, W]`` (precomputed, or the frozen flow net's: detached flow, computed once per
    video into the flow cache instead of every step); after, with a flow net, flow comes from the
    snippets' ``frames`` ``[B, S, L+1, 3, H, W]`` and the net trains end to end."""

    def __init__(self, classifier: MotionClassifier, flow_net: PWCLite | None, p: Any,
                 flow_loss: UnsupervisedLossParams | None = None) -> None:
        super().__init__()
        self.classifier, self.flow_net, self.p, self.flow_loss = classifier, flow_net, p, flow_loss
        self.warmup_steps = round(p.max_steps * p.warmup_fraction)

    def flows_and_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Flow stacks ``[B, S, L, 2, H, W]`` of the batch and, when fine-tuning, the unsupervised flow loss."""
        if self.flow_net is None or self.global_step < self.warmup_steps:
            return batch["flows"].float(), None
        frames = batch["frames"].float() / 255.0
        b, s, t = frames.shape[:3]
        clips = frames.flatten(0, 1)
        img1, img2 = clips[:, :-1].flatten(0, 1), clips[:, 1:].flatten(0, 1)
        if self.flow_loss.occlusion:  # the forward-backward check needs the backward flows too
            scales, backward = self.flow_net.bidirectional(img1, img2)
            loss, _ = bidirectional_loss(scales, backward, img1, img2, self.flow_loss)
        else:  # each frame's pyramid once, though the frame is in two pairs
            scales = self.flow_net.flow_sequence(clips, all_scales=True)
            loss, _ = unsupervised_loss(scales, img1, img2, self.flow_loss)
        return scales[0].unflatten(0, (b, s, t - 1)), loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        flows, flow_loss = self.flows_and_loss(batch)
        b, s = flows.shape[:2]
        logits = self.classifier(flows.flatten(0, 1)).view(b, s, -1).mean(1)
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
def video_flow(net: PWCLite, frames: np.ndarray, chunk: int = 32) -> np.ndarray:
    """Flow ``[T-1, 2, H, W]`` of ``net`` between consecutive frames ``[T, H, W, 3]`` of one video,
    ``chunk`` pairs per pass, so a whole video never sits on the device at once."""
    net.eval()
    out = []
    for start in range(0, len(frames) - 1, chunk):
        clip = torch.from_numpy(np.ascontiguousarray(frames[start:start + chunk + 1])).permute(0, 3, 1, 2)
        out.append(net.flow_sequence(clip.float()[None] / 255.0)[0].numpy())
    return np.concatenate(out)


@torch.inference_mode()
def spatial_scores(net: nn.Module, source: VideoSource, test_inputs: int) -> tuple[np.ndarray, np.ndarray]:
    """Video-level probabilities from ``test_inputs`` frames spread uniformly over each video."""
    net.eval()
    scores, labels = [], []
    for i in range(len(source)):
        sample = source[i]
        starts = uniform_test_starts(len(sample.frames), 1, test_inputs)
        images = normalize(torch.from_numpy(np.ascontiguousarray(sample.frames[starts])).permute(0, 3, 1, 2))
        scores.append(average_scores(net(images)[None])[0].numpy())
        labels.append(sample.label)
    return np.stack(scores), np.array(labels)


@torch.inference_mode()
def motion_scores(classifier: MotionClassifier, flow_of: Callable[[int], np.ndarray] | None,
                  flow_net: PWCLite | None, source: VideoSource, num_flows: int, test_inputs: int
                  ) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Video-level probabilities from ``test_inputs`` flow stacks spread uniformly over each video
    (flow of video ``i`` from ``flow_of(i)``, or computed by ``flow_net``), the labels, and the EPE
    over every pair of every video where the source has ground truth (else None). One video's flow
    in memory at a time."""
    classifier.eval()
    scores, labels = [], []
    error_sum, pairs = 0.0, 0
    for i in range(len(source)):
        sample = source[i]
        flow = video_flow(flow_net, sample.frames) if flow_net is not None else np.asarray(flow_of(i), np.float32)
        starts = uniform_test_starts(len(flow), num_flows, test_inputs)
        stacks = torch.from_numpy(flow[snippet_indices(starts, num_flows, len(flow))])
        scores.append(average_scores(classifier(stacks)[None])[0].numpy())
        labels.append(sample.label)
        if sample.flow_gt is not None:
            error_sum += endpoint_error(flow, np.asarray(sample.flow_gt, np.float32)) * len(flow)
            pairs += len(flow)
    return np.stack(scores), np.array(labels), error_sum / pairs if pairs else None
