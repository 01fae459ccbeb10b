"""Schemas of the config groups that are not stage params (those are the stages' Params
dataclasses): a bad key *or value* in ``trainer`` or ``model`` fails before any work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

from motionlab.core.errors import ConfigError
from motionlab.core.schema import validate_node
from motionlab.models.encoders import ARCHS

ACCELERATORS = ("cpu", "gpu", "cuda", "mps", "auto")
PRECISIONS = ("32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true")


@dataclass
class TrainerSchema:
    accelerator: str = "cpu"
    devices: Any = 1  # int, -1 (all), "auto" or a list of ids: Lightning checks it
    strategy: str = "auto"
    num_nodes: int = 1
    precision: str = "32-true"
    deterministic: bool = True
    progress_bar: bool = True
    num_workers: int = 0
    log_every_n_steps: int = 10
    threads: int | None = None  # torch intra-op threads per process (None: torch's default)


@dataclass
class ModelSchema:
    arch: str = "alexnet_small"
    feature_dim: int = 256
    mr_dim: int = 512  # the motion representation's width (the GRU's hidden size; paper: 512)
    dropout: float = 0.5
    weights: str | None = None


def _choice(where: str, value: Any, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"{where}={value!r} is not valid; choose one of {list(valid)}")


def validate_groups(cfg: DictConfig) -> None:
    """Keys, types and choices of ``trainer`` and ``model``; ConfigError names the bad one."""
    trainer = validate_node(TrainerSchema, cfg.trainer, "trainer")
    _choice("trainer.accelerator", trainer.accelerator, ACCELERATORS)
    _choice("trainer.precision", trainer.precision, PRECISIONS)
    for key in ("num_nodes", "log_every_n_steps"):
        if trainer[key] < 1:
            raise ConfigError(f"trainer.{key} must be >= 1, got {trainer[key]}")
    model = validate_node(ModelSchema, cfg.model, "model")
    _choice("model.arch", model.arch, ARCHS)
    if not 0.0 <= model.dropout < 1.0:
        raise ConfigError(f"model.dropout must be in [0, 1), got {model.dropout}")
