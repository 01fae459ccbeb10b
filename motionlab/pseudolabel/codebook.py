"""The flow codebook and each clip's encoding on it: a global OTSU threshold over every flow
magnitude, K-means on a seeded sample of the (dx, dy) entries above it, then the VLAD (or BoW) of
every flow map of every clip, computed clip by clip in the pass pool."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from motionlab.core.errors import DataError
from motionlab.pseudolabel.kmeans import kmeans
from motionlab.pseudolabel.otsu import MagnitudeHistogram
from motionlab.pseudolabel.passes import ClipPool, sample_task, vlad_task


@dataclass
class Codebook:
    """The OTSU threshold and the K-means codebook of the entries above it."""

    threshold: float
    centroids: np.ndarray
    summary: dict[str, Any]


def build_codebook(pool: ClipPool, ids: list[str], histogram: MagnitudeHistogram, *, size: int, sample_size: int,
                   iters: int, seed: int, backend: str, timings: dict[str, float]) -> Codebook:
    """OTSU over every magnitude, then K-means on a seeded sample of the entries above it (each
    entry kept with the same probability, so the sample has ``sample_size`` entries on average).
    ``backend`` only names the flow in the error; ``timings`` gets ``sample_s`` and ``codebook_s``."""
    threshold = histogram.threshold()
    above = histogram.count_at_least(threshold)
    rate = min(1.0, sample_size / max(above, 1))
    tick = time.perf_counter()
    sample = np.concatenate(list(pool.map(sample_task, [(v, threshold, rate, seed) for v in ids],
                                          "codebook sample")))
    timings["sample_s"] = time.perf_counter() - tick
    if len(sample) < size:
        raise DataError(f"only {len(sample)} flow entries above the OTSU threshold {threshold:.3f} px for a "
                        f"{size}-word codebook; is the flow (backend {backend}) all zero?")
    tick = time.perf_counter()
    result = kmeans(sample, size, seed, niter=iters)
    timings["codebook_s"] = time.perf_counter() - tick
    summary = {"otsu_threshold": threshold, "entries": histogram.total, "entries_above": above,
               "otsu_bin_width": histogram.bin_width, "sample_rate": rate, "sample_entries": int(len(sample)),
               "inertia": result.inertia}
    return Codebook(threshold, result.centroids, summary)


def encode_clips(pool: ClipPool, ids: list[str], codebook: Codebook, encoding: str, normalization: str
                 ) -> np.ndarray:
    """``[clips, pairs, D]``: every flow map of every clip encoded on the codebook, in ``ids`` order."""
    tasks = [(v, codebook.centroids, codebook.threshold, encoding, normalization) for v in ids]
    return np.stack(list(pool.map(vlad_task, tasks, encoding.upper())))
