"""OmegaConf resolvers of the config tree, registered on import (``motionlab.cli`` imports this
before Hydra composes, also in launcher worker processes)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from omegaconf import OmegaConf

# already in the sweep subdir's path (conf/config.yaml) ...
PATH_KEYS = ("experiment", "setting", "seed")
# ... or about how a job runs, not what it computes
RUN_GROUPS = ("hydra", "trainer", "logger", "paths", "debug")
MAX_TAG = 120  # longer tags become a hash: file systems cap a name at 255 bytes


def sweep_tag(overrides: Iterable[str]) -> str:
    """The job's other command-line overrides as a run-directory suffix (``_key=value``, sorted): a
    sweep over any further key (``data.image.shots_per_class=3,10``) gets one directory per job
    instead of jobs overwriting each other's. Dataset roots and run-control groups are left out."""
    tags = []
    for override in overrides:
        key, _, value = str(override).lstrip("+~").partition("=")
        if key in PATH_KEYS or re.split(r"[./]", key)[0] in RUN_GROUPS or key.endswith(".root"):
            continue
        tags.append(re.sub(r"[^A-Za-z0-9._=,+-]", "_", f"{key}={value}"))
    tag = "".join(f"_{t}" for t in sorted(tags))
    return tag if len(tag) <= MAX_TAG else "_" + hashlib.sha1(tag.encode()).hexdigest()[:12]


OmegaConf.register_new_resolver("sweep_tag", sweep_tag, replace=True)
