"""Stage ``vre``: Algorithm 1 step 2 (L_VRE = Lmain + λ·Lproxy, updating θn, θc, θg, θm) and, with
``train_parts: [gru, motion_head]`` and ``main_weight: 0``, step 4 (Lproxy alone, updating θg, θm).

Inputs: ``init`` (parts of the previous step; a missing GRU / motion head starts random) and
``labels`` (a ``pseudolabels`` stage: ``labels.npy`` aligned with the training videos, -1 = skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motionlab.data.datamodules import CombinedDataModule, VideoClipDataModule
from motionlab.lit.vre import VRETrainingModule
from motionlab.models.encoders import ClassifierHead, build_encoder
from motionlab.models.motion import MotionGRU
from motionlab.models.parts import load_parts, save_parts
from motionlab.pipeline import Stage, StageContext, register_stage
from motionlab.training import build_trainer, cache_dir, fit_resumable, image_datamodule, seed_stage


@dataclass
class VREParams:
    max_steps: int = 300
    batch_size: int = 32  # labeled images per step
    video_batch_size: int = 6  # unlabeled videos per step (each gives 3 motion clips + smoothness windows)
    lr: float = 1.0e-4
    lr_decay_every: int = 1800
    lr_decay: float = 0.1
    train_parts: list[str] = field(default_factory=lambda: ["encoder", "classifier", "gru", "motion_head"])
    main_weight: float = 1.0
    proxy_weight: float = 0.1  # λ
    losses: list[str] = field(default_factory=lambda: ["motion", "smooth1", "smooth2"])
    margin: float = 1.0  # δ
    gru_hidden: int = 512
    motion_hidden: int = 512
    augment: bool = True
    max_shift: int = 4
    eval_batch_size: int = 128
    checkpoint_every: int = 50
    val_every: int = 0  # steps between validations on held-out labeled images (0: none): the plateau curves
    val_per_class: int = 20
    shots_per_class: int | None = None


def load_pseudo_labels(stage_dir) -> tuple[np.ndarray, int]:
    labels = np.load(stage_dir / "labels.npy").astype(np.int64)
    valid = labels[labels >= 0]
    if valid.size == 0:
        raise ValueError(f"{stage_dir}/labels.npy has no labeled clip: every video was skipped")
    return labels, int(valid.max()) + 1


@register_stage
class VREStage(Stage):
    kind = "vre"
    Params = VREParams
    uses = ("data.image", "data.video", "model")
    trains = True

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p, cfg = ctx.params, ctx.cfg
        seed_stage(ctx)
        labels, num_pseudo = load_pseudo_labels(ctx.inputs["labels"])
        images = image_datamodule(ctx, p)
        videos = VideoClipDataModule(cfg.data.video, cache_dir(cfg), p.video_batch_size, p.video_batch_size,
                                     int(cfg.trainer.num_workers), int(cfg.seed), extras={"pseudo_label": labels})
        videos.setup()
        if len(videos.sets["train"]) != len(labels):
            raise ValueError(f"{ctx.inputs['labels']}/labels.npy has {len(labels)} labels for "
                             f"{len(videos.sets['train'])} videos: pseudo labels of another video config")
        encoder = build_encoder(cfg.model)
        classifier = ClassifierHead(encoder.feature_dim, encoder.feature_dim, images.num_classes,
                                    float(cfg.model.dropout))
        gru = MotionGRU(encoder.feature_dim, p.gru_hidden)
        motion_head = ClassifierHead(p.gru_hidden, p.motion_hidden, num_pseudo, float(cfg.model.dropout))
        parts = load_parts(ctx.inputs["init"]) if "init" in ctx.inputs else {}
        trained = {"encoder": encoder, "classifier": classifier, "gru": gru, "motion_head": motion_head}
        for name, part in trained.items():
            if name in parts:
                part.load_state_dict(parts[name])
        module = VRETrainingModule(
            encoder, classifier, gru, motion_head, num_classes=images.num_classes, update=list(p.train_parts),
            main_weight=p.main_weight, proxy_weight=p.proxy_weight, losses=list(p.losses),
            motion_subclip=int(cfg.data.video.motion_subclip), delta_t=int(cfg.data.video.delta_t),
            margin=p.margin, image_size=int(cfg.data.image.size), lr=p.lr, lr_decay_every=p.lr_decay_every,
            lr_decay=p.lr_decay)
        streams = {"video": videos} if not p.main_weight else {"image": images, "video": videos}
        data = CombinedDataModule(streams, test_from="video" if not p.main_weight else "image")
        trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every,
                                val_every=p.val_every if p.main_weight else 0)
        fit_resumable(trainer, module, data, ctx)
        metrics = {k.replace("train/", "final_"): float(v) for k, v in trainer.callback_metrics.items()
                   if k.startswith("train/")}
        metrics["num_pseudo_classes"] = num_pseudo
        if p.main_weight:
            result = trainer.test(module, dataloaders=images.test_dataloader(), verbose=False)[0]
            metrics["test_acc"] = 100.0 * result["test/acc"]
        if ctx.is_rank_zero:
            save_parts(ctx.work_dir, {**parts, **trained})
        return metrics
