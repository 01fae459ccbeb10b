"""Any folder of video files (searched recursively) as unlabeled clips, for what needs no labels:
unsupervised flow pretraining on real footage (``experiment=flow_real``) or pseudo labels.

A few long videos hold many training pairs, so each video is cut into clips of ``key_frames``
frames at ``key_interval``, one starting every ``clip_stride`` frames; every ``test_every``-th clip
of each video is held out as the test split. Videos OpenCV cannot open, or too short for one clip,
are skipped with the reason (``source.skipped``); a clip that fails to decode is skipped by
``ClipVideoSource`` like any bad video. Labels are -1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
from omegaconf import DictConfig

from motionlab.core.errors import DataError
from motionlab.data.datasets.protocol import Listing, Skip, VideoEntry, VideoProtocolConfig, load_config
from motionlab.data.datasets.video_source import ClipVideoSource, VideoFileReader
from motionlab.data.sources import register_video_source

VIDEO_EXTENSIONS = [".avi", ".mp4", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv"]
SPLITS = ("train", "test", "all")


@dataclass
class VideoFolderConfig(VideoProtocolConfig):
    source: str = "video_folder"
    extensions: list[str] = field(default_factory=lambda: list(VIDEO_EXTENSIONS))
    recursive: bool = True
    clip_stride: int = 8   # frames between the first frames of consecutive clips of one video
    test_every: int = 10   # every n-th clip of each video is the test split (0: no test clips)


def video_files(root: Path, extensions: list[str], recursive: bool) -> list[Path]:
    """Files under ``root`` whose suffix is one of ``extensions`` (any case), sorted."""
    wanted = {e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions}
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in root.glob(pattern) if p.is_file() and p.suffix.lower() in wanted)


def frame_count(path: Path) -> int | None:
    """The frame count the container declares (None: OpenCV cannot open the file; 0: not declared)."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return None
        return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    finally:
        capture.release()


def clip_starts(num_frames: int, clip_length: int, stride: int) -> list[int]:
    """First frames of the clips of a video: every ``stride`` frames while a whole clip fits (one
    clip at 0 where the count is not declared: decoding then finds out)."""
    if stride < 1:
        raise DataError(f"data.video.clip_stride must be >= 1, got {stride}")
    if num_frames == 0:
        return [0]
    return list(range(0, num_frames - clip_length + 1, stride))


def in_split(clip: int, split: str, test_every: int) -> bool:
    held_out = test_every > 0 and clip % test_every == test_every - 1
    return split == "all" or held_out == (split == "test")


def list_video_folder(cfg: DictConfig, root: Path, split: str) -> Listing:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; valid: {list(SPLITS)}")
    files = video_files(root, list(cfg.extensions), bool(cfg.recursive))
    if not files:
        raise DataError(f"{root}: no video files ({', '.join(cfg.extensions)}) "
                        f"{'under' if cfg.recursive else 'in'} it; point data.video.root at a folder of videos")
    clip_length = (int(cfg.key_frames) - 1) * int(cfg.key_interval) + 1
    listing = Listing([], [])
    for path in files:
        count = frame_count(path)
        if count is None:
            listing.skips.append(Skip(str(path), "OpenCV cannot open it (not a video, or damaged)"))
            continue
        starts = clip_starts(count, clip_length, int(cfg.clip_stride))
        if not starts:
            listing.skips.append(Skip(str(path), f"too short: {count} frames, a clip needs {clip_length}"))
            continue
        stem = path.relative_to(root).with_suffix("").as_posix()
        listing.entries.extend(VideoEntry(str(path), -1, f"{stem}@{start}", count or None, start)
                               for clip, start in enumerate(starts) if in_split(clip, split, int(cfg.test_every)))
    if not listing.entries:
        raise DataError(f"{root}: no {split} clips among {len(files)} video files ({len(listing.skips)} skipped"
                        f"{': ' + listing.skips[0].reason if listing.skips else ''}); lower "
                        "data.video.key_frames or clip_stride, or set test_every")
    return listing


@register_video_source("video_folder")
def video_folder(cfg: DictConfig, split: str, cache_dir: Path) -> ClipVideoSource:
    cfg, root = load_config(VideoFolderConfig, cfg, "data.video", "a folder of video files")
    listing = list_video_folder(cfg, root, split)
    return ClipVideoSource("video_folder", split, listing, cfg, cache_dir, VideoFileReader(cfg.backend))
