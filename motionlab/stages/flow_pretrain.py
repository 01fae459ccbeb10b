"""Stage ``flow_pretrain``: step 1 of UF-TSN's three-stage training (section 3.2) — the PWC-lite
flow estimator trained on unlabeled video pairs with the multi-scale unsupervised loss, forward
and backward (the paper's backward-flow augmentation).

Then the flow is measured where ground truth exists: EPE on every consecutive key-frame pair of
the test videos, next to OpenCV TV-L1 and DIS (and zero flow) on the same pairs, and colour-wheel
figures (frame, ground truth, ours, TV-L1, DIS) are written to ``figures/``.
Artifacts: ``flow_net.pt`` (config + weights, read by ``tsn_motion`` and the ``pwclite`` flow
backend), ``figures/*.png``, ``flow_eval.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

from motionlab.data.datamodules import VideoClipDataModule
from motionlab.data.types import VideoSource
from motionlab.flow.base import build_flow
from motionlab.flow.cache import FlowCache, cache_key
from motionlab.flow.metrics import endpoint_error
from motionlab.flow.viz import flow_to_rgb, save_rgb_png
from motionlab.losses.photometric import unsupervised_flow_loss
from motionlab.models.pwc_lite import PWCLite, PWCLiteConfig, count_parameters, save_pwclite
from motionlab.pipeline import Stage, StageContext, atomic_write_text, register_stage
from motionlab.training import build_trainer, cache_dir, fit_resumable, log_image, plain

CHECKPOINT = "flow_net.pt"


@dataclass
class UnsupervisedLossParams:
    """Arguments of ``unsupervised_flow_loss``; paper values except where marked."""

    loss_weights: list[float] = field(default_factory=lambda: [0.2, 1.0, 50.0])  # lambda_1..3 (paper)
    scale_weights: list[float] | None = None  # per flow scale, finest first; None: 1 each
    census_patch: int = 3
    edge_weight: float = 1.0  # exp(-edge_weight |grad I|), eq. 8 has 1
    smooth_order: int = 1
    occlusion: bool = False  # forward-backward occlusion mask: our extension
    mask_out_of_bounds: bool = False  # ignore pixels whose match leaves the frame: our extension


@dataclass
class FlowPretrainParams:
    net: PWCLiteConfig = field(default_factory=PWCLiteConfig)
    loss: UnsupervisedLossParams = field(default_factory=UnsupervisedLossParams)
    bidirectional: bool = True  # also learn 2->1 flow (paper: augmentation)
    max_steps: int = 100000
    batch_size: int = 8  # videos per step, one random consecutive pair each
    lr: float = 1.0e-4  # Adam
    weight_decay: float = 0.0
    checkpoint_every: int = 500
    eval_batch_size: int = 8
    compare_with: list[str] = field(default_factory=lambda: ["tvl1", "dis"])  # backends on the same pairs
    moving_threshold: float = 1.0  # px: EPE is also reported on pixels moving at least this much
    num_figures: int = 4
    seed: int = 0  # the net's own seed, not the run seed (see FlowPretrainStage)


def unsupervised_loss(flows: list[torch.Tensor], img1: torch.Tensor, img2: torch.Tensor, loss: Any,
                      flows_bw: list[torch.Tensor] | None = None
                      ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``unsupervised_flow_loss`` with the stage's loss config (shared by flow pretraining and the
    end-to-end fine-tuning of ``tsn_motion``)."""
    return unsupervised_flow_loss(
        img1, img2, flows, weights=tuple(loss.loss_weights), occlusion=loss.occlusion, flows_bw=flows_bw,
        scale_weights=loss.scale_weights, census_patch=loss.census_patch, edge_weight=loss.edge_weight,
        smooth_order=loss.smooth_order, mask_out_of_bounds=loss.mask_out_of_bounds)


