"""MMAction2-style list files, since many users already hold UCF101/HMDB51 that way:

    video lists     "<rel_path> <label>"                 e.g. ApplyEyeMakeup/v_..._g08_c01.avi 0
    rawframe lists  "<rel_dir> <num_frames> <label>"     frames <rel_dir>/img_00001.jpg, ... (from 1)

Labels are 0-based. Paths are relative to ``root/data_prefix``; list files are relative to
``root`` and may contain ``{split_id}``. Class names come from ``class_names`` or, where every
label sits in one folder of its own (the usual ``<Class>/<video>`` layout), from those folders.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from omegaconf import DictConfig

from motionlab.core.errors import DataError
from motionlab.data.datasets.protocol import (
    Listing,
    Skip,
    VideoEntry,
    VideoProtocolConfig,
    bad_line,
    load_config,
    read_lines,
)
from motionlab.data.datasets.video_source import ClipVideoSource, RawframeReader, VideoFileReader
from motionlab.data.sources import register_video_source

LAYOUT = "the folder holding the list files and data_prefix/"
FIX = "set data.video.train_list / test_list to your list files (relative to data.video.root)"


@dataclass
class MmactionVideoConfig(VideoProtocolConfig):
    source: str = "mmaction_video"
    data_prefix: str = "videos"
    train_list: str = "ucf101_train_split_{split_id}_videos.txt"
    test_list: str = "ucf101_test_split_{split_id}_videos.txt"
    class_names: list[str] | None = None


@dataclass
class MmactionRawframesConfig(MmactionVideoConfig):
    source: str = "mmaction_rawframes"
    data_prefix: str = "rawframes"
    train_list: str = "ucf101_train_split_{split_id}_rawframes.txt"
    test_list: str = "ucf101_test_split_{split_id}_rawframes.txt"
    filename_tmpl: str = "img_{:05d}.jpg"
    start_index: int = 1


def _parse(list_file: Path, rawframes: bool) -> list[tuple[int, str, int | None, int]]:
    """(line number, relative path, num_frames or None, label) per line."""
    width = 3 if rawframes else 2
    form = "'<dir> <num_frames> <label>'" if rawframes else "'<path> <label>'"
    rows = []
    for number, fields in read_lines(list_file, "MMAction2 list file", FIX):
        if len(fields) != width or not all(f.isdigit() for f in fields[1:]):
            raise bad_line(list_file, number, f"{form} (0-based label, one per line)", fields)
        rows.append((number, fields[0], int(fields[1]) if rawframes else None, int(fields[-1])))
    return rows


def _class_names(rows: list[tuple[int, str, int | None, int]]) -> list[str]:
    """One folder per label and one label per folder: the folders; otherwise class_<i>."""
    folders: dict[int, set[str]] = defaultdict(set)
    for _, relative, _, label in rows:
        parts = PurePosixPath(relative).parts
        folders[label].add(parts[0] if len(parts) > 1 else "")
    count = max(folders) + 1
    names = [next(iter(folders[i])) if len(folders.get(i, ())) == 1 else "" for i in range(count)]
    if all(names) and len(set(names)) == count:
        return names
    return [f"class_{i}" for i in range(count)]


def list_mmaction(cfg: DictConfig, root: Path, split: str, rawframes: bool) -> Listing:
    lists = {"train": [cfg.train_list], "test": [cfg.test_list], "all": [cfg.train_list, cfg.test_list]}
    if split not in lists:
        raise DataError(f"unknown split {split!r}; valid: {sorted(lists)}")
    split_id = int(cfg.split_id)
    files = {name: root / str(name).format(split_id=split_id) for name in (cfg.train_list, cfg.test_list)}
    parsed = {name: _parse(file, rawframes) for name, file in files.items()
              if file.is_file() or name in lists[split]}
    all_rows = [row for rows in parsed.values() for row in rows]
    class_names = list(cfg.class_names) if cfg.class_names is not None else _class_names(all_rows)
    prefix = root / cfg.data_prefix
    listing = Listing([], class_names)
    for name in lists[split]:
        for number, relative, num_frames, label in parsed[name]:
            if label >= len(class_names):
                raise DataError(f"{files[name]}:{number}: label {label} but only {len(class_names)} class "
                                "names (labels are 0-based)")
            path = prefix / relative
            if not (path.is_dir() if rawframes else path.is_file()):
                listing.skips.append(Skip(str(path), f"listed in {files[name].name} but not found"))
                continue
            video_id = relative if rawframes else str(PurePosixPath(relative).with_suffix(""))
            listing.entries.append(VideoEntry(str(path), label, video_id, num_frames))
    if not listing.entries and listing.skips:
        what = "frame folders" if rawframes else "videos"
        raise DataError(f"{prefix}: none of the {len(listing.skips)} listed {what} exist; check "
                        "data.video.root and data_prefix")
    return listing


@register_video_source("mmaction_video")
def mmaction_video(cfg: DictConfig, split: str, cache_dir: Path) -> ClipVideoSource:
    cfg, root = load_config(MmactionVideoConfig, cfg, "data.video", LAYOUT)
    listing = list_mmaction(cfg, root, split, rawframes=False)
    return ClipVideoSource("mmaction_video", split, listing, cfg, cache_dir, VideoFileReader(cfg.backend))


@register_video_source("mmaction_rawframes")
def mmaction_rawframes(cfg: DictConfig, split: str, cache_dir: Path) -> ClipVideoSource:
    cfg, root = load_config(MmactionRawframesConfig, cfg, "data.video", LAYOUT)
    listing = list_mmaction(cfg, root, split, rawframes=True)
    reader = RawframeReader(cfg.filename_tmpl, int(cfg.start_index))
    return ClipVideoSource("mmaction_rawframes", split, listing, cfg, cache_dir, reader)
