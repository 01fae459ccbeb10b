"""Stages of the CGMU paper (Shen et al., ECCV 2020; design and choices in docs/cgmu.md).

``cgmu_motion``: the paper's method end to end: self-supervised training of the coarse-to-fine
motion network on unlabeled video (the shared unsupervised flow loss: photometric L1 + census +
edge-aware smoothness on the upsampled motion, plus the same loss on the low-res motion).

``cgmu_upsample``: the upsampling probe: only the upsampler (and the branch that feeds it) is trained
with the same loss, on top of the ideal low-res motion, so upsamplers are compared on identical input.

Both then report EPE against the synthetic ground truth, overall and in a band around ground-truth
motion boundaries, and save the model for ``cgmu_action``: the downstream task of the abstract, an
action classifier on the motion maps of the frozen model (or on ground-truth flow, the ceiling) for
the motion-only video setting, whose classes differ only by motion.

``motionlab-report cgmu <multirun dir> --out <dir>`` turns a ``make reproduce-cgmu`` sweep into the
table and the example figure (``motionlab.eval.cgmu_table``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from motionlab.data.datamodules import MotionMapDataModule, MotionMaps, VideoClipDataModule
from motionlab.lit.cgmu import CgmuMotionModule, evaluate_motion_model, motion_maps
from motionlab.lit.classifier import ImageClassifierModule
from motionlab.models.encoders import ClassifierHead
from motionlab.models.motion_decoder import MotionMapEncoder, build_motion_model
from motionlab.models.parts import count_parameters, load_parts, save_parts
from motionlab.pipeline import Stage, StageContext, register_stage
from motionlab.training import build_trainer, cache_dir, fit_resumable, seed_stage


# ------------------------------------------------------------------------------------- models
@dataclass
class UpsamplingParams:
    """What both motion stages share: the upsampler, the self-supervised loss, training, evaluation."""

    upsampler: str = "cgmu"  # bilinear | convex | cgmu
    flow_stride: int = 4  # low-res motion at 1/flow_stride of the frame
    context_channels: int = 16
    context_depth: int = 3
    cgmu_kernel: int = 3
    cgmu_embed_dim: int = 16
    cgmu_embed_hidden: int = 32
    cgmu_sigma: float = 0.5
    convex_mask_hidden: int = 64
    clip_len: int = 4  # frames per training window (a random window of the video's key frames)
    max_steps: int = 20000
    batch_size: int = 8
    lr: float = 1.0e-4
    lr_linear_decay: bool = True  # to zero at max_steps: the self-supervised objective is noisy at the end
    weight_decay: float = 0.0
    loss_weights: list[float] = field(default_factory=lambda: [0.2, 1.0, 50.0])  # L1, census, smooth
    census_patch: int = 3
    edge_weight: float = 10.0
    smooth_order: int = 1
    boundary_threshold: float = 1.0  # px: a GT flow jump larger than this between neighbours
    boundary_radius: int = 2  # px: half-width of the evaluation band around those jumps
    eval_batch_size: int = 16
    checkpoint_every: int = 100


@dataclass
class CgmuMotionParams(UpsamplingParams):
    arch: str = "r2plus1d_18"  # r2plus1d_18 | r3d_18 (torchvision blocks, random init)
    widths: list[int] = field(default_factory=lambda: [64, 128, 256, 512])
    blocks_per_stage: int = 2
    decoder_width: int = 64
    correlation_radius: int = 0  # 0: the abstract's plain decoder; > 0: our matching cue
    correlation_stride: int = 2
    lowres_loss_weight: float = 0.5


@dataclass
class CgmuUpsampleParams(UpsamplingParams):
    """The probe has no decoder: its upsamplers read only the context (see MotionUpsamplingNet)."""


class _MotionStage(Stage):
    """Train (unless nothing is trainable: bilinear on given motion), evaluate, save ``motion_net``."""

    uses = ("data.video",)
    trains = True
    supervised: ClassVar[bool] = False

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        seed_stage(ctx)
        dm = VideoClipDataModule(ctx.cfg.data.video, cache_dir(ctx.cfg), p.batch_size, p.eval_batch_size,
                                 int(ctx.cfg.trainer.num_workers), int(ctx.cfg.seed), splits=("train", "test"))
        dm.setup()
        key_frames = dm.sets["train"][0]["frames"].shape[0]
        if not 2 <= p.clip_len <= key_frames:
            raise ValueError(f"{self.kind}.clip_len={p.clip_len} must lie in [2, {key_frames}] (the key frames)")
        model = build_motion_model(self.kind, p)
        if count_parameters(model, trainable_only=True):
            trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
            fit_resumable(trainer, CgmuMotionModule(model, p, self.supervised), dm, ctx)
        metrics: dict[str, Any] = {"params": count_parameters(model, trainable_only=True),
                                   "upsampler_params": count_parameters(model.head, trainable_only=True)}
        if ctx.is_rank_zero:
            metrics.update(evaluate_motion_model(model, dm.test_dataloader(), p.boundary_threshold,
                                                 p.boundary_radius))
            save_parts(ctx.work_dir, {"motion_net": model})
        return metrics


@register_stage
class CgmuMotionStage(_MotionStage):
    """The paper's method end to end: video encoder -> low-res motion -> upsampler, self-supervised."""

    kind = "cgmu_motion"
    Params = CgmuMotionParams


