"""Stage ``mra_head``: Algorithm 1 step 5. The trained GRU cell, fed f(x) and an all-zero state,
gives a still image its motion representation f̃(x); the classifier p_a (θa, the only part that
learns) is trained on [f̃(x); f(x)] — or on f̃(x) alone for the "only MR" ablation. Also draws
Figure 3 (nearest unlabeled clip by first-frame MR) and measures how often that clip's true motion
matches the image's (synthetic data only).

``motion`` picks what stands in for f̃(x), so that the controls train the same head as long:
``trained`` (the GRU of step 4: Ours), ``random`` (a random-init GRU: extra head training and
nothing learned about motion), ``none`` (p_a on f(x) alone), ``oracle`` (a learned embedding of
the image's true motion, as wide as Ours' MR: the most an MR could add). p_a's hidden width
defaults to that of Ours' head in every variant, so they differ in their input only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from motionlab.data.sources import build_video_source
from motionlab.data.transforms import normalize, resize_hw
from motionlab.eval.figures import retrieval_grid
from motionlab.lit.classifier import ImageClassifierModule, OracleMotionClassifierModule
from motionlab.models.encoders import ClassifierHead, build_encoder
from motionlab.models.motion import MotionAugmentedFeatures, MotionGRU
from motionlab.models.parts import load_parts, save_parts
from motionlab.pipeline import Stage, StageContext, register_stage
from motionlab.training import cache_dir, fit_and_test_images, image_datamodule, log_image, seed_stage

MOTION_INPUTS = ("trained", "random", "none", "oracle")


@dataclass
class MRAParams:
    max_steps: int = 200
    batch_size: int = 32
    lr: float = 1.0e-4
    lr_decay_every: int = 1800
    lr_decay: float = 0.1
    weight_decay: float = 0.0
    only_motion: bool = False
    motion: str = "trained"  # trained | random | none | oracle: what stands in for f̃(x) (module docstring)
    hidden: int | None = None  # width of p_a's first fc; None: the width of [f̃(x); f(x)] (paper: 4608)
    gru_hidden: int = 512
    augment: bool = True
    max_shift: int = 4
    eval_batch_size: int = 128
    checkpoint_every: int = 50
    val_every: int = 0  # steps between validations on held-out labeled images (0: none): the plateau curves
    val_per_class: int = 20
    shots_per_class: int | None = None
    retrieval_images: int = 8  # rows of Figure 3


@torch.no_grad()
def _embed(features: MotionAugmentedFeatures, frames: np.ndarray, size: int) -> torch.Tensor:
    """MR of uint8 [N,H,W,3] images, in batches."""
    out = []
    for start in range(0, len(frames), 256):
        x = torch.stack([torch.from_numpy(np.ascontiguousarray(resize_hw(f, size))).permute(2, 0, 1)
                         for f in frames[start: start + 256]])
        out.append(features.gru.still_image(features.encoder(normalize(x))))
    return torch.cat(out)


@register_stage
class MRAStage(Stage):
    kind = "mra_head"
    Params = MRAParams
    # Not data.video: the controls (motion none/random/oracle) never read a video, so the a and b
    # settings share their heads; Ours' GRU and Figure 3's clips come from data.video, which its
    # ``init`` input (the step-4 stage) already carries in its key.
    uses = ("data.image", "model")
    trains = True

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p, cfg = ctx.params, ctx.cfg
        if p.motion not in MOTION_INPUTS:
            raise ValueError(f"mra_head motion={p.motion!r}; valid: {list(MOTION_INPUTS)}")
        if p.only_motion and p.motion in ("none", "oracle"):
            raise ValueError(f"only_motion needs an MR from a GRU, not motion={p.motion!r}")
        seed_stage(ctx)
        dm = image_datamodule(ctx, p)
        parts = load_parts(ctx.inputs["init"])
        needed = ("encoder", "gru") if p.motion == "trained" else ("encoder",)
        missing = [k for k in needed if k not in parts]
        if missing:
            raise ValueError(f"mra_head motion={p.motion} needs {list(needed)}; input {ctx.inputs['init']} "
                             f"lacks {missing}")
        encoder = build_encoder(cfg.model)
        encoder.load_state_dict(parts["encoder"])
        hidden = p.hidden or p.gru_hidden + encoder.feature_dim
        saved: dict[str, Any] = dict(parts)
        if p.motion in ("trained", "random"):
            gru = MotionGRU(encoder.feature_dim, p.gru_hidden)
            if p.motion == "trained":
                gru.load_state_dict(parts["gru"])
            saved["gru"] = gru  # the GRU this head reads
            features = MotionAugmentedFeatures(encoder, gru, only_motion=p.only_motion)
            head = ClassifierHead(features.out_dim, hidden, dm.num_classes, float(cfg.model.dropout))
            module = ImageClassifierModule(features, head, dm.num_classes, p.lr, p.lr_decay_every, p.lr_decay,
                                     p.weight_decay, train_features=False)
        else:
            if p.motion == "oracle" and not dm.motion_names:
                raise ValueError("mra_head motion=oracle needs an image source that knows each image's motion")
            extra = p.gru_hidden if p.motion == "oracle" else 0  # the oracle MR is as wide as Ours' MR
            head = ClassifierHead(encoder.feature_dim + extra, hidden, dm.num_classes, float(cfg.model.dropout))
            args = (p.lr, p.lr_decay_every, p.lr_decay, p.weight_decay)
            if p.motion == "oracle":
                module = OracleMotionClassifierModule(encoder, head, dm.num_classes, len(dm.motion_names), extra,
                                                      *args, train_features=False)
                saved["motion_embedding"] = module.motion_embedding
            else:
                module = ImageClassifierModule(encoder, head, dm.num_classes, *args, train_features=False)
        metrics = fit_and_test_images(ctx, module, dm, p)
        if ctx.is_rank_zero:
            save_parts(ctx.work_dir, {**saved, "mra_head": head})
            if p.retrieval_images and p.motion == "trained":
                metrics.update(self._retrieval(ctx, features.eval(), dm, p.retrieval_images))
        return metrics

    def _retrieval(self, ctx: StageContext, features: MotionAugmentedFeatures, dm, rows: int) -> dict[str, float]:
        videos = build_video_source(ctx.cfg.data.video, "train", cache_dir(ctx.cfg))
        size = int(ctx.cfg.data.image.size)
        first = np.stack([videos[i].frames[0] for i in range(len(videos))])
        video_mr = _embed(features, first, size)
        test = dm.test_set.source
        indices = [int(i) for i in dm.test_set.indices]
        image_mr = _embed(features, np.stack([test[i].image for i in indices]), size)
        nearest = torch.cdist(image_mr, video_mr).argmin(1).numpy()
        metrics: dict[str, float] = {}
        motion_names = getattr(videos, "class_names", [])
        if motion_names and all("_" in c for c in test.class_names):
            # synthetic: an image class is "<kind>_<motion>"; does the nearest clip move that way?
            image_motion = [test.class_names[test[i].label].split("_", 1)[1] for i in indices]
            clip_motion = [motion_names[videos[int(j)].label] for j in nearest]
            matches = [a == b for a, b in zip(image_motion, clip_motion, strict=True)]
            metrics["retrieval_motion_match"] = 100.0 * float(np.mean(matches))
        pick = np.linspace(0, len(indices) - 1, min(rows, len(indices))).astype(int)
        out = retrieval_grid(
            [test[indices[i]].image for i in pick], [test.class_names[test[indices[i]].label] for i in pick],
            [videos[int(nearest[i])].frames for i in pick],
            [videos[int(nearest[i])].meta.get("motion", videos[int(nearest[i])].video_id) for i in pick],
            ctx.work_dir / "fig3_retrieval.png")
        log_image(ctx, "fig3_retrieval", out)
        return metrics
