"""The Lightning side shared by every training stage: one Trainer factory (loggers, checkpoints
that make a killed stage resume, progress bar) and the RNG bookkeeping that makes a resumed run
finish with the same numbers as one that never stopped."""

from __future__ import annotations

import json
import logging
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from pytorch_lightning.callbacks import Callback, ModelCheckpoint, RichProgressBar
from pytorch_lightning.loggers import CSVLogger, Logger, TensorBoardLogger, WandbLogger

from motionlab.core.io import atomic_write_text
from motionlab.data.datamodules import ImageDataModule
from motionlab.pipeline import StageContext

log = logging.getLogger(__name__)


class _DropLitLoggerTip(logging.Filter):
    """Lightning 2.6 advertises its cloud logger once per Trainer: hundreds of lines in a sweep's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in record.getMessage()


logging.getLogger("pytorch_lightning.utilities.rank_zero").addFilter(_DropLitLoggerTip())

SKIPPED_VIDEOS = "skipped_videos.json"
VAL_CURVE = "val_curve.jsonl"
_WANDB_RUN: Any = None  # the run of the current job; opened and always finished by motionlab.task


def set_wandb_run(run: Any) -> None:
    global _WANDB_RUN
    _WANDB_RUN = run


class RngState(Callback):
    """Store the python/numpy/torch RNG states in every checkpoint and restore them on resume
    (dropout and augmentation draw from them)."""

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        name, keys, pos, has_gauss, cached = np.random.get_state()
        checkpoint["rng_states"] = {  # plain types and tensors: loadable with weights_only=True
            "python": random.getstate(),
            "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
            "torch": torch.get_rng_state(),
        }

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        states = checkpoint.get("rng_states")
        if states:
            random.setstate(states["python"])
            name, keys, pos, has_gauss, cached = states["numpy"]
            np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
            torch.set_rng_state(states["torch"])


class StepDelay(Callback):
    """Sleep after every step: only for tests that kill a stage mid-way (``MOTIONLAB_TEST_STEP_DELAY``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_train_batch_end(self, *args: Any) -> None:
        time.sleep(self.seconds)


class ValidationCurve(Callback):
    """Append every validation's ``val/acc`` (and the step) to ``val_curve.jsonl`` in the stage's
    work dir: the curve is part of the artifact, so a figure of where schedules plateau can be drawn
    from the store alone (``motionlab-report curves``). A resumed stage repeats some steps; readers
    keep the last row per step."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero or "val/acc" not in trainer.callback_metrics:
            return
        row = {"step": int(trainer.global_step), "val_acc": 100.0 * float(trainer.callback_metrics["val/acc"])}
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")


def loggers_for(cfg: DictConfig, ctx: StageContext) -> list[Logger]:
    save_dir = Path(ctx.run_dir) / "logs"
    out: list[Logger] = []
    if cfg.logger.csv:
        out.append(CSVLogger(save_dir, name=ctx.name, version=""))
    if cfg.logger.tensorboard:
        out.append(TensorBoardLogger(save_dir / "tensorboard", name=ctx.name, version=""))
    if cfg.logger.wandb.enabled and _WANDB_RUN is not None:
        out.append(WandbLogger(experiment=_WANDB_RUN, prefix=ctx.name))
    return out


def build_trainer(ctx: StageContext, max_steps: int, checkpoint_every_n_steps: int, val_every: int = 0,
                  **kwargs: Any) -> pl.Trainer:
    """A Trainer for one stage: checkpoints (``last.ckpt``) every ``checkpoint_every_n_steps`` into
    the stage's work dir so a killed run resumes; a validation every ``val_every`` steps (0: none)
    recorded by ``ValidationCurve``; trainer settings from ``cfg.trainer``."""
    cfg = ctx.cfg
    t = cfg.trainer
    callbacks: list[Callback] = [
        ModelCheckpoint(dirpath=ctx.work_dir / "checkpoints", save_last=True, save_top_k=0,
                        every_n_train_steps=checkpoint_every_n_steps, save_on_train_epoch_end=False),
        RngState(),
    ]
    if val_every:
        callbacks.append(ValidationCurve(ctx.work_dir / VAL_CURVE))
        kwargs.update(val_check_interval=int(val_every), check_val_every_n_epoch=None)
    else:
        kwargs.update(limit_val_batches=0)
    if t.progress_bar:
        callbacks.append(RichProgressBar(leave=False))
    delay = float(os.environ.get("MOTIONLAB_TEST_STEP_DELAY", 0))
    if delay:
        callbacks.append(StepDelay(delay))
    return pl.Trainer(
        accelerator=t.accelerator,
        devices=t.devices,
        strategy=t.strategy,
        num_nodes=t.num_nodes,
        precision=t.precision,
        deterministic=t.deterministic,
        max_steps=max_steps,
        max_epochs=-1,
        logger=loggers_for(cfg, ctx) or False,
        callbacks=callbacks,
        enable_progress_bar=bool(t.progress_bar),
        enable_model_summary=False,
        log_every_n_steps=int(t.log_every_n_steps),
        default_root_dir=ctx.work_dir,
        num_sanity_val_steps=0,
        **kwargs,
    )


def fit_resumable(trainer: pl.Trainer, module: pl.LightningModule, datamodule: pl.LightningDataModule,
                  ctx: StageContext) -> None:
    """``trainer.fit`` from the stage's ``last.ckpt`` when a killed run left one."""
    last = ctx.work_dir / "checkpoints" / "last.ckpt"
    if last.exists():
        log.info("resuming %s from %s", ctx.name, last)
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if last.exists() else None)
    record_skipped_videos(ctx, datamodule)


