"""Accuracy of video-level class scores (the TSN streams and their fusion)."""

from __future__ import annotations

import numpy as np


def top1(scores: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy (%) of ``scores [N, K]`` against ``labels [N]``."""
    return 100.0 * float((scores.argmax(1) == labels).mean())
