"""Checkpoints handed from stage to stage: one file of named parts (encoder, classifier, gru,
motion_head, mra_head), so each step of Algorithm 1 loads what it needs and passes the rest on."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from motionlab.core.io import atomic_path

PARTS_FILE = "model.pt"


def save_parts(directory: Path, parts: dict[str, nn.Module | dict]) -> Path:
    path = Path(directory) / PARTS_FILE
    state = {name: (p.state_dict() if isinstance(p, nn.Module) else p) for name, p in parts.items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def load_parts(directory: Path) -> dict[str, dict]:
    path = Path(directory) / PARTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: the input stage did not save model parts")
    return torch.load(path, map_location="cpu", weights_only=True)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Parameters of ``module`` (``trainable_only``: those that require gradients)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
