"""Which process of a distributed job this is, from the environment alone (usable before
Lightning or torch.distributed have started)."""

from __future__ import annotations

import os

RANK_VARIABLES = ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK")


def is_rank_zero() -> bool:
    """Rank 0 of the whole job: every rank variable a launcher may set is 0 or unset (torchrun:
    ``RANK``; SLURM tasks: ``SLURM_PROCID``; ranks Lightning spawns: ``LOCAL_RANK``, ``NODE_RANK``,
    which also tells them apart inside one SLURM task)."""
    return all(int(os.environ.get(variable, 0)) == 0 for variable in RANK_VARIABLES)
