"""Stages of UF-TSN's two streams (sections 2 and 3.2) and their fusion.

``tsn_spatial``: a ResNet on single RGB frames, TSN segment sampling in training, 25 frames per
video at test. Segments span each whole video (``data.video.key_frames: null`` on real data) and
are read per item from the memory-mapped clip cache.
``tsn_motion``: ResNet-18 on stacks of ``num_flows`` flow fields. With ``flow_source: learned`` the
flow comes from the PWC-lite net of the input stage ``flow`` (step 1 of the three-stage training,
``flow_pretrain``), and this stage runs steps 2 and 3: ``warmup_fraction`` of ``max_steps`` on
detached flow with cross-entropy, then the rest end to end (cross-entropy + ``flow_loss_weight`` x
the unsupervised flow loss). With ``tvl1`` / ``dis`` / ``ground_truth`` the same classifier reads
precomputed flow (the baselines of Table 2) for all ``max_steps``. Flow lives in the on-disk flow
cache (one float16 file per video, memory-mapped; the warm-up flow of the frozen net too), never
all in RAM; ``shard: I/N`` computes one shard of that cache on one machine and stops, and the
training run checks that every shard is in.
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

from motionlab.core.errors import DataError
from motionlab.core.io import atomic_save_npy
from motionlab.data.datamodules import TSNDataModule, TSNSegments
from motionlab.data.sources import build_video_source
from motionlab.data.types import VideoSource
from motionlab.eval.metrics import top1
from motionlab.flow.base import build_flow
from motionlab.flow.cache import FlowCache, cache_key, fill_flow_cache
from motionlab.flow.videos import FLOW_NET, GROUND_TRUTH
from motionlab.lit.tsn import MotionStreamModule, SpatialStreamModule, motion_scores, spatial_scores, video_flow
from motionlab.losses.unsupervised import UnsupervisedLossParams
from motionlab.models.imagenet import imagenet_state_dict
from motionlab.models.parts import count_parameters, save_parts
from motionlab.models.pwc_lite import load_pwclite, save_pwclite
from motionlab.models.tsn import MotionClassifier, average_fusion, build_resnet
from motionlab.pipeline import Stage, StageContext, plain, register_stage
from motionlab.pseudolabel.shards import missing_shards, parse_shard, shard_indices, write_marker
from motionlab.training import build_trainer, cache_dir, fit_resumable, flow_cache_root, seed_stage

FLOW_SOURCES = ("learned", "tvl1", "dis", GROUND_TRUTH)
SCORES, LABELS = "test_scores.npy", "test_labels.npy"


def save_scores(ctx: StageContext, scores: np.ndarray, labels: np.ndarray) -> None:
    atomic_save_npy(ctx.work_dir / SCORES, scores.astype(np.float32))
    atomic_save_npy(ctx.work_dir / LABELS, labels.astype(np.int64))


def video_sources(ctx: StageContext) -> tuple[VideoSource, VideoSource]:
    """The labeled train and test videos of ``data.video``."""
    train, test = (build_video_source(ctx.cfg.data.video, split, cache_dir(ctx.cfg)) for split in ("train", "test"))
    if train.labels().min() < 0:
        raise ValueError(f"data.video source {ctx.cfg.data.video.source!r} has unlabeled videos; the TSN "
                         "streams need action labels (use data/video=synthetic_motion or a real dataset)")
    return train, test


def weights_key(name: str) -> str:
    """The config key of a stream's ImageNet weights, as the user overrides it."""
    return f"pipeline.stages.{name}.params.weights"


def fetch_imagenet(name: str, p: Any) -> None:
    """A stream's ImageNet weights in the torch hub cache before any stage runs (fetched now if
    not): no network fails the run at its start, not after the flow stage's hours."""
    if p.weights:
        imagenet_state_dict(f"resnet{p.depth}", p.weights, weights_key(name))


def datamodule(ctx: StageContext, p: Any, train: TSNSegments) -> TSNDataModule:
    return TSNDataModule(train, p.batch_size, int(ctx.cfg.trainer.num_workers), int(ctx.cfg.seed))


# ----------------------------------------------------------------------------------- spatial
@dataclass
class TSNSpatialParams:
    depth: int = 152  # paper: ResNet-152
    weights: str | None = None  # ImageNet init: IMAGENET1K_V1 (torchvision's weights API) or a file; None: random
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

    def prepare(self, name: str, params: Any) -> None:
        fetch_imagenet(name, params)

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        seed = seed_stage(ctx)
        train_src, test_src = video_sources(ctx)
        dm = datamodule(ctx, p, TSNSegments(train_src, p.num_segments, 1, seed))
        net = build_resnet(p.depth, len(train_src.class_names), 3, p.weights, weights_key(ctx.name))
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, SpatialStreamModule(net, p), dm, ctx)
        metrics: dict[str, Any] = {"params": count_parameters(net)}
        if ctx.is_rank_zero:
            scores, labels = spatial_scores(net, test_src, p.test_inputs)
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
    weights: str | None = None  # as tsn_spatial's; conv1 gets TSN's cross-modality init; None: random
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
    shard: str = ""  # "I/N": only compute shard I of N of the flow cache (train + test videos), then stop


