"""The pure task: ``train(cfg)`` runs one job (a pipeline on one setting and seed) and returns its
metrics. The Hydra entry point only composes and calls it; tests call it directly."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from motionlab.core.io import atomic_write_text
from motionlab.core.rank import is_rank_zero
from motionlab.pipeline import run_pipeline
from motionlab.training import set_wandb_run

log = logging.getLogger(__name__)


def summary_metrics(cfg: DictConfig, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Flatten every stage's metrics to ``<stage>/<metric>`` and pick the reported one."""
    flat = {f"{name}/{k}": v for name, done in results.items() for k, v in done["metrics"].items()
            if isinstance(v, int | float)}
    report_key = str(cfg.pipeline.report_metric)
    if report_key not in flat:
        raise KeyError(f"pipeline.report_metric={report_key!r} is not a metric of this pipeline; "
                       f"available: {sorted(flat)}")
    return {"method": cfg.method, "setting": cfg.setting.name, "seed": int(cfg.seed),
            "pipeline": cfg.pipeline.name, "report_metric": report_key, "value": flat[report_key],
            "metrics": flat}


def train(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Run the configured pipeline into ``run_dir``; writes ``metrics.json`` there. wandb (when
    enabled) is opened here and finished in every case, also on failure and inside multiruns."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if cfg.trainer.get("threads"):
        torch.set_num_threads(int(cfg.trainer.threads))
    run = _open_wandb(cfg, run_dir)
    set_wandb_run(run)
    exit_code = 1
    try:
        results = run_pipeline(cfg, run_dir)
        summary = summary_metrics(cfg, results)
        if is_rank_zero():
            atomic_write_text(run_dir / "metrics.json", json.dumps(summary, indent=2))
            if run is not None:
                run.summary.update(summary["metrics"])
        log.info("%s on %s, seed %s: %s = %.2f", cfg.method, cfg.setting.name, cfg.seed,
                 summary["report_metric"], summary["value"])
        exit_code = 0
        return summary
    finally:
        set_wandb_run(None)
        if run is not None:
            run.finish(exit_code=exit_code)


def _open_wandb(cfg: DictConfig, run_dir: Path):
    if not cfg.logger.wandb.enabled or not is_rank_zero():
        return None
    import wandb

    w = cfg.logger.wandb
    Path(w.dir).mkdir(parents=True, exist_ok=True)
    return wandb.init(
        project=w.project, entity=w.entity, mode=w.mode, dir=str(w.dir), tags=list(w.tags),
        name=f"{cfg.method}/{cfg.setting.name}/seed{cfg.seed}", group=cfg.method,
        config=OmegaConf.to_container(cfg, resolve=True), reinit="create_new",
        settings=wandb.Settings(silent=True),
    )
