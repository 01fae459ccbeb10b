"""UCF101 in its official layout (Soomro et al. 2012):

    <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
    <root>/ucfTrainTestlist/classInd.txt          "1 ApplyEyeMakeup" (1-based)
    <root>/ucfTrainTestlist/trainlist0{1,2,3}.txt "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
    <root>/ucfTrainTestlist/testlist0{1,2,3}.txt  "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"

Quirks handled: the lists and folders disagree on case (``HandstandPushups`` vs
``HandStandPushups``), so paths are matched case-insensitively; the lists have CRLF line ends;
test lists carry no label, which comes from the class folder via classInd.txt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

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

LAYOUT = "the folder holding UCF-101/ and ucfTrainTestlist/"
FIX = "extract UCF101TrainTestSplits-RecognitionTask.zip into data.video.root"


@dataclass
class Ucf101Config(VideoProtocolConfig):
    source: str = "ucf101"
    video_dir: str = "UCF-101"
    list_dir: str = "ucfTrainTestlist"


def read_class_index(path: Path) -> list[str]:
    """classInd.txt -> class names in label order (label = line id - 1)."""
    names: dict[int, str] = {}
    for number, fields in read_lines(path, "UCF101 class index", FIX):
        if len(fields) != 2 or not fields[0].isdigit():
            raise bad_line(path, number, "'<id> <ClassName>'", fields)
        names[int(fields[0])] = fields[1]
    if sorted(names) != list(range(1, len(names) + 1)):
        raise DataError(f"{path}: class ids must run 1..N without gaps, got {sorted(names)[:5]}...")
    return [names[i] for i in range(1, len(names) + 1)]


def list_ucf101(root: Path, video_dir: str, list_dir: str, split: str, split_id: int) -> Listing:
    """The videos of ``split`` ("train", "test" or "all") of official split ``split_id``."""
    if split_id not in (1, 2, 3):
        raise DataError(f"data.video.split_id must be 1, 2 or 3 for UCF101, got {split_id}")
    lists = root / list_dir
    class_names = read_class_index(lists / "classInd.txt")
    by_lower = {name.lower(): i for i, name in enumerate(class_names)}
    tree = CaseTolerantTree(root / video_dir)
    kinds = {"train": ["train"], "test": ["test"], "all": ["train", "test"]}.get(split)
    if kinds is None:
        raise DataError(f"unknown UCF101 split {split!r}; valid: train, test, all")
    listing = Listing([], class_names)
    for kind in kinds:
        list_file = lists / f"{kind}list0{split_id}.txt"
        for number, fields in read_lines(list_file, "UCF101 split list", FIX):
            relative = fields[0]
            folder = PurePosixPath(relative.replace("\\", "/")).parts[0]
            if folder.lower() not in by_lower:
                raise DataError(f"{list_file}:{number}: class folder {folder!r} is not in classInd.txt")
            label = by_lower[folder.lower()]
            if kind == "train":
                if len(fields) != 2 or not fields[1].isdigit():
                    raise bad_line(list_file, number, "'<Class>/<video>.avi <id>'", fields)
                if int(fields[1]) - 1 != label:
                    reason = f"label {fields[1]} but folder {folder!r} is class {label + 1}; the folder wins"
                    listing.notes.append(Skip(f"{list_file}:{number}", reason))
            path = tree.find(relative)
            if path is None or not path.is_file():
                listing.skips.append(Skip(str(root / video_dir / relative),
                                          f"listed in {list_file.name} but {tree.why_missing(relative)}"))
                continue
            video_id = path.relative_to(root / video_dir).with_suffix("").as_posix()  # as on disk
            listing.entries.append(VideoEntry(str(path), label, video_id))
    if not listing.entries and listing.skips:
        raise DataError(f"{root / video_dir}: none of the {len(listing.skips)} listed videos exist "
                        f"(first: {listing.skips[0].reason}); data.video.root must be {LAYOUT}")
    return listing


@register_video_source("ucf101")
def ucf101(cfg: DictConfig, split: str, cache_dir: Path) -> ClipVideoSource:
    cfg, root = load_config(Ucf101Config, cfg, "data.video", LAYOUT)
    listing = list_ucf101(root, cfg.video_dir, cfg.list_dir, split, int(cfg.split_id))
    return ClipVideoSource("ucf101", split, listing, cfg, cache_dir, VideoFileReader(cfg.backend))