@register_stage
class TSNMotionStage(Stage):
    kind = "tsn_motion"
    Params = TSNMotionParams
    uses = ("data.video",)
    trains = True

    def prepare(self, name: str, params: Any) -> None:
        fetch_imagenet(name, params)

    @staticmethod
    def flow_cache(ctx: StageContext, p: Any, flow_net: Any) -> tuple[FlowCache | None, Any]:
        """The flow cache this stage reads (None for the ground truth) and the estimator that fills
        it: a backend, or the frozen pretrained net (keyed by the flow stage's store key)."""
        video_cfg = plain(ctx.cfg.data.video)
        if flow_net is not None:
            key = cache_key(f"learned:{ctx.inputs['flow'].name}", video_cfg)
            return FlowCache(flow_cache_root(ctx.cfg), key), lambda sample: video_flow(flow_net, sample.frames)
        if p.flow_source == GROUND_TRUTH:
            return None, None
        estimator = build_flow(p.flow_source)
        return FlowCache(flow_cache_root(ctx.cfg), cache_key(estimator.config_hash(), video_cfg)), \
            lambda sample: estimator.clip(np.asarray(sample.frames))

    def fill_cache(self, ctx: StageContext, p: Any, cache: FlowCache, estimate: Any,
                   sources: tuple[VideoSource, ...]) -> dict[str, Any] | None:
        """Flow of every video of ``sources`` into ``cache``: all of it, or one shard (then the
        stage's metrics, and the stage stops)."""
        shard = parse_shard(p.shard)
        if shard is None:
            _, absent = missing_shards(cache.dir)
            if absent:
                raise DataError(f"{cache.dir / 'shards'}: flow shard(s) {absent} missing; run tsn_motion with "
                                "shard=I/N for each of them, or delete that folder to compute their flow here")
        computed = 0
        for source in sources:
            computed += fill_flow_cache(cache, source, shard_indices(len(source), shard), estimate)
        if shard is None:
            return None
        write_marker(cache.dir, shard, {"computed": computed})
        return {"shard": p.shard, "flow_computed": computed}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        if p.flow_source not in FLOW_SOURCES:
            raise ValueError(f"tsn_motion.flow_source={p.flow_source!r}; valid: {list(FLOW_SOURCES)}")
        seed = seed_stage(ctx)
        flow_net, flow_loss = None, None
        if p.flow_source == "learned":
            if "flow" not in ctx.inputs:
                raise ValueError("tsn_motion with flow_source=learned needs an input 'flow' (a flow_pretrain "
                                 "stage); for precomputed flow set flow_source to tvl1, dis or ground_truth")
            flow_net = load_pwclite(ctx.inputs["flow"] / FLOW_NET).train()
            flow_loss = UnsupervisedLossParams(**ctx.input_done("flow")["params"]["loss"])
        train_src, test_src = video_sources(ctx)
        pairs = len(train_src[0].frames) - 1
        if ctx.cfg.data.video.get("key_frames") is not None and pairs < p.num_flows:
            raise ValueError(f"tsn_motion.num_flows={p.num_flows} needs clips of at least {p.num_flows + 1} "
                             f"key frames, data.video gives {pairs + 1}: lower num_flows or raise "
                             "data.video.key_frames")
        cache, estimate = self.flow_cache(ctx, p, flow_net)
        test_flow = None
        if cache is not None:  # the learned net's test flow comes from the fine-tuned net, not the cache
            shard_metrics = self.fill_cache(ctx, p, cache, estimate,
                                            (train_src,) if flow_net is not None else (train_src, test_src))
            if shard_metrics is not None:
                return shard_metrics
            if flow_net is None:
                test_flow = lambda i: cache.load(test_src[i].video_id, mmap=True)  # noqa: E731
        elif test_src[0].flow_gt is None:
            raise DataError("tsn_motion.flow_source=ground_truth needs a video source with ground-truth flow "
                            "(data/video=synthetic_motion)")
        else:
            test_flow = lambda i: test_src[i].flow_gt  # noqa: E731
        if flow_net is not None:
            flow_net.train()
        segments = TSNSegments(train_src, p.num_segments, p.num_flows, seed, frames=flow_net is not None,
                               flows=cache, flow_gt=cache is None)
        dm = datamodule(ctx, p, segments)
        classifier = MotionClassifier(len(train_src.class_names), p.num_flows, p.depth, p.flow_scale,
                                      p.weights, weights_key(ctx.name))
        module = MotionStreamModule(classifier, flow_net, p, flow_loss)
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, module, dm, ctx)
        metrics: dict[str, Any] = {"classifier_params": count_parameters(classifier)}
        if flow_net is not None:
            metrics["flow_params"] = count_parameters(flow_net)
        if ctx.is_rank_zero:
            scores, labels, epe = motion_scores(classifier, test_flow, flow_net, test_src, p.num_flows,
                                                p.test_inputs)
            save_scores(ctx, scores, labels)
            parts: dict[str, nn.Module] = {"motion_classifier": classifier}
            if flow_net is not None:
                save_pwclite(ctx.work_dir / FLOW_NET, flow_net)  # the fine-tuned flow
                parts["flow_net"] = flow_net
            save_parts(ctx.work_dir, parts)
            metrics.update(top1=top1(scores, labels), num_test_videos=len(labels))
            if epe is not None:
                metrics["flow_epe"] = epe
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
