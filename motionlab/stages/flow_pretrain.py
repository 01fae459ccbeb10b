"""Stage ``flow_pretrain``: step 1 of UF-TSN's three-stage training (section 3.2) — the PWC-lite
flow estimator trained on unlabeled video pairs with the multi-scale unsupervised loss, forward
and backward (the paper's backward-flow augmentation).

Then the flow is measured where ground truth exists: EPE on every consecutive key-frame pair of
the test videos, next to OpenCV TV-L1 and DIS (and zero flow) on the same pairs, and colour-wheel
figures (frame, ground truth, ours, TV-L1, DIS) are written to ``figures/``.
Without ground truth (real footage, ``data/video=video_folder``) the held-out clips give the
unsupervised loss of the net next to zero flow's instead.
Artifacts: ``flow_net.pt`` (config + weights, read by ``tsn_motion`` and the ``pwclite`` flow
backend), ``figures/*.png``, ``flow_eval.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motionlab.core.io import atomic_write_text
from motionlab.data.datamodules import VideoClipDataModule
from motionlab.data.types import VideoSource
from motionlab.flow.videos import FLOW_NET, evaluate_flow_net
from motionlab.flow.viz import flow_to_rgb, save_rgb_png
from motionlab.lit.flow import CameraMotion, UnsupervisedFlowModule, held_out_loss
from motionlab.losses.unsupervised import UnsupervisedLossParams
from motionlab.models.parts import count_parameters
from motionlab.models.pwc_lite import PWCLite, PWCLiteConfig, save_pwclite
from motionlab.pipeline import Stage, StageContext, plain, register_stage
from motionlab.training import build_trainer, cache_dir, fit_resumable, flow_cache_root, log_image, seed_stage


@dataclass
class FlowPretrainParams:
    net: PWCLiteConfig = field(default_factory=PWCLiteConfig)
    loss: UnsupervisedLossParams = field(default_factory=UnsupervisedLossParams)
    bidirectional: bool = True  # also learn 2->1 flow (paper: augmentation)
    max_steps: int = 100000
    batch_size: int = 8  # videos per step, one random consecutive pair each
    crop: list[int] | None = None  # [h, w]: train on one random window of each pair (None: whole frames)
    camera_motion: CameraMotion | None = None  # random camera motion added to frame 2 (None: off)
    lr: float = 1.0e-4  # Adam
    weight_decay: float = 0.0
    checkpoint_every: int = 500
    eval_batch_size: int = 8
    compare_with: list[str] = field(default_factory=lambda: ["tvl1", "dis"])  # backends on the same pairs
    moving_threshold: float = 1.0  # px: EPE is also reported on pixels moving at least this much
    num_figures: int = 4


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
    trains = True  # seeded by the run seed: each seed of a sweep pretrains its own net, so the
    # spread of a Table 2/3 row includes the flow net's

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        seed_stage(ctx)
        dm = VideoClipDataModule(ctx.cfg.data.video, cache_dir(ctx.cfg), p.batch_size, p.eval_batch_size,
                                 int(ctx.cfg.trainer.num_workers), int(ctx.cfg.seed), splits=("train", "test"))
        dm.setup()
        net = PWCLite(PWCLiteConfig(**plain(p.net)))
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every)
        fit_resumable(trainer, UnsupervisedFlowModule(net, p), dm, ctx)
        metrics: dict[str, Any] = {"params": count_parameters(net)}
        if ctx.is_rank_zero:
            save_pwclite(ctx.work_dir / FLOW_NET, net)
            test = dm.sets["test"].source
            if test[0].flow_gt is not None:
                flow_metrics, flows = evaluate_flow_net(net, test, flow_cache_root(ctx.cfg), plain(ctx.cfg.data.video),
                                                        p.eval_batch_size, list(p.compare_with), p.moving_threshold)
                metrics.update(flow_metrics)
                write_figures(ctx, test, flows, p.num_figures)
            else:
                metrics.update(held_out_loss(net, test, UnsupervisedLossParams(**plain(p.loss))))
            atomic_write_text(ctx.work_dir / "flow_eval.json", json.dumps(metrics, indent=2))
        return metrics
