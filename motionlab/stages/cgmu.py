"""Stages of the CGMU paper (Shen et al., ECCV 2020; design and choices in docs/cgmu.md).

``cgmu_motion``: self-supervised training of the coarse-to-fine motion network on unlabeled video
(the shared unsupervised flow loss: photometric L1 + census + edge-aware smoothness on the
upsampled motion, plus the same loss on the low-res motion), then EPE against the synthetic ground
truth, overall and in a band around ground-truth motion boundaries.

``cgmu_action``: the downstream task of the abstract: an action classifier trained on the motion
maps of the frozen network (or on ground-truth flow, the oracle reference) for the motion-only
video setting, whose classes differ only by motion.

``python -m motionlab.stages.cgmu report <multirun dir> <out dir>`` turns a ``make reproduce-cgmu``
sweep into the table (mean ± std over seeds) and the example figure.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader, Dataset

from motionlab.data.datamodules import EpochSeededSampler, VideoClipDataModule
from motionlab.data.transforms import normalize
from motionlab.losses.photometric import unsupervised_flow_loss
from motionlab.models.classifier import ImageClassifier
from motionlab.models.encoders import ClassifierHead
from motionlab.models.motion_decoder import MotionMapEncoder, MotionNet
from motionlab.models.parts import load_parts, save_parts
from motionlab.models.upsample import build_upsampler
from motionlab.pipeline import Stage, StageContext, register_stage
from motionlab.training import build_trainer, cache_dir, fit_resumable, seed_stage


# ------------------------------------------------------------------------------------ metrics
def endpoint_error(flow: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Per-pixel end-point error ``[..., H, W]`` of flows ``[..., 2, H, W]``."""
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
        epe = endpoint_error(flow, gt)
        self.sum_all += float(epe.sum())
        self.n_all += epe.numel()
        self.sum_band += float(epe[band].sum())
        self.n_band += int(band.sum())

    def means(self, prefix: str) -> dict[str, float]:
        return {f"{prefix}epe": self.sum_all / max(self.n_all, 1),
                f"{prefix}epe_boundary": self.sum_band / max(self.n_band, 1)}


# -------------------------------------------------------------------------------------- model
@dataclass
class CgmuMotionParams:
    upsampler: str = "cgmu"  # bilinear | convex | cgmu
    arch: str = "r2plus1d_18"  # r2plus1d_18 | r3d_18 (torchvision blocks, random init)
    widths: list[int] = field(default_factory=lambda: [64, 128, 256, 512])
    blocks_per_stage: int = 2
    flow_stride: int = 4
    decoder_width: int = 64
    context_channels: int = 16
    context_depth: int = 3
    cgmu_kernel: int = 3
    cgmu_embed_dim: int = 16
    cgmu_embed_hidden: int = 32
    cgmu_sigma: float = 0.5
    convex_mask_hidden: int = 64
    clip_len: int = 4  # frames per training clip (a random window of the video's key frames)
    max_steps: int = 20000
    batch_size: int = 8
    lr: float = 1.0e-4
    weight_decay: float = 0.0
    loss_weights: list[float] = field(default_factory=lambda: [0.2, 1.0, 50.0])  # L1, census, smooth
    lowres_loss_weight: float = 0.5
    census_patch: int = 3
    edge_weight: float = 10.0
    smooth_order: int = 1
    boundary_threshold: float = 1.0  # px: a GT flow jump larger than this between neighbours
    boundary_radius: int = 2  # px: half-width of the evaluation band around those jumps
    eval_batch_size: int = 16
    checkpoint_every: int = 100


def build_motion_net(p: Any) -> MotionNet:
    """The motion network described by ``cgmu_motion`` params (also from a finished stage's done.json)."""
    options = {"kernel_size": p["cgmu_kernel"], "embed_dim": p["cgmu_embed_dim"],
               "embed_hidden": p["cgmu_embed_hidden"], "sigma": p["cgmu_sigma"],
               "mask_hidden": p["convex_mask_hidden"]}
    return MotionNet(p["arch"], list(p["widths"]), p["blocks_per_stage"], p["flow_stride"], p["decoder_width"],
                     p["upsampler"], p["context_channels"], p["context_depth"], options)


