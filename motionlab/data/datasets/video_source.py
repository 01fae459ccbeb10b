"""A ``VideoSource`` over listed videos: seeded Nv subset, key-frame decoding into the clip cache,
bad videos skipped (recorded with the reason) and replaced from the slot's own reserve.

The selection is resolved once, when the source is built: every selected clip is decoded (in
``decode_workers`` threads; PyAV and OpenCV release the GIL while decoding) and cached as uint8,
so the first epoch already reads from the cache and a bad video is known before training starts.
A second build finds every clip cached and only stats files. ``__getitem__`` reads the cache
(decoding again only if an entry vanished), holds no open handles and no pools, so the source is
safe to pickle into DataLoader workers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from motionlab.core.errors import DataError
from motionlab.data.clip_cache import ClipCache
from motionlab.data.datasets.protocol import Listing, Skip, VideoEntry, key_frame_indices, subset_chains
from motionlab.data.decode import ClipError, Size, as_size, decode_all, decode_clip, read_rawframes
from motionlab.data.types import VideoSample

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WholeVideo:
    """The frame selection ``key_frames: null``: every ``interval``-th frame to the end of the video."""

    interval: int = 1


@dataclass(frozen=True)
class VideoFileReader:
    """Key frames from a video file (PyAV, OpenCV fallback)."""

    backend: str = "auto"

    @property
    def tag(self) -> str:
        return f"video:{self.backend}"

    def files(self, entry: VideoEntry, indices: Sequence[int] | WholeVideo) -> list[str]:
        return [entry.path]

    def read(self, entry: VideoEntry, indices: Sequence[int] | WholeVideo, size: Size) -> tuple[np.ndarray, dict]:
        if isinstance(indices, WholeVideo):
            frames, info = decode_all(entry.path, indices.interval, size, self.backend)
        else:
            frames, info = decode_clip(entry.path, indices, size, self.backend)
        return frames, {"fps": info.fps, "declared_frames": info.declared_frames, "backend": info.backend}


@dataclass(frozen=True)
class RawframeReader:
    """Key frames from an extracted-frames folder (MMAction2: ``img_{:05d}.jpg`` from 1)."""

    filename_tmpl: str = "img_{:05d}.jpg"
    start_index: int = 1

    @property
    def tag(self) -> str:
        return f"rawframes:{self.filename_tmpl}:{self.start_index}"

    def files(self, entry: VideoEntry, indices: Sequence[int] | WholeVideo) -> list[str]:
        if isinstance(indices, WholeVideo):
            return [entry.path]  # the folder: its mtime changes when frames are added or removed
        return [str(Path(entry.path) / self.filename_tmpl.format(i + self.start_index)) for i in indices]

    def read(self, entry: VideoEntry, indices: Sequence[int] | WholeVideo, size: Size) -> tuple[np.ndarray, dict]:
        if isinstance(indices, WholeVideo):
            if entry.num_frames is None:
                raise ClipError(entry.path, "the list declares no frame count", "use a rawframe list "
                                "'<dir> <num_frames> <label>' for data.video.key_frames=null")
            indices = list(range(0, entry.num_frames, indices.interval))
        need = max(indices) + 1
        if entry.num_frames is not None and entry.num_frames < need:
            raise ClipError(entry.path, f"too few frames: the list declares {entry.num_frames}, "
                            f"{need} needed", "lower data.video.key_frames / key_interval")
        frames = read_rawframes(entry.path, indices, size, self.filename_tmpl, self.start_index)
        return frames, {"fps": 0.0, "declared_frames": entry.num_frames, "backend": "rawframes"}


ClipReader = VideoFileReader | RawframeReader


class ClipVideoSource:
    """Key-frame clips of the videos a reader listed. ``skipped`` lists every video left out and
    why (listing problems and decode failures), ``notes`` odd things that lost nothing."""

    def __init__(self, dataset: str, split: str, listing: Listing, cfg: DictConfig, cache_dir: Path,
                 reader: ClipReader) -> None:
        self.dataset, self.split = dataset, split
        self.class_names = list(listing.class_names)
        self.entries = listing.entries
        self.notes = list(listing.notes)
        self.frame_indices: list[int] | WholeVideo = (
            WholeVideo(int(cfg.key_interval)) if cfg.key_frames is None
            else key_frame_indices(int(cfg.key_frames), int(cfg.key_interval)))
        self.size = as_size(cfg.size)
        self.reader = reader
        self.on_bad_video = str(cfg.on_bad_video)
        if self.on_bad_video == "error" and listing.skips:
            first = listing.skips[0]
            raise DataError(f"{first.path}: {first.reason} ({len(listing.skips)} listed {dataset} {split} videos "
                            "cannot be used); fix the tree, or set data.video.on_bad_video=skip to record and "
                            "skip them")
        self.cache = ClipCache(Path(cache_dir) / "clips")
        num = cfg.num_test_videos if split == "test" else cfg.num_videos
        chains = subset_chains(len(self.entries), num, int(cfg.subset_seed))
        self.selected, decode_skips = self._resolve(chains, int(cfg.decode_workers))
        self.skipped = list(listing.skips) + decode_skips
        self.num_listed = len(self.entries) + len(listing.skips)
        log.info("%s %s: %d videos selected of %d listed, %d skipped", dataset, split, len(self.selected),
                 self.num_listed, len(self.skipped))

    # ------------------------------------------------------------------------------- selection
    def _indices(self, entry: VideoEntry) -> list[int] | WholeVideo:
        """The frames to read: the whole video, or the key frames counted from the entry's first frame."""
        if isinstance(self.frame_indices, WholeVideo):
            return self.frame_indices
        return [entry.start_frame + i for i in self.frame_indices]

    def _key(self, entry: VideoEntry) -> str:
        indices = self._indices(entry)
        if isinstance(indices, WholeVideo):
            return ClipCache.key(self.reader.files(entry, indices), [], self.size,
                                 f"{self.reader.tag}:whole:{indices.interval}")
        return ClipCache.key(self.reader.files(entry, indices), indices, self.size, self.reader.tag)

    def _decode_into_cache(self, entry: VideoEntry, key: str) -> tuple[np.ndarray, dict[str, Any]]:
        frames, meta = self.reader.read(entry, self._indices(entry), self.size)
        self.cache.save(key, frames, meta)
        return frames, meta

    def _resolve_chain(self, chain: np.ndarray) -> tuple[int | None, list[Skip]]:
        """The first candidate of a slot's chain whose clip is (or now gets) cached."""
        skips = []
        for index in chain.tolist():
            entry = self.entries[index]
            key = self._key(entry)
            if self.cache.contains(key):
                return index, skips
            try:
                self._decode_into_cache(entry, key)
                return index, skips
            except ClipError as err:
                if self.on_bad_video == "error":
                    raise
                log.warning("skipping %s: %s", err.path, err.reason)
                skips.append(Skip(entry.path, err.reason))
        return None, skips

    def _resolve(self, chains: list[np.ndarray], workers: int) -> tuple[list[int], list[Skip]]:
        if workers > 1 and len(chains) > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(self._resolve_chain, chains))
        else:
            results = [self._resolve_chain(chain) for chain in chains]
        selected = [index for index, _ in results if index is not None]
        skips = [skip for _, chain_skips in results for skip in chain_skips]
        return selected, skips

    # ------------------------------------------------------------------------------- protocol
    def __len__(self) -> int:
        return len(self.selected)

    def __getitem__(self, index: int) -> VideoSample:
        entry = self.entries[self.selected[index]]
        key = self._key(entry)
        # a whole video is memory-mapped: a TSN sampler reads a few of its frames, never all of them
        cached = self.cache.load(key, mmap=isinstance(self.frame_indices, WholeVideo))
        if cached is None:  # evicted or the file changed since the source was built: decode again
            try:
                cached = self._decode_into_cache(entry, key)
            except ClipError as err:
                raise DataError(f"{err}; the file changed after the dataset was indexed") from err
        frames, meta = cached
        return VideoSample(frames=frames, video_id=entry.video_id, label=entry.label, meta={
            "path": entry.path, "dataset": self.dataset, "split": self.split,
            "frame_indices": self._indices_of(entry, frames), **meta})

    def _indices_of(self, entry: VideoEntry, frames: np.ndarray) -> list[int]:
        indices = self._indices(entry)
        if isinstance(indices, WholeVideo):
            return list(range(0, len(frames) * indices.interval, indices.interval))
        return indices

    def labels(self) -> np.ndarray:
        """True action labels of the selected videos (-1 where none), without decoding."""
        return np.array([self.entries[i].label for i in self.selected], dtype=np.int64)

    def skip_records(self) -> list[dict[str, str]]:
        """``skipped`` as plain dicts, for a run's manifest."""
        return [{"path": s.path, "reason": s.reason} for s in self.skipped]
