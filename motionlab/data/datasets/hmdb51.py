"""HMDB51 in its official layout (Kuehne et al. 2011):

    <root>/<video_dir>/<class>/<video>.avi                       (one folder per class rar)
    <root>/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt
        "<video>.avi <tag>"   tag 1 = train, 2 = test, 0 = not used in this split

Class names come from the split file names, in sorted order (the labels MMAction2 uses too).
Lines end in a trailing blank; video names hold characters like ``!``, ``&``, ``(``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from motionlab.core.errors import DataError
from motionlab.data.datasets.protocol import (
    CaseTolerantTree,
    Listing,
    Skip,
    VideoEntry,
    VideoProtocolConfig,
    bad_line,
    load_config,
    read_lines,
)
from motionlab.data.datasets.video_source import ClipVideoSource, VideoFileReader
from motionlab.data.sources import register_video_source

LAYOUT = "the folder holding the class folders (see video_dir) and testTrainMulti_7030_splits/"
FIX = "extract test_train_splits.rar into data.video.root"
SPLIT_TAGS = {"train": {1}, "test": {2}, "all": {0, 1, 2}}


@dataclass
class Hmdb51Config(VideoProtocolConfig):
    source: str = "hmdb51"
    video_dir: str = "."
    split_dir: str = "testTrainMulti_7030_splits"
    key_frames: int | None = 7
    motion_subclip: int = 5
    delta_t: int = 5


def list_hmdb51(root: Path, video_dir: str, split_dir: str, split: str, split_id: int) -> Listing:
    """The videos of ``split`` ("train": tag 1, "test": tag 2, "all": every listed video)."""
    if split_id not in (1, 2, 3):
        raise DataError(f"data.video.split_id must be 1, 2 or 3 for HMDB51, got {split_id}")
    if split not in SPLIT_TAGS:
        raise DataError(f"unknown HMDB51 split {split!r}; valid: {sorted(SPLIT_TAGS)}")
    folder = root / split_dir
    pattern = re.compile(rf"^(.+)_test_split{split_id}\.txt$")
    by_class = {m.group(1): f for f in (folder.iterdir() if folder.is_dir() else [])
                if (m := pattern.match(f.name))}
    if not by_class:
        raise DataError(f"{folder}: no <class>_test_split{split_id}.txt files ({FIX})")
    class_names = sorted(by_class)
    tree = CaseTolerantTree(root / video_dir)
    if all(tree.find(name) is None for name in class_names):
        nested = [d for d in tree.child_dirs() if CaseTolerantTree(root / video_dir / d).find(class_names[0])]
        hint = f"set data.video.video_dir={nested[0]}" if nested else f"data.video.root must be {LAYOUT}"
        raise DataError(f"{root / video_dir}: no class folder found (e.g. {class_names[0]!r}); {hint}")
    listing = Listing([], class_names)
    for label, name in enumerate(class_names):
        split_file = by_class[name]
        for number, fields in read_lines(split_file, "HMDB51 split file", FIX):
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                raise bad_line(split_file, number, "'<video>.avi <0|1|2>'", fields)
            if int(fields[1]) not in SPLIT_TAGS[split]:
                continue
            relative = f"{name}/{fields[0]}"
            path = tree.find(relative)
            if path is None or not path.is_file():
                listing.skips.append(Skip(str(root / video_dir / relative),
                                          f"listed in {split_file.name} but {tree.why_missing(relative)}"))
                continue
            video_id = path.relative_to(root / video_dir).with_suffix("").as_posix()
            listing.entries.append(VideoEntry(str(path), label, video_id))
    return listing


@register_video_source("hmdb51")
def hmdb51(cfg: DictConfig, split: str, cache_dir: Path) -> ClipVideoSource:
    cfg, root = load_config(Hmdb51Config, cfg, "data.video", LAYOUT)
    listing = list_hmdb51(root, cfg.video_dir, cfg.split_dir, split, int(cfg.split_id))
    return ClipVideoSource("hmdb51", split, listing, cfg, cache_dir, VideoFileReader(cfg.backend))