def video_frames(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 ``[B,T,3,H,W]`` -> (network input, ImageNet-normalised; images in [0, 1] for the loss)."""
    frames = batch["frames"]
    return normalize(frames), frames.float() / 255.0


class SelfSupervisedMotion(pl.LightningModule):
    """Trains a MotionNet with the unsupervised flow loss on random ``clip_len`` windows."""

    def __init__(self, net: MotionNet, p: Any) -> None:
        super().__init__()
        self.net, self.p = net, p

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        total = batch["frames"].shape[1]
        start = int(torch.randint(0, total - self.p.clip_len + 1, ()))
        window = {"frames": batch["frames"][:, start:start + self.p.clip_len]}
        x, images = video_frames(window)
        out = self.net(x)
        img1, img2 = images[:, :-1].flatten(0, 1), images[:, 1:].flatten(0, 1)
        loss, terms = unsupervised_flow_loss(
            img1, img2, [out.flow.flatten(0, 1), out.flow_lowres.flatten(0, 1)],
            weights=tuple(self.p.loss_weights), scale_weights=[1.0, self.p.lowres_loss_weight],
            census_patch=self.p.census_patch, edge_weight=self.p.edge_weight, smooth_order=self.p.smooth_order)
        self.log("train/loss", loss, prog_bar=True)
        for name, value in terms.items():
            self.log(f"train/{name}", value)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters(), lr=self.p.lr, weight_decay=self.p.weight_decay)


@torch.no_grad()
def evaluate_flow(net: MotionNet, loader: DataLoader, threshold: float, radius: int) -> dict[str, float]:
    """EPE of the upsampled motion, of the same model's low-res motion upsampled bilinearly (isolates
    the upsampler), and of zero motion (reference), overall and in the boundary band."""
    net.eval()
    bilinear = build_upsampler("bilinear", net.flow_stride)
    full, lowres_bilinear, zero = FlowErrors(), FlowErrors(), FlowErrors()
    for batch in loader:
        x, _ = video_frames(batch)
        out = net(x)
        gt = batch["flow_gt"].flatten(0, 1)
        band = motion_boundary_band(gt, threshold, radius)
        full.add(out.flow.flatten(0, 1), gt, band)
        lowres_bilinear.add(bilinear(out.flow_lowres.flatten(0, 1)), gt, band)
        zero.add(torch.zeros_like(gt), gt, band)
    return {**full.means(""), **lowres_bilinear.means("lowres_bilinear_"), **zero.means("zero_"),
            "boundary_fraction": zero.n_band / max(zero.n_all, 1)}


@register_stage
class CgmuMotionStage(Stage):
    kind = "cgmu_motion"
    Params = CgmuMotionParams
    uses = ("data.video",)
    trains = True

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        seed_stage(ctx)
        dm = VideoClipDataModule(ctx.cfg.data.video, cache_dir(ctx.cfg), p.batch_size, p.eval_batch_size,
                                 int(ctx.cfg.trainer.num_workers), int(ctx.cfg.seed), splits=("train", "test"))
        dm.setup()
        key_frames = dm.sets["train"][0]["frames"].shape[0]
        if not 2 <= p.clip_len <= key_frames:
            raise ValueError(f"cgmu_motion.clip_len={p.clip_len} must lie in [2, {key_frames}] (the key frames)")
        net = build_motion_net(p)
        module = SelfSupervisedMotion(net, p)
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, module, dm, ctx)
        metrics: dict[str, Any] = {"params": sum(q.numel() for q in net.parameters()),
                                   "upsampler_params": sum(q.numel() for q in net.upsample.parameters())
                                   + sum(q.numel() for q in (net.context.parameters() if net.context else []))}
        if ctx.is_rank_zero:
            metrics.update(evaluate_flow(net, dm.test_dataloader(), p.boundary_threshold, p.boundary_radius))
            save_parts(ctx.work_dir, {"motion_net": net})
        return metrics


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
def motion_maps(net: MotionNet | None, dataset: Dataset, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-resolution motion maps ``[N, T-1, 2, H, W]`` of every video (ground truth if ``net`` is
    None) and the labels."""
    loader = DataLoader(dataset, batch_size)
    maps, labels = [], []
    if net is not None:
        net.eval()
    for batch in loader:
        maps.append(batch["flow_gt"] if net is None else net(video_frames(batch)[0]).flow)
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
        net = None
        if p.motion_source == "predicted":
            if "motion" not in ctx.inputs:
                raise ValueError("cgmu_action with motion_source=predicted needs an input 'motion' (a cgmu_motion stage)")
            net = build_motion_net(ctx.input_done("motion")["params"])
            net.load_state_dict(load_parts(ctx.inputs["motion"])["motion_net"])
        videos = VideoClipDataModule(ctx.cfg.data.video, cache_dir(ctx.cfg), p.batch_size, p.eval_batch_size,
                                     0, int(ctx.cfg.seed), splits=("train", "test"))
        videos.setup()
        sets = {}
        for split in ("train", "test"):
            maps, labels = motion_maps(net, videos.sets[split], p.eval_batch_size)
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


