"""The labels of the two controls of the flow pseudo labels: the oracle (each clip's true motion
program, the most perfect pseudo labels can give) and the shuffled null (the flow labels permuted
over the clips: same cluster sizes, no link to the clip's motion)."""

from __future__ import annotations

import numpy as np

from motionlab.core.errors import ConfigError
from motionlab.data.types import VideoSource


def oracle_labels(source: VideoSource) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Every clip's true motion program (``meta["motion"]``) as an index into the sorted motion
    names, those names, and the source's own labels (for NMI/ARI, as for flow labels)."""
    samples = [source[i] for i in range(len(source))]
    motions = [s.meta.get("motion") for s in samples]
    if not motions or any(m is None for m in motions):
        raise ConfigError("pseudolabels.source=oracle needs clips whose meta names their true motion "
                          f"(the synthetic source); {type(source).__name__} has none")
    names = sorted(set(motions))
    labels = np.array([names.index(m) for m in motions], np.int64)
    return labels, names, np.array([s.label for s in samples], np.int64)


def shuffle_labels(labels: np.ndarray, seed: int) -> np.ndarray:
    """The labels of the used clips (>= 0) permuted among themselves; skipped clips stay -1."""
    out = labels.copy()
    used = np.flatnonzero(labels >= 0)
    out[used] = labels[used][np.random.default_rng(seed).permutation(len(used))]
    return out
