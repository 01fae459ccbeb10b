"""Stages of UF-TSN's two streams (sections 2 and 3.2) and their fusion.

``tsn_spatial``: a ResNet on single RGB frames, TSN segment sampling in training, 25 frames per
video at test.
``tsn_motion``: ResNet-18 on stacks of ``num_flows`` flow fields. With ``flow_source: learned`` the
flow comes from the PWC-lite net of the input stage ``flow`` (step 1 of the three-stage training,
``flow_pretrain``), and this stage runs steps 2 and 3: ``warmup_fraction`` of ``max_steps`` on
detached flow with cross-entropy, then the rest end to end (cross-entropy + ``flow_loss_weight`` x
the unsupervised flow loss). With ``tvl1`` / ``dis`` / ``ground_truth`` the same classifier reads
precomputed flow (the baselines of Table 2) for all ``max_steps``.
``tsn_fusion``: the average of the two streams' video-level scores (Table 1's last row).

Both streams write ``test_scores.npy`` (video-level class probabilities) and ``test_labels.npy``.
``motionlab-report uftsn`` turns sweeps into the Table 1 / Table 2 / Table 3 analogues.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from motionlab.data.datamodules import VideoClipDataModule
from motionlab.data.sources import build_video_source
from motionlab.data.transforms import normalize
from motionlab.data.types import VideoSource
from motionlab.flow.metrics import endpoint_error
from motionlab.models.parts import save_parts
from motionlab.models.pwc_lite import PWCLite, count_parameters, load_pwclite, save_pwclite
from motionlab.models.tsn import (
    MotionClassifier,
    average_fusion,
    average_scores,
    build_resnet,
    segment_starts,
    snippet_indices,
    uniform_test_starts,
)
from motionlab.pipeline import Stage, StageContext, atomic_save_npy, register_stage
from motionlab.stages.flow_pretrain import CHECKPOINT, precomputed_flows, predict_flows, unsupervised_loss
from motionlab.training import build_trainer, cache_dir, fit_resumable, seed_stage

FLOW_SOURCES = ("learned", "tvl1", "dis", "ground_truth")
SCORES, LABELS = "test_scores.npy", "test_labels.npy"


# ---------------------------------------------------------------------------------- sampling
def sample_snippets(batch_size: int, length: int, num_segments: int, snippet_len: int) -> torch.Tensor:
    """``[B, S, snippet_len]`` indices: TSN's random snippet per segment, one draw per video, from
    torch's RNG (restored on resume, so a resumed run samples the same snippets)."""
    seed = int(torch.randint(0, 2**31 - 1, ()))
    rng = np.random.default_rng(seed)
    starts = np.stack([segment_starts(length, num_segments, snippet_len, rng) for _ in range(batch_size)])
    return torch.from_numpy(snippet_indices(starts.reshape(-1), snippet_len, length)).view(
        batch_size, num_segments, snippet_len)


