"""An ``ImageSource`` of person crops: the labeled person box of an action image, enlarged by a
context margin, as RGB uint8 whatever the file holds (grayscale, CMYK, palette, alpha, a PNG
saved as .jpg). Labels are known from the lists alone, so ``labels()`` decodes nothing.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import MISSING
from PIL import Image

from motionlab.core.errors import DataError
from motionlab.data.datasets.protocol import Skip
from motionlab.data.types import ImageSample

Box = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax: 1-based, inclusive (VOC style)


@dataclass
class ImageProtocolConfig:
    """Keys shared by every real image config (``conf/data/image/*.yaml``)."""

    source: str = MISSING
    root: str = MISSING
    size: int = 224                       # classifier input side (the DataModule resizes)
    context_margin: float = 0.1           # box enlarged by this fraction of its size on each side
    shots_per_class: int = 10             # labeled training images per class (paper protocol)
    test_limit: int | None = None         # test images used (VOC: 2000)
    train_split: str = "train"
    test_split: str = "test"
    train_per_class: int | None = None    # cap of the labeled pool per class (smoke runs)
    test_per_class: int | None = None     # cap of the test split per class (smoke runs)


def load_rgb(path: Path | str) -> tuple[np.ndarray, str]:
    """uint8 [H, W, 3] RGB and a note on what was converted ("" for a plain RGB file). A file that
    cannot be decoded (truncated, not an image) is a DataError naming it."""
    try:
        with Image.open(path) as image:
            image.load()
            notes = []
            if image.format and Path(path).suffix.lower() in (".jpg", ".jpeg") and image.format != "JPEG":
                notes.append(f"{image.format} data in a {Path(path).suffix} file")
            if image.mode != "RGB":
                notes.append(f"{image.mode} converted to RGB")
                if image.mode in ("P", "PA"):
                    image = image.convert("RGBA")
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError:
        raise DataError(f"{path}: image file not found (re-extract the dataset)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise DataError(f"{path}: cannot decode image ({err}); replace the file from the original "
                        "archive") from err
    return rgb, "; ".join(notes)


def crop_window(box: Box, width: int, height: int, margin: float) -> tuple[int, int, int, int]:
    """0-based [x0, x1) x [y0, y1) pixel window of a 1-based inclusive box enlarged by ``margin``
    of its width/height on each side, clipped to the image."""
    xmin, ymin, xmax, ymax = box
    x0, y0, x1, y1 = xmin - 1, ymin - 1, xmax, ymax
    pad_x, pad_y = margin * (x1 - x0), margin * (y1 - y0)
    x0, y0 = max(0, math.floor(x0 - pad_x)), max(0, math.floor(y0 - pad_y))
    x1, y1 = min(width, math.ceil(x1 + pad_x)), min(height, math.ceil(y1 + pad_y))
    return x0, y0, x1, y1


def parse_annotation(xml_path: Path | str) -> ET.Element:
    try:
        return ET.parse(xml_path).getroot()
    except FileNotFoundError:
        raise DataError(f"{xml_path}: annotation file not found (re-extract the annotations)") from None
    except ET.ParseError as err:
        raise DataError(f"{xml_path}: malformed XML ({err}); replace it from the original archive") from err


def object_box(obj: ET.Element, xml_path: Path | str) -> Box:
    """The ``<bndbox>`` of an ``<object>``."""
    bndbox = obj.find("bndbox")
    try:
        box = tuple(float(bndbox.find(tag).text) for tag in ("xmin", "ymin", "xmax", "ymax"))
    except (AttributeError, TypeError, ValueError):
        raise DataError(f"{xml_path}: object without a valid <bndbox> (xmin, ymin, xmax, ymax)") from None
    if box[2] < box[0] or box[3] < box[1]:
        raise DataError(f"{xml_path}: empty <bndbox> {box}")
    return box


@dataclass(frozen=True)
class ImageEntry:
    """One labeled person: its image, label, id, annotation file and the 0-based index of its
    ``<object>`` in that file."""

    image_path: str
    label: int
    image_id: str
    xml_path: str
    object_index: int = 0


@dataclass
class PersonCropSource:
    """Person crops of the listed (image, object) pairs."""

    dataset: str
    split: str
    entries: list[ImageEntry]
    class_names: list[str]
    context_margin: float
    skipped: list[Skip] = field(default_factory=list)  # left out (ambiguous label, missing file)
    notes: list[Skip] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.entries)

    def labels(self) -> np.ndarray:
        return np.array([e.label for e in self.entries], dtype=np.int64)

    def __getitem__(self, index: int) -> ImageSample:
        entry = self.entries[index]
        objects = parse_annotation(entry.xml_path).findall("object")
        if entry.object_index >= len(objects):
            raise DataError(f"{entry.xml_path}: has {len(objects)} <object> elements, the split lists "
                            f"object {entry.object_index + 1}")
        obj = objects[entry.object_index]
        box = object_box(obj, entry.xml_path)
        rgb, converted = load_rgb(entry.image_path)
        x0, y0, x1, y1 = crop_window(box, rgb.shape[1], rgb.shape[0], self.context_margin)
        if x1 <= x0 or y1 <= y0:
            raise DataError(f"{entry.xml_path}: box {box} lies outside the {rgb.shape[1]}x{rgb.shape[0]} "
                            f"image {entry.image_path}")
        return ImageSample(np.ascontiguousarray(rgb[y0:y1, x0:x1]), entry.label, entry.image_id, meta={
            "path": entry.image_path, "box": box, "crop": (x0, y0, x1, y1), "converted": converted,
            "xml_actions": object_actions(obj)})

    def cap_per_class(self, limit: int | None) -> None:
        """Keep the first ``limit`` entries of each class (smoke runs on real data)."""
        if limit is None:
            return
        counts: dict[int, int] = {}
        kept = []
        for entry in self.entries:
            counts[entry.label] = counts.get(entry.label, 0) + 1
            if counts[entry.label] <= limit:
                kept.append(entry)
        self.entries = kept


def object_actions(obj: ET.Element) -> list[str]:
    """Actions an ``<object>`` is annotated with: VOC's ``<actions><a>1</a>...`` or Stanford40's
    ``<action>name</action>`` (used to cross-check the split lists)."""
    actions = obj.find("actions")
    if actions is not None:
        return [child.tag for child in actions if (child.text or "").strip() == "1"]
    return [a.text.strip() for a in obj.findall("action") if a.text]
