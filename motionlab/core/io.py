"""Atomic writes: every artifact is written under a temp name beside its final path and renamed,
so a reader (or a resumed job) never sees half a file, and concurrent writers of one path are
harmless (the last rename wins, each with a whole file)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A unique temp path beside ``path`` (same suffix, so ``np.save``/``torch.save`` add nothing)
    to write to; renamed onto ``path`` when the block ends, removed if it raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f"{path.suffix}.tmp{path.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path | str, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_save_npy(path: Path | str, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        np.save(tmp, array)
