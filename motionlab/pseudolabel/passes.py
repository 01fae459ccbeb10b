"""The per-clip passes of the pseudo-label pipeline, run in a process pool with a progress bar.

1. ``flow_task``: key frames -> flow between consecutive key frames (from the flow cache, or
   computed and cached), its magnitude histogram and its EPE against ground truth where present.
2. ``sample_task``: a seeded Bernoulli sample of the entries above the OTSU threshold, for the
   codebook K-means.
3. ``vlad_task``: the VLAD of every flow map of a clip on the codebook.

``collect_flow_records``, ``split_records`` and ``mean_epe`` read the flow pass's records.

Each task returns a small record, so memory stays flat in the number of clips: flow lives on disk
in the cache and one clip at a time in a worker. Every random choice is seeded by (seed, video
id), never by worker or order, so sharded, parallel and serial runs give the same labels.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from motionlab.core.errors import DataError
from motionlab.data.types import VideoSample, VideoSource
from motionlab.flow.base import build_flow
from motionlab.flow.cache import FlowCache
from motionlab.flow.metrics import endpoint_error
from motionlab.pseudolabel.otsu import MagnitudeHistogram, flow_magnitude
from motionlab.pseudolabel.vlad import encode_flow_map

log = logging.getLogger(__name__)

# Not an estimator: the source's exact flow (synthetic data), for the ceiling of the label pipeline.
GROUND_TRUTH = "ground_truth"


def describe_backend(backend: str, params: dict[str, Any]) -> dict[str, Any]:
    """Name, full params, and config hash of a flow backend (or of ``ground_truth``); builds the
    estimator once here, so a bad name or param fails before any work."""
    if backend == GROUND_TRUTH:
        if params:
            raise ValueError(f"backend {GROUND_TRUTH!r} takes no params, got {params}")
        return {"backend": backend, "backend_params": {}, "estimator": backend, "estimator_hash": backend}
    estimator = build_flow(backend, **params)
    return {"backend": backend, "backend_params": estimator.params_dict(), "estimator": repr(estimator),
            "estimator_hash": estimator.config_hash()}


@dataclass(frozen=True)
class PassConfig:
    """What every worker needs; pickled once per worker."""

    backend: str
    backend_params: dict[str, Any]
    cache_root: str
    cache_key: str
    bin_width: float
    max_magnitude: float
    compute_missing: bool = True  # False: a clip without cached flow is reported, not computed


@dataclass
class ClipRecord:
    """Outcome of the flow pass for one clip of the source."""

    index: int
    video_id: str = ""
    label: int = -1
    pairs: int = 0
    shape: tuple[int, int] = (0, 0)
    cached: bool = False
    missing: bool = False  # no cached flow and compute_missing was False
    skip: str = ""  # why the clip cannot be used ("" when it can)
    read_s: float = 0.0
    flow_s: float = 0.0
    epe: float | None = None
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def collect_flow_records(records: Iterable[ClipRecord], histogram: MagnitudeHistogram) -> list[ClipRecord]:
    """Take the flow pass's records as they stream in: add each usable clip's magnitude counts to
    the global histogram and drop them (memory stays flat in the clip count). All used clips need
    the same number of pairs (the clip feature concatenates them): the first usable clip sets it."""
    out, pairs = [], 0
    for r in records:
        usable = not r.skip and not r.missing
        pairs = pairs or (r.pairs if usable else 0)
        if usable and r.pairs != pairs:
            r.skip = f"has {r.pairs} key-frame pairs, the clips before it have {pairs}"
        elif usable:
            histogram.add_counts(r.counts)
        r.counts = np.zeros(0, np.int64)
        out.append(r)
    return out


def split_records(records: list[ClipRecord]) -> tuple[list[ClipRecord], list[dict[str, Any]]]:
    """Usable clips, and skip records (index, id, reason) for the others."""
    used = [r for r in records if not r.skip]
    skipped = [{"index": r.index, "video_id": r.video_id, "reason": r.skip} for r in records if r.skip]
    return used, skipped


def mean_epe(records: list[ClipRecord]) -> float | None:
    """EPE over all pixels of all pairs (clips weighted by their pixel count)."""
    scored = [r for r in records if r.epe is not None]
    if not scored:
        return None
    weights = np.array([r.pairs * r.shape[0] * r.shape[1] for r in scored], np.float64)
    return float(np.dot([r.epe for r in scored], weights) / weights.sum())


# ------------------------------------------------------------------------------------- workers
_STATE: dict[str, Any] = {}


def init_worker(source: VideoSource, config: PassConfig) -> None:
    """Set up a worker: the estimator is built on first use, OpenCV runs single-threaded (see
    ``ClipPool``)."""
    cv2.setNumThreads(1)
    _STATE.update(source=source, config=config, cache=FlowCache(config.cache_root, config.cache_key),
                  estimator=None)


def _compute_flow(sample: VideoSample) -> np.ndarray:
    config: PassConfig = _STATE["config"]
    if config.backend == GROUND_TRUTH:
        if sample.flow_gt is None:
            raise ValueError("the source has no ground-truth flow for this clip")
        return sample.flow_gt
    if _STATE["estimator"] is None:
        _STATE["estimator"] = build_flow(config.backend, **config.backend_params)
    return _STATE["estimator"].clip(sample.frames)


def _cached_flow(cache: FlowCache, video_id: str, expected: tuple[int, ...]) -> np.ndarray | None:
    """The cached flow if present, whole and of the expected shape; else None (recompute)."""
    if not cache.has(video_id):
        return None
    try:
        flow = cache.load(video_id)
    except DataError as err:
        log.warning("%s", err)
        return None
    return flow if flow.shape == expected else None


def flow_task(index: int) -> ClipRecord:
    """Pass 1 for clip ``index`` of the source."""
    config: PassConfig = _STATE["config"]
    cache: FlowCache = _STATE["cache"]
    record = ClipRecord(index)
    start = time.perf_counter()
    try:
        sample = _STATE["source"][index]
    except DataError as err:
        record.skip = f"unreadable: {err}"
        return record
    record.read_s = time.perf_counter() - start
    record.video_id, record.label = sample.video_id, int(sample.label)
    frames = sample.frames
    if frames.ndim != 4 or len(frames) < 2:
        record.skip = f"needs at least 2 key frames, has {len(frames) if frames.ndim == 4 else 0}"
        return record
    record.pairs, record.shape = len(frames) - 1, (int(frames.shape[1]), int(frames.shape[2]))
    expected = (record.pairs, 2, *record.shape)
    start = time.perf_counter()
    flow = _cached_flow(cache, sample.video_id, expected)
    record.cached = flow is not None
    if flow is None:
        if not config.compute_missing:
            record.missing = True
            return record
        try:
            flow = _compute_flow(sample)
            cache.save(sample.video_id, flow)
        except (cv2.error, ValueError, RuntimeError) as err:
            record.skip = f"flow failed: {err}"
            return record
        flow = cache.load(sample.video_id)  # what later passes will read (float16-rounded)
    record.flow_s = time.perf_counter() - start
    histogram = MagnitudeHistogram(config.bin_width, config.max_magnitude)
    histogram.add_flow(flow)
    record.counts = histogram.counts
    if sample.flow_gt is not None and sample.flow_gt.shape == flow.shape:
        record.epe = endpoint_error(flow, sample.flow_gt)
    return record


def decode_flow_task(index: int) -> int:
    """Decode clip ``index`` and compute its flow, nothing else (no cache, no histogram): the
    baseline the stage's own wall time is measured against (``motionlab.bench.pseudolabels``).
    Returns the number of flow pairs."""
    return len(_compute_flow(_STATE["source"][index]))


def clip_rng(seed: int, video_id: str) -> np.random.Generator:
    """A generator that depends only on the seed and the clip, not on order or process."""
    digest = hashlib.sha256(f"{seed}:{video_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def sample_task(args: tuple[str, float, float, int]) -> np.ndarray:
    """Pass 2: each entry of the clip at or above ``threshold`` kept with probability ``rate``."""
    video_id, threshold, rate, seed = args
    flow = _STATE["cache"].load(video_id)
    magnitudes = flow_magnitude(flow)
    keep = (magnitudes >= threshold) & (clip_rng(seed, video_id).random(magnitudes.shape) < rate)
    return np.stack([flow[:, 0][keep], flow[:, 1][keep]], axis=1).astype(np.float32)


def vlad_task(args: tuple[str, np.ndarray, float, str, str]) -> np.ndarray:
    """Pass 3: the encoding (VLAD [P, k*2] by default) of each of the clip's P flow maps."""
    video_id, codebook, threshold, encoding, normalization = args
    flow = _STATE["cache"].load(video_id)
    return np.stack([encode_flow_map(f, codebook, threshold, encoding, normalization) for f in flow])


