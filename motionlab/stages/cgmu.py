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

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from motionlab.data.datamodules import EpochSeededSampler, VideoClipDataModule
from motionlab.data.transforms import normalize
from motionlab.losses.photometric import unsupervised_flow_loss
from motionlab.models.classifier import ImageClassifier
from motionlab.models.encoders import ClassifierHead
from motionlab.models.motion_decoder import MotionMapEncoder, MotionNet, MotionOutput, MotionUpsamplingNet
from motionlab.models.parts import load_parts, save_parts
from motionlab.models.upsample import area_downsample_flow, build_upsampler
from motionlab.pipeline import Stage, StageContext, register_stage
from motionlab.training import build_trainer, cache_dir, fit_resumable, seed_stage


# ------------------------------------------------------------------------------------ metrics
def epe_map(flow: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-pixel end-point error ``[..., H, W]`` of flows ``[..., 2, H, W]`` (torch, differentiable; the
    scalar numpy mean is ``motionlab.flow.metrics.endpoint_error``)."""
    return (flow - gt).norm(dim=-3)


def motion_boundary_band(gt: torch.Tensor, threshold: float, radius: int) -> torch.Tensor:
    """``bool [N, H, W]``: pixels within ``radius`` (Chebyshev) of a ground-truth motion boundary, i.e.
    of a pixel whose flow differs from a 4-neighbour's by more than ``threshold`` px (end-point
    distance). ``gt``: ``[N, 2, H, W]``."""
    jump_x = (gt[..., :, 1:] - gt[..., :, :-1]).norm(dim=1) > threshold  # [N, H, W-1]
    jump_y = (gt[..., 1:, :] - gt[..., :-1, :]).norm(dim=1) > threshold  # [N, H-1, W]
    edge = torch.zeros(gt.shape[0], *gt.shape[-2:], dtype=torch.bool, device=gt.device)
    edge[..., :, 1:] |= jump_x
    edge[..., :, :-1] |= jump_x
    edge[..., 1:, :] |= jump_y
    edge[..., :-1, :] |= jump_y
    if radius <= 0:
        return edge
    return F.max_pool2d(edge[:, None].float(), 2 * radius + 1, stride=1, padding=radius)[:, 0] > 0


class FlowErrors:
    """Running sums of EPE overall and in the boundary band, so means are over pixels of the split."""

    def __init__(self) -> None:
        self.sum_all = self.sum_band = 0.0
        self.n_all = self.n_band = 0

    def add(self, flow: torch.Tensor, gt: torch.Tensor, band: torch.Tensor) -> None:
        epe = epe_map(flow, gt)
        self.sum_all += float(epe.sum())
        self.n_all += epe.numel()
        self.sum_band += float(epe[band].sum())
        self.n_band += int(band.sum())

    def means(self, prefix: str) -> dict[str, float]:
        return {f"{prefix}epe": self.sum_all / max(self.n_all, 1),
                f"{prefix}epe_boundary": self.sum_band / max(self.n_band, 1)}


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
    cell_feature_channels: int = 32  # convex: low-res features from the frame and the given motion


def _upsampler_options(p: Any) -> dict[str, Any]:
    return {"kernel_size": p["cgmu_kernel"], "embed_dim": p["cgmu_embed_dim"],
            "embed_hidden": p["cgmu_embed_hidden"], "sigma": p["cgmu_sigma"], "mask_hidden": p["convex_mask_hidden"]}


def build_motion_model(kind: str, p: Any) -> MotionNet | MotionUpsamplingNet:
    """The model of a ``cgmu_motion`` or ``cgmu_upsample`` stage from its params (also a done.json's)."""
    if kind == "cgmu_motion":
        return MotionNet(p["arch"], list(p["widths"]), p["blocks_per_stage"], p["flow_stride"], p["decoder_width"],
                         p["upsampler"], p["context_channels"], p["context_depth"], _upsampler_options(p),
                         p["correlation_radius"], p["correlation_stride"])
    if kind in ("cgmu_upsample", "cgmu_upsample_supervised"):
        return MotionUpsamplingNet(p["upsampler"], p["flow_stride"], p["context_channels"], p["context_depth"],
                                   p["cell_feature_channels"], _upsampler_options(p))
    raise ValueError(f"no CGMU motion model for stage kind {kind!r}; valid: cgmu_motion, cgmu_upsample, "
                     "cgmu_upsample_supervised")


def video_frames(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 ``[B,T,3,H,W]`` -> (network input, ImageNet-normalised; images in [0, 1] for the loss)."""
    frames = batch["frames"]
    return normalize(frames), frames.float() / 255.0


def predict_motion(model: MotionNet | MotionUpsamplingNet, batch: dict[str, torch.Tensor]) -> MotionOutput:
    """Motion maps of a batch of clips. The end-to-end network reads the frames; the upsampling probe
    reads the frames and the ideal low-res motion (cell means of the ground truth)."""
    x, _ = video_frames(batch)
    if isinstance(model, MotionNet):
        return model(x)
    b, t = x.shape[:2]
    lowres = area_downsample_flow(batch["flow_gt"].flatten(0, 1), model.flow_stride)
    flow = model(x[:, :-1].flatten(0, 1), lowres)
    return MotionOutput(flow.view(b, t - 1, *flow.shape[1:]), lowres.view(b, t - 1, *lowres.shape[1:]))


def trainable(model: torch.nn.Module) -> int:
    return sum(q.numel() for q in model.parameters() if q.requires_grad)


class MotionLearner(pl.LightningModule):
    """Trains a motion model on random ``clip_len`` windows of the clips with the shared unsupervised
    flow loss: at full resolution, plus the low-res motion as a second scale for the end-to-end network.
    The probe's low-res input is given; ``flow_gt`` feeds only that input, never the loss, except with
    ``supervised`` (the ceiling run: mean EPE to the ground truth instead of the unsupervised loss)."""

    def __init__(self, model: MotionNet | MotionUpsamplingNet, p: Any, supervised: bool = False) -> None:
        super().__init__()
        self.model, self.p, self.supervised = model, p, supervised
        self.end_to_end = isinstance(model, MotionNet)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        total, n = batch["frames"].shape[1], self.p.clip_len
        start = int(torch.randint(0, total - n + 1, ()))
        window = {"frames": batch["frames"][:, start:start + n]}
        if "flow_gt" in batch:  # the probe's low-res input (real videos have none; the network needs none)
            window["flow_gt"] = batch["flow_gt"][:, start:start + n - 1]
        batch = window
        _, images = video_frames(batch)
        out = predict_motion(self.model, batch)
        if self.supervised:
            loss = epe_map(out.flow, batch["flow_gt"]).mean()
            self.log("train/loss", loss, prog_bar=True)
            return loss
        flows, scale_weights = [out.flow.flatten(0, 1)], [1.0]
        if self.end_to_end:
            flows.append(out.flow_lowres.flatten(0, 1))
            scale_weights.append(self.p.lowres_loss_weight)
        loss, terms = unsupervised_flow_loss(
            images[:, :-1].flatten(0, 1), images[:, 1:].flatten(0, 1), flows, weights=tuple(self.p.loss_weights),
            scale_weights=scale_weights, census_patch=self.p.census_patch, edge_weight=self.p.edge_weight,
            smooth_order=self.p.smooth_order)
        self.log("train/loss", loss, prog_bar=True)
        for name, value in terms.items():
            self.log(f"train/{name}", value)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.model.parameters(), lr=self.p.lr, weight_decay=self.p.weight_decay)
        if not self.p.lr_linear_decay:
            return opt
        steps = max(int(self.p.max_steps), 1)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: max(0.0, 1.0 - i / steps))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


@torch.no_grad()
def evaluate_flow(model: MotionNet | MotionUpsamplingNet, loader: DataLoader, threshold: float,
                  radius: int) -> dict[str, float]:
    """EPE of the upsampled motion, of the same low-res motion upsampled bilinearly (what the learned
    upsampler adds), and of zero motion (reference), overall and in the boundary band."""
    model.eval()
    bilinear = build_upsampler("bilinear", model.flow_stride)
    full, lowres_bilinear, zero = FlowErrors(), FlowErrors(), FlowErrors()
    for batch in loader:
        out = predict_motion(model, batch)
        gt = batch["flow_gt"].flatten(0, 1)
        band = motion_boundary_band(gt, threshold, radius)
        full.add(out.flow.flatten(0, 1), gt, band)
        lowres_bilinear.add(bilinear(out.flow_lowres.flatten(0, 1)), gt, band)
        zero.add(torch.zeros_like(gt), gt, band)
    return {**full.means(""), **lowres_bilinear.means("lowres_bilinear_"), **zero.means("zero_"),
            "boundary_fraction": zero.n_band / max(zero.n_all, 1)}


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
        if trainable(model):
            trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
            fit_resumable(trainer, MotionLearner(model, p, self.supervised), dm, ctx)
        head = [model.head] + ([model.cells] if getattr(model, "cells", None) is not None else [])
        metrics: dict[str, Any] = {"params": trainable(model), "upsampler_params": sum(map(trainable, head))}
        if ctx.is_rank_zero:
            metrics.update(evaluate_flow(model, dm.test_dataloader(), p.boundary_threshold, p.boundary_radius))
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


class MotionMaps(Dataset):
    """Stacked motion maps ``[2(T-1), H, W]`` under the ``image`` key, so ImageClassifier trains on them."""

    def __init__(self, maps: torch.Tensor, labels: torch.Tensor) -> None:
        self.maps, self.labels = maps, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": self.maps[i].flatten(0, 1), "label": self.labels[i], "index": torch.tensor(i)}


class MotionMapDataModule(pl.LightningDataModule):
    def __init__(self, train: Dataset, test: Dataset, batch_size: int, eval_batch_size: int, seed: int) -> None:
        super().__init__()
        self.train, self.test = train, test
        self.batch_size, self.eval_batch_size, self.seed = batch_size, eval_batch_size, seed

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train, self.batch_size, sampler=EpochSeededSampler(len(self.train), self.seed))

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.test, self.eval_batch_size)


@torch.no_grad()
def motion_maps(model: MotionNet | MotionUpsamplingNet | None, dataset: Dataset,
                batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-resolution motion maps ``[N, T-1, 2, H, W]`` of every video (ground truth if ``model`` is
    None) and the labels."""
    maps, labels = [], []
    if model is not None:
        model.eval()
    for batch in DataLoader(dataset, batch_size):
        maps.append(batch["flow_gt"] if model is None else predict_motion(model, batch).flow)
        labels.append(batch["label"])
    return torch.cat(maps), torch.cat(labels)


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
        module = ImageClassifier(encoder, head, num_classes, p.lr, p.lr_decay_every, p.lr_decay, p.weight_decay)
        dm = MotionMapDataModule(sets["train"], sets["test"], p.batch_size, p.eval_batch_size, int(ctx.cfg.seed))
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, module, dm, ctx)
        result = trainer.test(module, dataloaders=dm.test_dataloader(), verbose=False)[0]
        if ctx.is_rank_zero:
            save_parts(ctx.work_dir, {"motion_map_encoder": encoder, "classifier": head})
        return {"test_acc": 100.0 * result["test/acc"], "test_mean_class_acc": 100.0 * result["test/mean_class_acc"],
                "num_train_videos": len(sets["train"]), "num_test_videos": len(sets["test"])}
