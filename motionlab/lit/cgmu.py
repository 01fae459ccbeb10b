"""The CGMU motion models (docs/cgmu.md): self-supervised training on random windows of the clips,
how a model reads a batch (the end-to-end network reads frames; the upsampling probe frames and
the ideal low-res motion), its EPE against the ground truth, and the motion maps it gives the
downstream action classifier."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from motionlab.data.clips import random_window
from motionlab.data.transforms import normalize
from motionlab.flow.metrics import FlowErrors, epe_map, motion_boundary_band
from motionlab.lit.optim import configure_adam
from motionlab.losses.unsupervised import UnsupervisedLossParams, unsupervised_loss
from motionlab.models.motion_decoder import MotionNet, MotionOutput, MotionUpsamplingNet
from motionlab.models.upsample import area_downsample_flow, build_upsampler


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


class CgmuMotionModule(pl.LightningModule):
    """Trains a motion model on random ``clip_len`` windows of the clips with the shared unsupervised
    flow loss: at full resolution, plus the low-res motion as a second scale for the end-to-end network.
    The probe's low-res input is given; ``flow_gt`` feeds only that input, never the loss, except with
    ``supervised`` (the ceiling run: mean EPE to the ground truth instead of the unsupervised loss)."""

    def __init__(self, model: MotionNet | MotionUpsamplingNet, p: Any, supervised: bool = False) -> None:
        super().__init__()
        self.model, self.p, self.supervised = model, p, supervised
        self.end_to_end = isinstance(model, MotionNet)
        scale_weights = [1.0, p.lowres_loss_weight] if self.end_to_end else [1.0]
        self.loss = UnsupervisedLossParams(loss_weights=list(p.loss_weights), scale_weights=scale_weights,
                                           census_patch=p.census_patch, edge_weight=p.edge_weight,
                                           smooth_order=p.smooth_order)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        batch = random_window(batch, self.p.clip_len)  # flow_gt: the probe's low-res input, if any
        _, images = video_frames(batch)
        out = predict_motion(self.model, batch)
        if self.supervised:
            loss = epe_map(out.flow, batch["flow_gt"]).mean()
            self.log("train/loss", loss, prog_bar=True)
            return loss
        flows = [out.flow.flatten(0, 1)] + ([out.flow_lowres.flatten(0, 1)] if self.end_to_end else [])
        loss, terms = unsupervised_loss(flows, images[:, :-1].flatten(0, 1), images[:, 1:].flatten(0, 1), self.loss)
        self.log("train/loss", loss, prog_bar=True)
        for name, value in terms.items():
            self.log(f"train/{name}", value)
        return loss

    def configure_optimizers(self):
        return configure_adam(self.model.parameters(), self.p.lr, self.p.weight_decay,
                              "linear" if self.p.lr_linear_decay else "constant", self.p.max_steps)


@torch.no_grad()
def evaluate_motion_model(model: MotionNet | MotionUpsamplingNet, loader: DataLoader, threshold: float,
                          radius: int) -> dict[str, float]:
    """EPE overall and in the boundary band of: the upsampled motion; the same low-res motion upsampled
    bilinearly (``lowres_bilinear_``: the difference is the upsampler's own gain); the ideal low-res
    motion (ground-truth cell means) upsampled bilinearly (``ideal_bilinear_``: the oracle bound of a
    net with perfect low-res motion) and by this upsampler (``ideal_``: the most this upsampler makes of
    perfect low-res input); zero motion (reference)."""
    model.eval()
    bilinear = build_upsampler("bilinear", model.flow_stride)
    names = ("", "lowres_bilinear_", "ideal_bilinear_", "ideal_", "zero_")
    errors = {name: FlowErrors() for name in names}
    for batch in loader:
        out = predict_motion(model, batch)
        gt = batch["flow_gt"].flatten(0, 1)
        band = motion_boundary_band(gt, threshold, radius)
        ideal = area_downsample_flow(gt, model.flow_stride)
        reference = video_frames(batch)[0][:, :-1].flatten(0, 1)
        flows = (out.flow.flatten(0, 1), bilinear(out.flow_lowres.flatten(0, 1)), bilinear(ideal),
                 model.head(ideal, reference, out.features), torch.zeros_like(gt))
        for name, flow in zip(names, flows, strict=True):
            errors[name].add(flow, gt, band)
    metrics = {k: v for name in names for k, v in errors[name].means(name).items()}
    return {**metrics, "boundary_fraction": errors["zero_"].n_band / max(errors["zero_"].n_all, 1)}


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
