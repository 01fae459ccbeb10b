"""PASCAL VOC 2012 Action in its official layout (Everingham et al.):

    VOC2012/JPEGImages/<id>.jpg
    VOC2012/Annotations/<id>.xml            each person <object>: <bndbox>, <actions> with a 0/1
                                            element per action (and sometimes a <point>)
    VOC2012/ImageSets/Action/<set>.txt      "<id> <objidx>" (objidx from 1) for set = train/val/trainval
    VOC2012/ImageSets/Action/<action>_<set>.txt
                                            "<id> <objidx> <±1>", printed with "% d": a positive
                                            label has two blanks before it ("2010_000260 1  1")

A sample is one person box (with a context margin). Ten actions; a person with none of them
(VOC's ``other``) is left out unless ``include_other``; a person with several is left out
(recorded) or given the first, as ``multi_action`` says. Paper protocol: 10 labeled images per
class for training (from ``train``), 2000 test persons (from ``val``: VOC's test labels are
withheld).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from motionlab.core.errors import DataError
from motionlab.data.datasets.image_source import ImageEntry, ImageProtocolConfig, PersonCropSource
from motionlab.data.datasets.protocol import Skip, bad_line, load_config, read_lines
from motionlab.data.sources import register_image_source

LAYOUT = "the VOC2012 folder holding JPEGImages/, Annotations/, ImageSets/Action/ (or VOCdevkit above it)"
FIX = "extract the whole VOCtrainval_11-May-2012.tar"
ACTIONS = ["jumping", "phoning", "playinginstrument", "reading", "ridingbike", "ridinghorse", "running",
           "takingphoto", "usingcomputer", "walking"]


@dataclass
class VocActionConfig(ImageProtocolConfig):
    source: str = "voc2012_action"
    actions: list[str] = field(default_factory=lambda: list(ACTIONS))
    include_other: bool = False       # persons with none of the actions as an 11th class "other"
    multi_action: str = "skip"        # a person with several actions: skip (recorded) | first
    shots_per_class: int = 10
    test_limit: int | None = 2000
    train_split: str = "train"
    test_split: str = "val"


def find_voc2012(root: Path) -> Path:
    """The folder holding ImageSets/Action, whether root is it, its parent, or VOCdevkit's parent."""
    for candidate in (root, root / "VOC2012", root / "VOCdevkit" / "VOC2012"):
        if (candidate / "ImageSets" / "Action").is_dir():
            return candidate
    raise DataError(f"{root}: no ImageSets/Action found here, in VOC2012/ or VOCdevkit/VOC2012/; "
                    f"data.image.root must be {LAYOUT}")


def read_action_labels(path: Path) -> dict[tuple[str, int], int]:
    """``<action>_<set>.txt`` -> {(image id, object index from 1): +1/-1}."""
    labels = {}
    for number, fields in read_lines(path, "VOC action list", FIX):
        if len(fields) != 3 or not fields[1].isdigit() or fields[2] not in ("1", "-1", "0"):
            raise bad_line(path, number, "'<id> <objidx> <1|-1>'", fields)
        labels[(fields[0], int(fields[1]))] = int(fields[2])
    return labels


def read_members(path: Path, labels: dict[str, dict[tuple[str, int], int]]) -> list[tuple[str, int]]:
    """``<set>.txt`` -> (image id, object index) in file order; a line with the image id alone
    stands for every person of that image that the action lists know."""
    known: dict[str, list[int]] = {}
    for action_labels in labels.values():
        for image_id, obj in action_labels:
            known.setdefault(image_id, [])
            if obj not in known[image_id]:
                known[image_id].append(obj)
    members: list[tuple[str, int]] = []
    for number, fields in read_lines(path, "VOC action image set", FIX):
        if len(fields) == 2 and fields[1].isdigit():
            members.append((fields[0], int(fields[1])))
        elif len(fields) == 1:
            members.extend((fields[0], obj) for obj in sorted(known.get(fields[0], [])))
        else:
            raise bad_line(path, number, "'<id> <objidx>'", fields)
    return list(dict.fromkeys(members))


def list_voc_action(voc: Path, split: str, cfg: DictConfig) -> PersonCropSource:
    sets = voc / "ImageSets" / "Action"
    actions = list(cfg.actions)
    labels = {a: read_action_labels(sets / f"{a}_{split}.txt") for a in actions}
    members = read_members(sets / f"{split}.txt", labels)
    class_names = actions + (["other"] if cfg.include_other else [])
    source = PersonCropSource("voc2012_action", split, [], class_names, float(cfg.context_margin))
    left_as_other = 0
    for image_id, obj in members:
        positives = [a for a in actions if labels[a].get((image_id, obj)) == 1]
        where = f"{sets / f'{split}.txt'}: {image_id} object {obj}"
        if not positives and not cfg.include_other:
            left_as_other += 1
            continue
        if len(positives) > 1 and cfg.multi_action == "skip":
            source.skipped.append(Skip(where, f"several actions {positives} (data.image.multi_action=first "
                                              "keeps the first)"))
            continue
        image = voc / "JPEGImages" / f"{image_id}.jpg"
        xml = voc / "Annotations" / f"{image_id}.xml"
        missing = [p for p in (image, xml) if not p.is_file()]
        if missing:
            source.skipped.append(Skip(str(missing[0]), f"listed in {split}.txt but not found ({FIX})"))
            continue
        label = actions.index(positives[0]) if positives else len(actions)
        source.entries.append(ImageEntry(str(image), label, f"{image_id}_{obj}", str(xml), obj - 1))
    if left_as_other:
        source.notes.append(Skip(str(sets / f"{split}.txt"), f"{left_as_other} persons with none of the "
                                 f"{len(actions)} actions (VOC 'other') left out (data.image.include_other)"))
    return source


@register_image_source("voc2012_action")
def voc2012_action(cfg: DictConfig, split: str, cache_dir: Path) -> PersonCropSource:
    cfg, root = load_config(VocActionConfig, cfg, "data.image", LAYOUT)
    if cfg.multi_action not in ("skip", "first"):
        raise DataError(f"data.image.multi_action must be 'skip' or 'first', got {cfg.multi_action!r}")
    voc_split = {"train": cfg.train_split, "test": cfg.test_split}.get(split, split)
    source = list_voc_action(find_voc2012(root), voc_split, cfg)
    source.cap_per_class(cfg.train_per_class if split == "train" else cfg.test_per_class)
    return source