@register_stage
class CgmuUpsampleStage(_MotionStage):
    """The upsampling probe: only the upsampler (and its branch) is trained, self-supervised, on top of
    the ideal low-res motion, so the three upsamplers are compared on identical low-res input."""

    kind = "cgmu_upsample"
    Params = CgmuUpsampleParams


@register_stage
class CgmuUpsampleSupervisedStage(CgmuUpsampleStage):
    """The probe trained on the ground truth (mean EPE): what each upsampler *can* do with this low-res
    input, the ceiling that the self-supervised probe is read against. Not a self-supervised result."""

    kind = "cgmu_upsample_supervised"
    supervised = True


# ------------------------------------------------------------------------------------- action
@dataclass
class CgmuActionParams:
    motion_source: str = "predicted"  # predicted (the input stage's network) | ground_truth (oracle)
    flow_scale: float = 0.25  # maps are multiplied by this before the classifier (px -> ~unit range)
    width: int = 32
    feature_dim: int = 128
    dropout: float = 0.5
    max_steps: int = 300
    batch_size: int = 32
    lr: float = 1.0e-3
    lr_decay_every: int = 1000
    lr_decay: float = 0.1
    weight_decay: float = 1.0e-4
    eval_batch_size: int = 16
    checkpoint_every: int = 100


@register_stage
class CgmuActionStage(Stage):
    kind = "cgmu_action"
    Params = CgmuActionParams
    uses = ("data.video",)
    trains = True

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        if p.motion_source not in ("predicted", "ground_truth"):
            raise ValueError(f"cgmu_action.motion_source={p.motion_source!r}; valid: predicted, ground_truth")
        seed_stage(ctx)
        model = None
        if p.motion_source == "predicted":
            if "motion" not in ctx.inputs:
                raise ValueError("cgmu_action with motion_source=predicted needs an input 'motion' "
                                 "(a cgmu_motion or cgmu_upsample stage)")
            done = ctx.input_done("motion")
            model = build_motion_model(done["kind"], done["params"])
            model.load_state_dict(load_parts(ctx.inputs["motion"])["motion_net"])
        videos = VideoClipDataModule(ctx.cfg.data.video, cache_dir(ctx.cfg), p.batch_size, p.eval_batch_size,
                                     0, int(ctx.cfg.seed), splits=("train", "test"))
        videos.setup()
        sets = {}
        for split in ("train", "test"):
            maps, labels = motion_maps(model, videos.sets[split], p.eval_batch_size)
            sets[split] = MotionMaps(maps * p.flow_scale, labels)
        if (sets["train"].labels < 0).any():
            raise ValueError(f"data.video source {ctx.cfg.data.video.source!r} has unlabeled videos; the action "
                             "task needs labels (use data/video=synthetic_motion)")
        num_classes = len(videos.sets["train"].source.class_names)
        in_channels = sets["train"][0]["image"].shape[0]
        encoder = MotionMapEncoder(in_channels, p.width, p.feature_dim)
        head = ClassifierHead(p.feature_dim, p.feature_dim, num_classes, p.dropout)
        module = ImageClassifierModule(encoder, head, num_classes, p.lr, p.lr_decay_every, p.lr_decay, p.weight_decay)
        dm = MotionMapDataModule(sets["train"], sets["test"], p.batch_size, p.eval_batch_size, int(ctx.cfg.seed))
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, module, dm, ctx)
        result = trainer.test(module, dataloaders=dm.test_dataloader(), verbose=False)[0]
        if ctx.is_rank_zero:
            save_parts(ctx.work_dir, {"motion_map_encoder": encoder, "classifier": head})
        return {"test_acc": 100.0 * result["test/acc"], "test_mean_class_acc": 100.0 * result["test/mean_class_acc"],
                "num_train_videos": len(sets["train"]), "num_test_videos": len(sets["test"])}
