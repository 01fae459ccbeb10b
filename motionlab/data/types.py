"""Sample contracts shared by every dataset reader, DataModule and stage.

A *video source* and an *image source* are indexable collections; synthetic and real datasets
implement the same two protocols so that every stage runs unchanged on either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass
class VideoSample:
    """Key frames of one video clip.

    frames: uint8 [T, H, W, 3] RGB, already sub-sampled to key frames (the first k frames at the
    configured interval). flow_gt: float32 [T-1, 2, H, W] (dx, dy) between consecutive key frames
    where ground truth exists (synthetic data), else None. label: the true class where one exists
    (the motion program for synthetic videos, the action for real ones), else -1.
    """

    frames: np.ndarray
    video_id: str
    label: int = -1
    flow_gt: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # source path, fps, frame indices, ...


@dataclass
class ImageSample:
    """One labeled action image: uint8 [H, W, 3] RGB (already cropped to the person box where the
    dataset has one) and its class index."""

    image: np.ndarray
    label: int
    image_id: str
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class VideoSource(Protocol):
    """Indexable videos of one split. ``class_names`` may be empty for unlabeled sources."""

    class_names: list[str]

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> VideoSample: ...


@runtime_checkable
class ImageSource(Protocol):
    """Indexable labeled images of one split."""

    class_names: list[str]

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> ImageSample: ...

    def labels(self) -> np.ndarray:
        """All labels as int64 [N] without decoding any image (for few-shot sampling)."""
        ...