def random_pairs(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One random consecutive pair per clip of uint8 ``[B, T, 3, H, W]``, as floats in [0, 1]."""
    b, t = frames.shape[:2]
    first = torch.randint(0, t - 1, (b,))
    rows = torch.arange(b)
    return frames[rows, first].float() / 255.0, frames[rows, first + 1].float() / 255.0


class UnsupervisedFlow(pl.LightningModule):
    def __init__(self, net: PWCLite, p: Any) -> None:
        super().__init__()
        self.net, self.p = net, p

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        img1, img2 = random_pairs(batch["frames"])
        if self.p.bidirectional:
            fw, bw = self.net.bidirectional(img1, img2)
            loss_fw, terms = unsupervised_loss(fw, img1, img2, self.p.loss, bw)
            loss_bw, _ = unsupervised_loss(bw, img2, img1, self.p.loss, fw)
            loss = (loss_fw + loss_bw) / 2
        else:
            loss, terms = unsupervised_loss(self.net(img1, img2), img1, img2, self.p.loss)
        self.log("train/loss", loss, prog_bar=True)
        for name, value in terms.items():
            self.log(f"train/{name}", value)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.p.lr, weight_decay=self.p.weight_decay)


@torch.inference_mode()
def predict_flows(net: PWCLite, source: VideoSource, batch_size: int) -> np.ndarray:
    """Flows ``[N, T-1, 2, H, W]`` between consecutive key frames of every video of ``source``."""
    net.eval()
    out = []
    for start in range(0, len(source), batch_size):
        frames = np.stack([source[i].frames for i in range(start, min(start + batch_size, len(source)))])
        clip = torch.from_numpy(frames).permute(0, 1, 4, 2, 3).float() / 255.0
        out.append(net.flow_sequence(clip).numpy())
    return np.concatenate(out)


def precomputed_flows(name: str, source: VideoSource, ctx: StageContext) -> np.ndarray:
    """Flows ``[N, T-1, 2, H, W]`` of backend ``name`` for every video of ``source``, through the flow
    cache of the store (keyed by the backend's config and ``data.video``): TV-L1 runs once for all
    seeds and experiments, and a killed run resumes at the first missing video."""
    estimator = build_flow(name)
    key = cache_key(estimator.config_hash(), plain(ctx.cfg.data.video))
    cache = FlowCache(cache_dir(ctx.cfg) / "flow", key)
    out = []
    for i in range(len(source)):
        sample = source[i]
        if not cache.has(sample.video_id):
            cache.save(sample.video_id, estimator.clip(sample.frames))
        out.append(cache.load(sample.video_id))
    return np.stack(out)


def moving_mask(gt: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels whose ground-truth motion is at least ``threshold`` px: the moving actors, where the
    class lives (the rest is sub-pixel camera jitter, which zero flow already gets nearly right)."""
    return np.hypot(gt[..., 0, :, :], gt[..., 1, :, :]) >= threshold


def evaluate_flow(net: PWCLite, source: VideoSource, ctx: StageContext, batch_size: int,
                  compare_with: list[str], moving_threshold: float) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """EPE (px) over every pixel of every consecutive key-frame pair of every video, and over the
    moving pixels, of the net, of each backend in ``compare_with`` and of zero flow, on the same
    pairs."""
    gt = np.stack([source[i].flow_gt for i in range(len(source))])
    moving = moving_mask(gt, moving_threshold)
    flows = {"ours": predict_flows(net, source, batch_size)}
    for name in compare_with:
        flows[name] = precomputed_flows(name, source, ctx)
    metrics: dict[str, float] = {"eval_pairs": gt.shape[0] * gt.shape[1], "moving_fraction": float(moving.mean())}
    for name, flow in {**flows, "zero": np.zeros_like(gt)}.items():
        suffix = "" if name == "ours" else f"_{name}"
        metrics[f"epe{suffix}"] = endpoint_error(flow, gt)
        metrics[f"epe_moving{suffix}"] = endpoint_error(flow, gt, moving)
    return metrics, {"gt": gt, **flows}


def write_figures(ctx: StageContext, source: VideoSource, flows: dict[str, np.ndarray], count: int) -> None:
    """One PNG per example (first frame | ground truth | each method, one colour scale per row),
    saved and logged."""
    out = ctx.work_dir / "figures"
    out.mkdir(exist_ok=True)
    picks = np.linspace(0, len(source) - 1, min(count, len(source))).round().astype(int)
    for i in picks:
        row = np.stack([f[i, 0] for f in flows.values()])
        scale = float(np.sqrt((flows["gt"][i, 0] ** 2).sum(0)).max()) or 1.0
        panels = [source[int(i)].frames[0], *flow_to_rgb(row, max_magnitude=scale)]
        path = out / f"flow_{i:04d}_{'_'.join(flows)}.png"
        save_rgb_png(path, np.concatenate(panels, axis=1))
        log_image(ctx, f"flow_{i:04d}", path)  # wandb, when it is the logger


@register_stage
class FlowPretrainStage(Stage):
    kind = "flow_pretrain"
    Params = FlowPretrainParams
    uses = ("data.video",)
    trains = True
    # Seeded by ``params.seed``, not the run seed: pretraining is the costly step on a CPU, so the
    # seeds of a sweep share it and their spread measures the classifier stages (set params.seed
    # to vary it too).
    seeded = False

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        pl.seed_everything(p.seed, workers=True, verbose=False)
        dm = VideoClipDataModule(ctx.cfg.data.video, cache_dir(ctx.cfg), p.batch_size, p.eval_batch_size,
                                 int(ctx.cfg.trainer.num_workers), p.seed, splits=("train", "test"))
        dm.setup()
        net = PWCLite(PWCLiteConfig(**plain(p.net)))
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, UnsupervisedFlow(net, p), dm, ctx)
        metrics: dict[str, Any] = {"params": count_parameters(net)}
        if ctx.is_rank_zero:
            save_pwclite(ctx.work_dir / CHECKPOINT, net)
            test = dm.sets["test"].source
            if test[0].flow_gt is not None:
                flow_metrics, flows = evaluate_flow(net, test, ctx, p.eval_batch_size, list(p.compare_with),
                                                   p.moving_threshold)
                metrics.update(flow_metrics)
                write_figures(ctx, test, flows, p.num_figures)
            atomic_write_text(ctx.work_dir / "flow_eval.json", json.dumps(metrics, indent=2))
        return metrics