def record_skipped_videos(ctx: StageContext, datamodule: pl.LightningDataModule) -> None:
    """The videos the readers left out (missing, corrupt, too short), with reasons, in the stage's
    ``skipped_videos.json``: a skip is recorded where the stage's results are, not only in a log."""
    skipped = getattr(datamodule, "skipped_videos", dict)()
    if skipped and ctx.is_rank_zero:
        atomic_write_text(ctx.work_dir / SKIPPED_VIDEOS, json.dumps(skipped, indent=2))
        log.warning("%s: %d videos skipped, reasons in %s", ctx.name, sum(map(len, skipped.values())),
                    ctx.work_dir / SKIPPED_VIDEOS)


def seed_stage(ctx: StageContext) -> int:
    """Seed every RNG from the stage's store key (which holds the run seed): an artifact shared by
    pipelines that name the stage differently (UNREG's ``classifier``, Algorithm 1's ``init``) has
    one key, so it must not depend on the name, nor on which pipeline computed it first."""
    if not ctx.key:
        raise ValueError(f"stage {ctx.name!r} has no store key to seed from")
    seed = int(ctx.key[:8], 16) % 2**31
    pl.seed_everything(seed, workers=True, verbose=False)
    return seed


def cache_dir(cfg: DictConfig) -> Path:
    return Path(cfg.paths.store_dir) / "cache"


def flow_cache_root(cfg: DictConfig) -> Path:
    """Where precomputed flow is cached, shared by every stage and job of the store."""
    return cache_dir(cfg) / "flow"


def image_datamodule(ctx: StageContext, p: Any) -> ImageDataModule:
    dm = ImageDataModule(ctx.cfg.data.image, cache_dir(ctx.cfg), p.batch_size, p.eval_batch_size,
                         int(ctx.cfg.trainer.num_workers), int(ctx.cfg.seed),
                         max_shift=p.max_shift if p.augment else 0, shots_per_class=p.shots_per_class,
                         val_per_class=p.val_per_class if p.val_every else 0)
    dm.setup()
    return dm


def fit_and_test_images(ctx: StageContext, module: pl.LightningModule, dm: ImageDataModule, p: Any
                        ) -> dict[str, float]:
    """Fit (resuming if a checkpoint exists), then test; accuracies in percent."""
    trainer = build_trainer(ctx, max_steps=p.max_steps, checkpoint_every_n_steps=p.checkpoint_every,
                            val_every=p.val_every)
    fit_resumable(trainer, module, dm, ctx)
    result = trainer.test(module, dataloaders=dm.test_dataloader(), verbose=False)[0]
    return {
        "test_acc": 100.0 * result["test/acc"],
        "test_mean_class_acc": 100.0 * result["test/mean_class_acc"],
        "num_train_images": len(dm.train_set),
        "num_test_images": len(dm.test_set),
    }


def log_image(ctx: StageContext, key: str, path: Path) -> None:
    """A saved figure, also on the wandb dashboard when a run is open."""
    if _WANDB_RUN is not None:
        import wandb

        _WANDB_RUN.log({f"{ctx.name}/{key}": wandb.Image(str(path))})


