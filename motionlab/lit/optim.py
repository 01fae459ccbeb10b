"""The one optimiser builder of every LightningModule: Adam over the given parameters (or groups
with their own learning rates) and one of three learning-rate schedules, stepped per training step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

SCHEDULES = ("constant", "linear", "step")


def configure_adam(params: Iterable[Any], lr: float, weight_decay: float, schedule: str = "constant",
                   max_steps: int = 0, step_size: int = 0, gamma: float = 1.0) -> Any:
    """What ``configure_optimizers`` returns. ``schedule``: ``constant``; ``linear`` to zero at
    ``max_steps``; ``step``: multiplied by ``gamma`` every ``step_size`` steps."""
    # foreach: one kernel per op over all tensors; the CPU default loops over them one by one
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, foreach=True)
    if schedule == "constant":
        return opt
    if schedule == "linear":
        steps = max(int(max_steps), 1)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: max(0.0, 1.0 - i / steps))
    elif schedule == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    else:
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; valid: {list(SCHEDULES)}")
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
