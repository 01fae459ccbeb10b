"""The paper's data protocol and the small helpers every reader shares.

Video protocol (Zhang et al., Sec. 4.1), all from config: Nv videos sampled by a seed, the first
k key frames at an interval of 3, each k-frame clip split into three (k-2)-frame clips for motion
classification, a smoothness window delta_t. Readers only turn an official layout into a list of
``VideoEntry``/labels; sampling, decoding, caching and skipping live in ``video_source.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import MISSING, DictConfig, OmegaConf

from motionlab.core.errors import DataError
from motionlab.core.schema import validate_node


@dataclass
class VideoProtocolConfig:
    """Keys shared by every real video config (``conf/data/video/*.yaml``)."""

    source: str = MISSING
    root: str = MISSING               # the user's copy of the dataset
    split_id: int = 1                 # official split 1/2/3
    num_videos: int | None = 1000     # Nv, sampled by subset_seed from the train split (null: all)
    num_test_videos: int | None = None  # the same cap for the test split (null: all)
    subset_seed: int = 0
    key_frames: int | None = 12       # k; null: every key_interval-th frame of the whole video (TSN)
    key_interval: int = 3             # frames between key frames
    motion_subclip: int = 10          # k-2: length of the sub-clips for motion classification
    delta_t: int = 10                 # smoothness window
    size: Any = 112                   # decoded frame size: int (square), [H, W], or null (native)
    backend: str = "auto"             # auto (PyAV, OpenCV fallback) | pyav | opencv
    on_bad_video: str = "skip"        # skip (recorded, replaced from the reserve) | error
    decode_workers: int = 2           # threads that decode the selection once into the clip cache


def load_config(schema: type, cfg: DictConfig, where: str, expected: str) -> tuple[DictConfig, Path]:
    """``cfg`` checked against ``schema`` (unknown key or wrong type: a ConfigError naming the
    valid keys) and the dataset root, or a DataError saying which key to set to what."""
    if OmegaConf.is_missing(cfg, "root") or not Path(str(cfg.root)).expanduser().is_dir():
        given = "not set" if OmegaConf.is_missing(cfg, "root") else f"{str(cfg.root)!r} is not a folder"
        raise DataError(f"{where}.root {given}: point it at your copy of the data ({expected}), "
                        f"e.g. `{where}.root=/data/...`")
    node = validate_node(schema, cfg, where)
    if node.get("on_bad_video", "skip") not in ("skip", "error"):
        raise DataError(f"{where}.on_bad_video must be 'skip' or 'error', got {node.on_bad_video!r}")
    return node, Path(str(node.root)).expanduser()


def key_frame_indices(key_frames: int, interval: int, start: int = 0) -> list[int]:
    """The first ``key_frames`` frames at ``interval`` (paper: k=12 or 7, interval 3)."""
    if key_frames < 1 or interval < 1:
        raise ValueError(f"key_frames and key_interval must be >= 1, got {key_frames}, {interval}")
    return [start + i * interval for i in range(key_frames)]


def subset_chains(count: int, num: int | None, seed: int) -> list[np.ndarray]:
    """Nv "slots" over ``count`` candidates: slot i tries candidates perm[i], perm[i+Nv], ...
    in turn. The first slot entries are a seeded uniform sample; a slot whose video is bad falls
    back to its own reserve, so replacements are deterministic and never shared between slots."""
    perm = np.random.default_rng(seed).permutation(count)
    slots = count if num is None else min(int(num), count)
    return [perm[i::slots] for i in range(slots)]


@dataclass(frozen=True)
class Skip:
    """A file left out (or a suspicious one, for notes), with why."""

    path: str
    reason: str


@dataclass(frozen=True)
class VideoEntry:
    """One listed video: absolute path of the file (or rawframe folder), label (-1 if none), id
    (the path relative to the video root, without extension), the frame count where the list
    declares one (rawframes), and the first frame of its clip (several clips of one long video,
    as ``video_folder`` lists them)."""

    path: str
    label: int
    video_id: str
    num_frames: int | None = None
    start_frame: int = 0


@dataclass
class Listing:
    """What a reader found in the official files: the usable entries, the class names, and every
    listed file it had to leave out (``skips``) or found odd (``notes``)."""

    entries: list[VideoEntry]
    class_names: list[str]
    skips: list[Skip] = field(default_factory=list)
    notes: list[Skip] = field(default_factory=list)


def read_lines(path: Path, what: str, fix: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, whitespace-split fields) of a text list, CRLF and trailing blanks tolerated,
    empty lines dropped; a missing file is a DataError naming it."""
    if not path.is_file():
        raise DataError(f"{path}: {what} not found ({fix})")
    text = path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if fields:
            yield number, fields


def bad_line(path: Path, number: int, expected: str, fields: list[str]) -> DataError:
    """A DataError for a malformed line: file, line number, the expected form and what was there."""
    return DataError(f"{path}:{number}: expected {expected}, got {' '.join(fields)!r}")


class CaseTolerantTree:
    """Finds ``a/b.avi`` under ``root`` whatever the case of each part (UCF101's lists say
    ``HandStandPushups`` where a folder or file is ``HandstandPushups``), one listing per folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._listings: dict[Path, dict[str, str]] = {}

    def _listing(self, folder: Path) -> dict[str, str]:
        if folder not in self._listings:
            try:
                names = [entry.name for entry in folder.iterdir()]
            except (FileNotFoundError, NotADirectoryError):
                names = []
            listing = {name.lower(): name for name in names}
            listing.update({name: name for name in names})  # exact names win over case folding
            self._listings[folder] = listing
        return self._listings[folder]

    def find(self, relative: str) -> Path | None:
        current = self.root
        for part in Path(relative.replace("\\", "/")).parts:
            listing = self._listing(current)
            name = listing.get(part) or listing.get(part.lower())
            if name is None:
                return None
            current = current / name
        return current

    def why_missing(self, relative: str) -> str:
        """Which part of ``relative`` is missing, for skip reasons."""
        current = self.root
        for part in Path(relative.replace("\\", "/")).parts:
            listing = self._listing(current)
            name = listing.get(part) or listing.get(part.lower())
            if name is None:
                kind = "folder" if part != Path(relative).name else "file"
                return f"{kind} {part!r} not found in {current}"
            current = current / name
        return "found"

    def child_dirs(self) -> list[str]:
        return sorted(name for name in set(self._listing(self.root).values()) if (self.root / name).is_dir())
