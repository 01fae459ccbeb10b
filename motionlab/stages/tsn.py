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

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from motionlab.core.io import atomic_save_npy
from motionlab.data.datamodules import VideoClipDataModule
from motionlab.data.sources import build_video_source
from motionlab.eval.metrics import top1
from motionlab.flow.metrics import endpoint_error
from motionlab.flow.videos import FLOW_NET, GROUND_TRUTH, precomputed_flows, predict_flows, video_flows
from motionlab.lit.tsn import MotionStreamModule, SpatialStreamModule, motion_scores, spatial_scores
from motionlab.losses.unsupervised import UnsupervisedLossParams
from motionlab.models.parts import count_parameters, save_parts
from motionlab.models.pwc_lite import load_pwclite, save_pwclite
from motionlab.models.tsn import MotionClassifier, average_fusion, build_resnet
from motionlab.pipeline import Stage, StageContext, plain, register_stage
from motionlab.training import build_trainer, cache_dir, fit_resumable, flow_cache_root, seed_stage

FLOW_SOURCES = ("learned", "tvl1", "dis", GROUND_TRUTH)
SCORES, LABELS = "test_scores.npy", "test_labels.npy"


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
        fit_resumable(trainer, SpatialStreamModule(net, p), dm, ctx)
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
            flow_net = load_pwclite(ctx.inputs["flow"] / FLOW_NET).train()
            flow_loss = UnsupervisedLossParams(**ctx.input_done("flow")["params"]["loss"])
        train_src = build_video_source(ctx.cfg.data.video, "train", cache_dir(ctx.cfg))
        pairs = len(train_src[0].frames) - 1
        if pairs < p.num_flows:
            raise ValueError(f"tsn_motion.num_flows={p.num_flows} needs clips of at least {p.num_flows + 1} "
                             f"key frames, data.video gives {pairs + 1}: lower num_flows or raise "
                             "data.video.key_frames")
        if flow_net is not None:  # step 2 trains on detached flow: the frozen net's, computed once
            extras = {"flows": predict_flows(flow_net, train_src, p.eval_batch_size).astype(np.float16)}
            flow_net.train()
        elif p.flow_source != GROUND_TRUTH:
            extras = {"flows": precomputed_flows(p.flow_source, train_src, flow_cache_root(ctx.cfg),
                                                 plain(ctx.cfg.data.video)).astype(np.float16)}
        dm = video_datamodule(ctx, p, extras)
        test_src = dm.sets["test"].source
        if flow_net is None:
            test_flows = video_flows(p.flow_source, test_src, flow_cache_root(ctx.cfg), plain(ctx.cfg.data.video),
                                     "tsn_motion.flow_source=ground_truth")
        classifier = MotionClassifier(num_classes(dm), p.num_flows, p.depth, p.flow_scale, p.weights_path)
        module = MotionStreamModule(classifier, flow_net, p, flow_loss)
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, module, dm, ctx)
        metrics: dict[str, Any] = {"classifier_params": count_parameters(classifier)}
        if flow_net is not None:
            metrics["flow_params"] = count_parameters(flow_net)
        if ctx.is_rank_zero:
            scores, labels, flows = motion_scores(classifier, test_flows, flow_net, test_src, p.num_flows,
                                                  p.test_inputs)
            save_scores(ctx, scores, labels)
            parts: dict[str, nn.Module] = {"motion_classifier": classifier}
            if flow_net is not None:
                save_pwclite(ctx.work_dir / FLOW_NET, flow_net)  # the fine-tuned flow
                parts["flow_net"] = flow_net
            save_parts(ctx.work_dir, parts)
            metrics.update(top1=top1(scores, labels), num_test_videos=len(labels))
            if test_src[0].flow_gt is not None:
                gt = np.stack([test_src[i].flow_gt for i in range(len(test_src))])
                metrics["flow_epe"] = endpoint_error(flows, gt)
        return metrics


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
