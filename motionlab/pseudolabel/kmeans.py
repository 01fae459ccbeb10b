"""Seeded K-means on faiss (GPU when there is one): the 128-word flow codebook and the clip-level
clustering both come from here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

try:
    import faiss
except ImportError as err:  # the cpu / gpu extras are alternatives, so neither is a plain dependency
    raise ImportError("faiss is not installed: pip install 'motionlab[cpu]' (or 'motionlab[gpu]' on a CUDA "
                      "machine); `make install` does it") from err
import numpy as np


@dataclass
class KMeansResult:
    centroids: np.ndarray  # float32 [k, d]
    labels: np.ndarray  # int64 [n], the nearest centroid of each input row
    inertia: float  # sum of squared distances to the nearest centroid


def use_gpu() -> bool:
    return faiss.get_num_gpus() > 0


@contextlib.contextmanager
def faiss_threads(threads: int) -> Iterator[None]:
    """Run faiss with ``threads`` OpenMP threads, then restore the previous count."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def kmeans(x: np.ndarray, k: int, seed: int, niter: int = 25, nredo: int = 1, threads: int = 1,
           init: np.ndarray | None = None) -> KMeansResult:
    """K-means of the rows of ``x`` [n, d]; ``nredo`` restarts keep the lowest-inertia run. Every row
    is used (faiss would otherwise subsample to 256 per centroid); sample before calling to bound
    the cost.

    One CPU thread by default: once torch is imported, its OpenMP runtime and faiss's spin against
    each other, and 2 faiss threads on 2 cores took 1.7 s where 1 thread took 2 ms (18 clips,
    K=16); the problems here (<= 262k 2-d entries, <= 13k clips) take seconds on one thread.
    ``init`` [k, d]: start from these centroids instead of seeded random rows (benchmarks)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2 or len(x) < k:
        raise ValueError(f"K-means with k={k} needs at least k rows of a 2-d array, got shape {x.shape}")
    model = faiss.Kmeans(x.shape[1], k, niter=niter, nredo=nredo, seed=int(seed), gpu=use_gpu(),
                         verbose=False, max_points_per_centroid=max(1, -(-len(x) // k)), min_points_per_centroid=1)
    with faiss_threads(threads):
        model.train(x, init_centroids=None if init is None else np.ascontiguousarray(init, np.float32))
        distances, labels = model.index.search(x, 1)
    return KMeansResult(model.centroids.copy(), labels[:, 0].astype(np.int64), float(distances.sum()))


def nearest_centroid(x: np.ndarray, centroids: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """Index of the nearest centroid of each row of ``x`` [n, d], ``chunk`` rows at a time (an
    [n, k] distance matrix of a whole 256x340 map would be 45 MB). Plain numpy: workers stay
    single-threaded and the result does not depend on a thread count."""
    x = np.asarray(x, np.float32)
    centroids = np.asarray(centroids, np.float32)
    sq_norms = (centroids**2).sum(1)
    out = np.empty(len(x), np.int64)
    for start in range(0, len(x), chunk):
        rows = x[start : start + chunk]
        out[start : start + chunk] = (sq_norms[None, :] - 2.0 * rows @ centroids.T).argmin(axis=1)
    return out
