"""uint8 arrays -> normalised float tensors, the same for images and video frames."""

from __future__ import annotations

import cv2
import numpy as np
import torch

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def resize_hw(image: np.ndarray, size: int) -> np.ndarray:
    """Square resize (no-op when already ``size``), area interpolation when shrinking."""
    if image.shape[0] == size and image.shape[1] == size:
        return image
    interp = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interp)


def normalize(x: torch.Tensor) -> torch.Tensor:
    """uint8 [..., 3, H, W] -> float, ImageNet mean/std (on the tensor's device)."""
    return (x.float() / 255.0 - MEAN.to(x.device)) / STD.to(x.device)


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Translate a [3,H,W] image by up to ``max_shift`` px with reflection padding. No flips: a
    horizontal flip would turn 'moving left' into 'moving right'."""
    if max_shift <= 0:
        return x
    dx, dy = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
    padded = torch.nn.functional.pad(x[None].float(), (max_shift,) * 4, mode="reflect")[0]
    h, w = x.shape[-2:]
    return padded[:, max_shift + dy: max_shift + dy + h, max_shift + dx: max_shift + dx + w].to(x.dtype)
