"""Stage ``image_classifier``: encoder f + classifier p_c on the labeled images (Lmain).

UNREG is this stage alone; Algorithm 1 runs it as step 1 (random init) and step 3 (``init``
input = the VRE step's parts). Parts it did not train (GRU, motion head) are passed on unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from motionlab.lit.classifier import ImageClassifierModule
from motionlab.models.encoders import ClassifierHead, build_encoder
from motionlab.models.parts import load_parts, save_parts
from motionlab.pipeline import Stage, StageContext, register_stage
from motionlab.training import fit_and_test_images, image_datamodule, seed_stage


@dataclass
class ImageClassifierParams:
    max_steps: int = 300
    batch_size: int = 32
    lr: float = 1.0e-4
    lr_decay_every: int = 1800
    lr_decay: float = 0.1
    weight_decay: float = 0.0
    augment: bool = True
    max_shift: int = 4
    eval_batch_size: int = 128
    checkpoint_every: int = 50
    val_every: int = 0  # steps between validations on held-out labeled images (0: none): the plateau curves
    val_per_class: int = 20
    shots_per_class: int | None = None  # None: the image dataset's protocol value


@register_stage
class ImageClassifierStage(Stage):
    kind = "image_classifier"
    Params = ImageClassifierParams
    uses = ("data.image", "model")
    trains = True

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        seed_stage(ctx)
        dm = image_datamodule(ctx, p)
        encoder = build_encoder(ctx.cfg.model)
        head = ClassifierHead(encoder.feature_dim, encoder.feature_dim, dm.num_classes, float(ctx.cfg.model.dropout))
        parts = load_parts(ctx.inputs["init"]) if "init" in ctx.inputs else {}
        if "encoder" in parts:
            encoder.load_state_dict(parts["encoder"])
        if "classifier" in parts:
            head.load_state_dict(parts["classifier"])
        module = ImageClassifierModule(encoder, head, dm.num_classes, p.lr, p.lr_decay_every, p.lr_decay,
                                       p.weight_decay)
        metrics = fit_and_test_images(ctx, module, dm, p)
        if ctx.is_rank_zero:
            save_parts(ctx.work_dir, {**parts, "encoder": encoder, "classifier": head})
        return metrics