# ----------------------------------------------------------------------------------------- pool
class ClipPool:
    """``map`` over clips in ``workers`` spawned processes (or in this one when ``workers`` is 0),
    in input order, with a rich progress bar. Spawned, not forked: a forked child of a process
    that already ran faiss/torch OpenMP code can deadlock (so a script that runs this stage needs
    the usual ``if __name__ == "__main__":`` guard). OpenCV runs one thread per clip either way,
    so that the flow, and so the labels, do not depend on ``workers``. Inside a worker process
    (a job of ``hydra/launcher=parallel``) the clips run in-process: the launcher already fills
    the cores, and a pool spawned from a joblib worker hung there."""

    def __init__(self, workers: int, source: VideoSource, config: PassConfig, progress: bool) -> None:
        if workers > 0 and mp.parent_process() is not None:
            log.info("flow for pseudo labels runs in this worker process, not in %d nested ones", workers)
            workers = 0
        self.workers, self.progress = workers, progress
        self.executor = None
        self.cv2_threads = cv2.getNumThreads()
        if workers > 0:
            self.executor = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                                initializer=init_worker, initargs=(source, config))
        else:
            init_worker(source, config)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any], description: str) -> Iterator[Any]:
        items = list(items)
        results = (self.executor.map(fn, items, chunksize=max(1, min(8, len(items) // (8 * self.workers))))
                   if self.executor else map(fn, items))
        if not self.progress:
            yield from results
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

        columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns) as bar:
            task = bar.add_task(description, total=len(items))
            for result in results:
                bar.advance(task)
                yield result

    def close(self) -> None:
        if self.executor:
            self.executor.shutdown(cancel_futures=True)
        else:
            cv2.setNumThreads(self.cv2_threads)
            _STATE.clear()

    def __enter__(self) -> ClipPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
