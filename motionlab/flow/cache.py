"""A flow cache on disk: ``root/<key>/<video id>.npy`` holds the float16 flow [P, 2, H, W] between a
clip's P+1 key frames, so pair ``i`` of a video is ``load(video_id)[i]`` (or ``load_pair``).

Why float16: half the bytes of float32 (ratio 0.5 plus a 128-byte .npy header per clip; see
``size_ratio``), and its 11-bit mantissa keeps flow to 1/1024 of a pixel below 1 px, 1/32 px at
32 px, far below any estimator's error. One file per clip rather than per pair keeps the file
count at the clip count (13k for UCF101 instead of 146k). ``key`` must change whenever the flow
would: the estimator's ``config_hash()`` and the source's frame selection (``cache_key``).
Writes go to a temp name and are renamed, so a killed run leaves either a whole file or none, and
a rerun recomputes exactly the missing clips.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from motionlab.core.errors import DataError
from motionlab.core.hashing import config_hash
from motionlab.core.io import atomic_save_npy, atomic_write_text
from motionlab.data.types import VideoSample, VideoSource

CACHE_DTYPE = np.float16
_F16_MAX = float(np.finfo(np.float16).max)
_NPY_HEADER = 128  # bytes np.save writes before the data for arrays of up to 4 dims


def cache_key(estimator_hash: str, frames_config: Any = None) -> str:
    """Directory name for flow of one estimator on one frame selection (e.g. ``cfg.data.video``)."""
    return config_hash({"estimator": estimator_hash, "frames": frames_config})


def size_ratio(shape: tuple[int, ...]) -> float:
    """Bytes on disk of a cached clip of flow ``shape`` over the same array as float32 .npy."""
    n = int(np.prod(shape))
    return (_NPY_HEADER + 2 * n) / (_NPY_HEADER + 4 * n)


def _file_name(video_id: str) -> str:
    """A safe file name that stays readable; ids that had to be altered get a digest suffix so
    that two ids never share a file."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", video_id)[:150]
    if safe != video_id or safe.startswith("."):
        safe = f"{safe}-{hashlib.sha256(video_id.encode()).hexdigest()[:10]}"
    return safe + ".npy"


class FlowCache:
    """Cached flow of one estimator + frame selection; see the module docstring."""

    def __init__(self, root: Path | str, key: str) -> None:
        self.dir = Path(root) / key
        self.key = key

    def path(self, video_id: str) -> Path:
        return self.dir / _file_name(video_id)

    def has(self, video_id: str) -> bool:
        return self.path(video_id).is_file()

    def save(self, video_id: str, flow: np.ndarray) -> Path:
        """Store flow [P, 2, H, W]; non-finite values are refused (they mean a failed estimate)."""
        flow = np.asarray(flow)
        if flow.ndim != 4 or flow.shape[1] != 2:
            raise ValueError(f"{video_id}: cached flow must be [P, 2, H, W], got {flow.shape}")
        if not np.isfinite(flow).all():
            raise ValueError(f"{video_id}: flow has NaN/inf values; not caching a failed estimate")
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.path(video_id)
        atomic_save_npy(path, np.clip(flow, -_F16_MAX, _F16_MAX).astype(CACHE_DTYPE))
        return path

    def load(self, video_id: str, mmap: bool = False) -> np.ndarray:
        """Flow [P, 2, H, W]: float32 in memory, or a read-only float16 memory map (``mmap``)."""
        path = self.path(video_id)
        try:
            flow = np.load(path, mmap_mode="r" if mmap else None)
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as err:
            raise DataError(f"{path}: unreadable cached flow of {video_id!r} ({err}); delete the file "
                            "and rerun to recompute it") from err
        return flow if mmap else flow.astype(np.float32)

    def load_pair(self, video_id: str, pair: int) -> np.ndarray:
        """Flow [2, H, W] of key-frame pair ``pair`` of a video, reading only that pair."""
        return np.asarray(self.load(video_id, mmap=True)[pair], dtype=np.float32)

    def write_info(self, info: dict[str, Any]) -> None:
        """``cache.json``: what made this flow (estimator, params, frames), for people and tools."""
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.dir / "cache.json",
                          json.dumps({"dtype": np.dtype(CACHE_DTYPE).name, **info}, indent=2, default=str))


def fill_flow_cache(cache: FlowCache, source: VideoSource, indices: Iterable[int],
                    estimate: Callable[[VideoSample], np.ndarray]) -> int:
    """Compute and store the flow of each video ``indices`` of ``source`` not cached yet, one video
    in memory at a time; returns how many were computed. A killed run resumes at the first missing
    video; machines given disjoint ``indices`` (shards) fill one cache together."""
    computed = 0
    for i in indices:
        sample = source[i]
        if not cache.has(sample.video_id):
            cache.save(sample.video_id, estimate(sample))
            computed += 1
    return computed
