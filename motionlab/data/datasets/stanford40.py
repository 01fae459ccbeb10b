"""Stanford 40 Actions in its official layout (Yao et al. 2011):

    <root>/JPEGImages/<action>_NNN.jpg
    <root>/XMLAnnotations/<action>_NNN.xml       the person box (<object><bndbox>)
    <root>/ImageSplits/actions.txt               a header line, then "<action>\\t<number_of_images>"
    <root>/ImageSplits/<action>_{train,test}.txt image file names, one per line
    <root>/ImageSplits/{train,test}.txt          all image file names of the split

Class order is that of actions.txt. Labels come from the per-action split files; the combined
``<split>.txt`` only cross-checks them. Paper protocol: 30 labeled images per class for
training, the standard 5532 test images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from motionlab.core.errors import DataError
from motionlab.data.datasets.image_source import ImageEntry, ImageProtocolConfig, PersonCropSource
from motionlab.data.datasets.protocol import Skip, bad_line, load_config, read_lines
from motionlab.data.sources import register_image_source

LAYOUT = "the Stanford40 folder holding JPEGImages/, XMLAnnotations/, ImageSplits/"
FIX = "extract StanfordActionDataset.zip (images, XMLAnnotations, ImageSplits) into data.image.root"


@dataclass
class Stanford40Config(ImageProtocolConfig):
    source: str = "stanford40"
    shots_per_class: int = 30
    test_limit: int | None = None     # the standard 5532 test images
    train_split: str = "train"
    test_split: str = "test"


def find_stanford40(root: Path) -> Path:
    for candidate in (root, root / "Stanford40"):
        if (candidate / "ImageSplits").is_dir():
            return candidate
    raise DataError(f"{root}: no ImageSplits/ here or in Stanford40/; data.image.root must be {LAYOUT}")


def read_actions(path: Path) -> list[tuple[str, int | None]]:
    """actions.txt -> (action, declared image count) in file order, header line skipped."""
    rows = []
    for number, fields in read_lines(path, "Stanford40 action list", FIX):
        if number == 1 and (len(fields) < 2 or not fields[1].isdigit()):
            continue  # the header "action_name  number_of_images"
        if len(fields) > 2:
            raise bad_line(path, number, "'<action>\\t<number_of_images>'", fields)
        rows.append((fields[0], int(fields[1]) if len(fields) == 2 and fields[1].isdigit() else None))
    if not rows:
        raise DataError(f"{path}: no actions listed")
    return rows


def list_stanford40(root: Path, split: str, margin: float) -> PersonCropSource:
    splits = root / "ImageSplits"
    actions = read_actions(splits / "actions.txt")
    class_names = [name for name, _ in actions]
    source = PersonCropSource("stanford40", split, [], class_names, margin)
    listed = set()
    for label, name in enumerate(class_names):
        split_file = splits / f"{name}_{split}.txt"
        for number, fields in read_lines(split_file, "Stanford40 split file", FIX):
            file_name = fields[0]
            stem = Path(file_name).stem
            listed.add(file_name)
            if not stem.startswith(f"{name}_"):
                source.notes.append(Skip(f"{split_file}:{number}", f"{file_name} is not named {name}_NNN"))
            image, xml = root / "JPEGImages" / file_name, root / "XMLAnnotations" / f"{stem}.xml"
            missing = [p for p in (image, xml) if not p.is_file()]
            if missing:
                source.skipped.append(Skip(str(missing[0]), f"listed in {split_file.name} but not found"))
                continue
            source.entries.append(ImageEntry(str(image), label, stem, str(xml)))
    combined = splits / f"{split}.txt"
    if combined.is_file():
        names = {fields[0] for _, fields in read_lines(combined, "Stanford40 split file", FIX)}
        if names != listed:
            source.notes.append(Skip(str(combined), f"{len(names - listed)} images only here, "
                                     f"{len(listed - names)} only in the per-action files"))
    return source


@register_image_source("stanford40")
def stanford40(cfg: DictConfig, split: str, cache_dir: Path) -> PersonCropSource:
    cfg, root = load_config(Stanford40Config, cfg, "data.image", LAYOUT)
    stanford_split = {"train": cfg.train_split, "test": cfg.test_split}.get(split, split)
    source = list_stanford40(find_stanford40(root), stanford_split, float(cfg.context_margin))
    source.cap_per_class(cfg.train_per_class if split == "train" else cfg.test_per_class)
    return source