# ------------------------------------------------------------------------------------- report
METHOD_ORDER = ("bilinear", "convex (RAFT)", "CGMU", "ground-truth flow")


def _mean_std(values: list[float], digits: int) -> str:
    if not values:
        return "—"
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return f"{np.mean(values):.{digits}f} ± {std:.{digits}f}"


def load_runs(multirun_dir: Path) -> list[dict[str, Any]]:
    """Every finished job of a sweep: its ``metrics.json`` plus ``run_dir``."""
    runs = []
    for path in sorted(Path(multirun_dir).rglob("metrics.json")):
        run = json.loads(path.read_text())
        run["run_dir"] = path.parent
        runs.append(run)
    if not runs:
        raise FileNotFoundError(f"no metrics.json under {multirun_dir}: did the sweep of make reproduce-cgmu finish?")
    return runs


def results_table(runs: list[dict[str, Any]]) -> tuple[list[str], list[list[object]]]:
    """One row per method, mean ± std over seeds, plus the zero-motion reference."""
    header = ["method", "EPE (px)", "EPE near motion boundaries (px)", "EPE of its low-res motion, bilinear (px)",
              "action accuracy (%)", "upsampler params", "seeds"]
    methods = sorted({r["method"] for r in runs},
                     key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER))
    rows: list[list[object]] = []
    for method in methods:
        mine = [r["metrics"] for r in runs if r["method"] == method]

        def col(key: str, digits: int = 3, _mine=mine) -> str:
            return _mean_std([m[key] for m in _mine if key in m], digits)

        params = {int(m["motion/upsampler_params"]) for m in mine if "motion/upsampler_params" in m}
        rows.append([method, col("motion/epe"), col("motion/epe_boundary"), col("motion/lowres_bilinear_epe"),
                     col("action/test_acc", 1), ", ".join(map(str, sorted(params))) or "—", len(mine)])
    zero = [r["metrics"] for r in runs if "motion/zero_epe" in r["metrics"]]
    if zero:
        rows.append(["zero motion (reference)", f"{zero[0]['motion/zero_epe']:.3f}",
                     f"{zero[0]['motion/zero_epe_boundary']:.3f}", "—", "—", "—", "—"])
    return header, rows


def _load_motion_run(run: dict[str, Any]) -> tuple[MotionNet, DictConfig]:
    cfg = OmegaConf.load(Path(run["run_dir"]) / ".hydra" / "config.yaml")
    stage_dir = Path(json.loads((Path(run["run_dir"]) / "stages.json").read_text())["motion"]["dir"])
    done = json.loads((stage_dir / "done.json").read_text())
    net = build_motion_net(done["params"])
    net.load_state_dict(load_parts(stage_dir)["motion_net"])
    return net.eval(), cfg


