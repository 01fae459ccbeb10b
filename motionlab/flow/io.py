"""Middlebury ``.flo`` files, the interchange format every flow tool reads.

Layout (little-endian): float32 magic 202021.25, int32 width, int32 height, then H*W (u, v)
float32 pairs in row-major order. ``read_flo`` checks all of it and names the file on failure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionlab.core.errors import DataError
from motionlab.core.io import atomic_write_bytes

FLO_MAGIC = np.float32(202021.25)
_HEADER_BYTES = 12
_MAX_SIDE = 1 << 16  # larger sides mean a corrupt header, not a real image


def read_flo(path: Path | str) -> np.ndarray:
    """Flow float32 [2, H, W] (dx, dy) from a ``.flo`` file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read flow file: {err}") from err
    if len(data) < _HEADER_BYTES:
        raise DataError(f"{path}: {len(data)} bytes, too short for a .flo header (12 bytes); "
                        "the file is truncated, re-export it")
    magic = np.frombuffer(data, "<f4", 1, 0)[0]
    if magic != FLO_MAGIC:
        raise DataError(f"{path}: not a Middlebury .flo file (magic {magic!r}, expected 202021.25); "
                        "check the path, or convert the flow with motionlab.flow.io.write_flo")
    width, height = (int(v) for v in np.frombuffer(data, "<i4", 2, 4))
    if not (0 < width < _MAX_SIDE and 0 < height < _MAX_SIDE):
        raise DataError(f"{path}: corrupt .flo header (width {width}, height {height}); re-export the file")
    expected = _HEADER_BYTES + 8 * width * height
    if len(data) != expected:
        raise DataError(f"{path}: {len(data)} bytes, a {width}x{height} .flo file has {expected}; "
                        "the file is truncated or has trailing data, re-export it")
    uv = np.frombuffer(data, "<f4", 2 * width * height, _HEADER_BYTES).reshape(height, width, 2)
    return np.ascontiguousarray(uv.transpose(2, 0, 1), dtype=np.float32)


def write_flo(path: Path | str, flow: np.ndarray) -> None:
    """Write flow [2, H, W] as ``.flo``, atomically (temp name, then rename)."""
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f"flow must be [2, H, W], got shape {flow.shape}")
    path = Path(path)
    height, width = flow.shape[1:]
    header = np.array([FLO_MAGIC], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    body = np.ascontiguousarray(flow.transpose(1, 2, 0), dtype="<f4").tobytes()
    atomic_write_bytes(path, header + body)