def gather_snippets(items: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``items [B, L, ...]`` at ``index [B, S, n]`` -> ``[B, S, n, ...]``."""
    rows = torch.arange(items.shape[0]).view(-1, 1, 1)
    return items[rows, index]


def top1(scores: np.ndarray, labels: np.ndarray) -> float:
    return 100.0 * float((scores.argmax(1) == labels).mean())


def save_scores(ctx: StageContext, scores: np.ndarray, labels: np.ndarray) -> None:
    atomic_save_npy(ctx.work_dir / SCORES, scores.astype(np.float32))
    atomic_save_npy(ctx.work_dir / LABELS, labels.astype(np.int64))


def video_datamodule(ctx: StageContext, p: Any,
                     extras: dict[str, np.ndarray] | None = None) -> VideoClipDataModule:
    dm = VideoClipDataModule(ctx.cfg.data.video, cache_dir(ctx.cfg), p.batch_size, p.eval_batch_size,
                             int(ctx.cfg.trainer.num_workers), int(ctx.cfg.seed), extras=extras,
                             splits=("train", "test"))
    dm.setup()
    if dm.sets["train"].source.labels().min() < 0:
        raise ValueError(f"data.video source {ctx.cfg.data.video.source!r} has unlabeled videos; the TSN "
                         "streams need action labels (use data/video=synthetic_motion or a real dataset)")
    return dm


def num_classes(dm: VideoClipDataModule) -> int:
    return len(dm.sets["train"].source.class_names)


# ----------------------------------------------------------------------------------- spatial
@dataclass
class TSNSpatialParams:
    depth: int = 152  # paper: ResNet-152
    weights_path: str | None = None  # local ImageNet state_dict (paper: ImageNet init); None: random
    num_segments: int = 3
    test_inputs: int = 25
    max_steps: int = 4500
    batch_size: int = 32
    lr: float = 1.0e-3  # Adam
    weight_decay: float = 5.0e-4
    eval_batch_size: int = 8
    checkpoint_every: int = 100


class SpatialStream(pl.LightningModule):
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
        return torch.optim.Adam(self.net.parameters(), lr=self.p.lr, weight_decay=self.p.weight_decay)


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


@register_stage
class TSNSpatialStage(Stage):
    kind = "tsn_spatial"
    Params = TSNSpatialParams
    uses = ("data.video",)
    trains = True

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        seed_stage(ctx)
        dm = video_datamodule(ctx, p)
        net = build_resnet(p.depth, num_classes(dm), 3, p.weights_path)
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, SpatialStream(net, p), dm, ctx)
        metrics: dict[str, Any] = {"params": count_parameters(net)}
        if ctx.is_rank_zero:
            scores, labels = spatial_scores(net, dm.sets["test"].source, p.test_inputs)
            save_scores(ctx, scores, labels)
            save_parts(ctx.work_dir, {"spatial": net})
            metrics.update(top1=top1(scores, labels), num_test_videos=len(labels))
        return metrics


# ------------------------------------------------------------------------------------ motion
@dataclass
class TSNMotionParams:
    flow_source: str = "learned"  # learned (input 'flow': a flow_pretrain stage) | tvl1 | dis | ground_truth
    num_flows: int = 10  # stacked flow fields per input (paper: 10 -> 20 channels)
    num_segments: int = 3
    test_inputs: int = 25
    depth: int = 18  # paper: ResNet-18
    weights_path: str | None = None  # local ImageNet state_dict, conv1 cross-modality init; None: random
    flow_scale: float = 20.0  # flow (px) / flow_scale enters the classifier
    max_steps: int = 6000  # steps 2 + 3
    warmup_fraction: float = 0.5  # of max_steps in step 2 (detached flow); the rest end to end (step 3)
    batch_size: int = 16
    lr: float = 1.0e-3  # Adam, classifier
    flow_lr: float = 1.0e-5  # Adam, flow net during fine-tuning
    weight_decay: float = 5.0e-4
    flow_loss_weight: float = 1.0  # unsupervised flow loss next to cross-entropy when fine-tuning
    eval_batch_size: int = 8
    checkpoint_every: int = 100


class MotionStreamModule(pl.LightningModule):
    """The motion classifier on stacked flow. During warm-up it reads the batch's ``flows``
    (precomputed, or the frozen flow net's: detached flow, computed once per video instead of every
    step); after, with a flow net, flow comes from the frames and the net trains end to end."""

    def __init__(self, classifier: MotionClassifier, flow_net: PWCLite | None, p: Any,
                 flow_loss: Any = None) -> None:
        super().__init__()
        self.classifier, self.flow_net, self.p, self.flow_loss = classifier, flow_net, p, flow_loss
        self.warmup_steps = round(p.max_steps * p.warmup_fraction)

    def flows_and_loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Flows ``[B, T-1, 2, H, W]`` of the batch and, when fine-tuning, the unsupervised flow loss."""
        if self.flow_net is None or self.global_step < self.warmup_steps:
            return batch["flow_gt" if self.p.flow_source == "ground_truth" else "flows"].float(), None
        frames = batch["frames"].float() / 255.0
        b, t = frames.shape[:2]
        scales = self.flow_net.flow_sequence(frames, all_scales=True)
        img1, img2 = frames[:, :-1].flatten(0, 1), frames[:, 1:].flatten(0, 1)
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
        return torch.optim.Adam(groups, weight_decay=self.p.weight_decay)


@torch.inference_mode()
def motion_scores(classifier: MotionClassifier, flows: np.ndarray | None, flow_net: PWCLite | None,
                  source: VideoSource, p: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        starts = uniform_test_starts(len(video_flow), p.num_flows, p.test_inputs)
        stacks = video_flow[torch.from_numpy(snippet_indices(starts, p.num_flows, len(video_flow)))]
        scores.append(average_scores(classifier(stacks)[None])[0].numpy())
        labels.append(sample.label)
        used.append(video_flow.numpy())
    return np.stack(scores), np.array(labels), np.stack(used)


def source_flows(ctx: StageContext, p: Any, source: VideoSource) -> np.ndarray:
    """Precomputed flows ``[N, T-1, 2, H, W]`` for ``flow_source`` tvl1 / dis / ground_truth."""
    if p.flow_source == "ground_truth":
        if source[0].flow_gt is None:
            raise ValueError("tsn_motion.flow_source=ground_truth needs a video source with ground-truth "
                             "flow (data/video=synthetic_motion)")
        return np.stack([source[i].flow_gt for i in range(len(source))])
    return precomputed_flows(p.flow_source, source, ctx)


@register_stage
class TSNMotionStage(Stage):
    kind = "tsn_motion"
    Params = TSNMotionParams
    uses = ("data.video",)
    trains = True

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        if p.flow_source not in FLOW_SOURCES:
            raise ValueError(f"tsn_motion.flow_source={p.flow_source!r}; valid: {list(FLOW_SOURCES)}")
        seed_stage(ctx)
        flow_net, flow_loss, extras, test_flows = None, None, None, None
        if p.flow_source == "learned":
            if "flow" not in ctx.inputs:
                raise ValueError("tsn_motion with flow_source=learned needs an input 'flow' (a flow_pretrain "
                                 "stage); for precomputed flow set flow_source to tvl1, dis or ground_truth")
            flow_net = load_pwclite(ctx.inputs["flow"] / CHECKPOINT).train()
            flow_loss = _namespace(ctx.input_done("flow")["params"]["loss"])
        train_src = build_video_source(ctx.cfg.data.video, "train", cache_dir(ctx.cfg))
        pairs = len(train_src[0].frames) - 1
        if pairs < p.num_flows:
            raise ValueError(f"tsn_motion.num_flows={p.num_flows} needs clips of at least {p.num_flows + 1} "
                             f"key frames, data.video gives {pairs + 1}: lower num_flows or raise "
                             "data.video.key_frames")
        if flow_net is not None:  # step 2 trains on detached flow: the frozen net's, computed once
            extras = {"flows": predict_flows(flow_net, train_src, p.eval_batch_size).astype(np.float16)}
            flow_net.train()
        elif p.flow_source != "ground_truth":
            extras = {"flows": source_flows(ctx, p, train_src).astype(np.float16)}
        dm = video_datamodule(ctx, p, extras)
        test_src = dm.sets["test"].source
        if flow_net is None:
            test_flows = source_flows(ctx, p, test_src)
        classifier = MotionClassifier(num_classes(dm), p.num_flows, p.depth, p.flow_scale, p.weights_path)
        module = MotionStreamModule(classifier, flow_net, p, flow_loss)
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, module, dm, ctx)
        metrics: dict[str, Any] = {"classifier_params": count_parameters(classifier)}
        if flow_net is not None:
            metrics["flow_params"] = count_parameters(flow_net)
        if ctx.is_rank_zero:
            scores, labels, flows = motion_scores(classifier, test_flows, flow_net, test_src, p)
            save_scores(ctx, scores, labels)
            parts: dict[str, nn.Module] = {"motion_classifier": classifier}
            if flow_net is not None:
                save_pwclite(ctx.work_dir / CHECKPOINT, flow_net)  # the fine-tuned flow
                parts["flow_net"] = flow_net
            save_parts(ctx.work_dir, parts)
            metrics.update(top1=top1(scores, labels), num_test_videos=len(labels))
            if test_src[0].flow_gt is not None:
                gt = np.stack([test_src[i].flow_gt for i in range(len(test_src))])
                metrics["flow_epe"] = endpoint_error(flows, gt)
        return metrics


def _namespace(d: dict[str, Any]) -> argparse.Namespace:
    return argparse.Namespace(**d)


# ------------------------------------------------------------------------------------ fusion
@dataclass
class TSNFusionParams:
    """Average fusion has no parameters (paper: the mean of the two streams' scores)."""


@register_stage
class TSNFusionStage(Stage):
    kind = "tsn_fusion"
    Params = TSNFusionParams
    seeded = False  # a function of its inputs, whose keys already carry the seed

    def run(self, ctx: StageContext) -> dict[str, Any]:
        missing = {"spatial", "motion"} - set(ctx.inputs)
        if missing:
            raise ValueError(f"tsn_fusion needs inputs 'spatial' and 'motion' (TSN stream stages); "
                             f"missing {sorted(missing)}")
        scores = {name: np.load(ctx.inputs[name] / SCORES) for name in ("spatial", "motion")}
        labels = np.load(ctx.inputs["spatial"] / LABELS)
        if not np.array_equal(labels, np.load(ctx.inputs["motion"] / LABELS)):
            raise ValueError("tsn_fusion: the two streams were tested on different videos")
        fused = average_fusion(*(torch.from_numpy(s) for s in scores.values())).numpy()
        save_scores(ctx, fused, labels)
        return {"top1": top1(fused, labels), "spatial_top1": top1(scores["spatial"], labels),
                "motion_top1": top1(scores["motion"], labels), "num_test_videos": len(labels)}