@torch.no_grad()
def example_figure(runs: list[dict[str, Any]], out: Path, candidates: int = 30) -> Path:
    """Frame, low-res motion, each upsampler's result (seed-0 models) and ground truth on the test
    video (of the first ``candidates``) with the most motion-boundary pixels, one colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torchvision.utils import flow_to_image

    from motionlab.data.datamodules import VideoClipDataset
    from motionlab.data.sources import build_video_source

    order = [m for m in METHOD_ORDER[:3] if any(r["method"] == m and "motion/epe" in r["metrics"] for r in runs)]
    picked = {m: min((r for r in runs if r["method"] == m), key=lambda r: r["seed"]) for m in order}
    nets = {m: _load_motion_run(r) for m, r in picked.items()}
    cfg = next(iter(nets.values()))[1]
    p = json.loads((Path(picked[order[-1]]["run_dir"]) / "stages.json").read_text())["motion"]["dir"]
    params = json.loads((Path(p) / "done.json").read_text())["params"]
    test = VideoClipDataset(build_video_source(cfg.data.video, "test", cache_dir(cfg)))
    pair = 0
    scores = [float(motion_boundary_band(test[i]["flow_gt"], params["boundary_threshold"], 0).sum())
              for i in range(min(candidates, len(test)))]
    item = test[int(np.argmax(scores))]
    pair = int(motion_boundary_band(item["flow_gt"], params["boundary_threshold"], 0).flatten(1).sum(1).argmax())
    batch = {"frames": item["frames"][None]}
    x, images = video_frames(batch)
    gt = item["flow_gt"][pair]
    flows, lowres = {}, None
    for m, (net, _) in nets.items():
        out_m = net(x)
        flows[m] = out_m.flow[0, pair]
        lowres = F.interpolate(out_m.flow_lowres[0, pair][None] * net.flow_stride, scale_factor=net.flow_stride,
                               mode="nearest")[0]  # the last (CGMU) model's low-res motion, shown as cells
    panels = [lowres, *flows.values(), gt]
    colours = flow_to_image(torch.stack(panels)).permute(0, 2, 3, 1).numpy()
    band = motion_boundary_band(gt[None], params["boundary_threshold"], params["boundary_radius"])[0]
    errors = [endpoint_error(f, gt).numpy() for f in flows.values()]
    vmax = max(float(e.max()) for e in errors)
    cols = len(panels) + 1
    fig, axes = plt.subplots(2, cols, figsize=(2.2 * cols, 4.6))
    titles = ["frame t", f"low-res motion ({order[-1]})", *order, "ground truth"]
    for ax, title, img in zip(axes[0], titles, [images[0, pair].permute(1, 2, 0).numpy(), *colours], strict=True):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    axes[1, 0].imshow(band.numpy(), cmap="gray", interpolation="nearest")
    axes[1, 0].set_title("boundary band", fontsize=8)
    for ax, m, err in zip(axes[1, 2:], order, errors, strict=False):
        ax.imshow(err, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(f"EPE {m}: {err.mean():.2f} / band {err[band.numpy()].mean():.2f}", fontsize=7)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(f"CGMU example: test video {item['index']}, pair {pair} -> {pair + 1}; flow colours on one scale, "
                 f"EPE maps 0-{vmax:.1f} px", fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


NOTES = """\
Self-supervised motion network (video ResNet-18 trunk at CPU scale -> low-res motion at 1/4 -> upsampler),
trained on the unlabeled train videos of the motion-only synthetic setting with the shared unsupervised flow
loss; EPE on its test videos against exact ground truth, overall and within `boundary_radius` px of a
ground-truth motion boundary (a flow jump > `boundary_threshold` px between neighbours). "EPE of its low-res
motion, bilinear" upsamples the same model's low-res motion bilinearly: the difference to "EPE" is what the
learned upsampler itself adds. Action accuracy: a small CNN on the stacked full-res motion maps of the frozen
network (9 motion classes, chance 11.1 %); the ground-truth-flow row is its ceiling. Upsampler params count the
mask head (convex) or context encoder + embedding head (CGMU). Design and what the abstract fixes:
docs/cgmu.md. Figure: example.png.
"""


def report(multirun_dir: Path, out_dir: Path, command: str, wall_time_s: float | None) -> Path:
    from motionlab.eval.results import write_results

    runs = load_runs(multirun_dir)
    header, rows = results_table(runs)
    path = write_results(out_dir, "CGMU: context-guided motion upsampling vs bilinear vs convex (synthetic, motion-only)",
                         command, header, rows, NOTES, wall_time_s)
    if any("motion/epe" in r["metrics"] for r in runs):
        example_figure(runs, Path(out_dir) / "example.png")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m motionlab.stages.cgmu",
                                     description="Table + figure of a make reproduce-cgmu sweep.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rep = sub.add_parser("report")
    rep.add_argument("multirun_dir", type=Path)
    rep.add_argument("out_dir", type=Path)
    rep.add_argument("--command", default="make reproduce-cgmu")
    rep.add_argument("--wall-time", type=float, default=None)
    args = parser.parse_args(argv)
    print(report(args.multirun_dir, args.out_dir, args.command, args.wall_time).read_text())


if __name__ == "__main__":
    main()
