"""Decoded key-frame clips cached on disk as uint8, so later epochs and stages never decode again.

A key covers everything that changes the pixels: the source files (path, size, mtime), the frame
indices, the output size and the cache format. Entries are written under a unique temp name and
renamed, so DataLoader workers and parallel jobs may fill the same cache at once; a reader sees a
whole entry or none. Replacing or touching a source file changes its key, so a stale clip is never
served. Failures are deliberately not cached: a transient read error must not stick.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from motionlab.core.io import atomic_path

FORMAT_VERSION = 2  # 1: .npz (a zip: twice the write time of a plain .npy)


class ClipCache:
    """``root/<2 hex>/<key>.npy``: the frames as a plain .npy (``np.load`` reads them), followed by a
    small JSON meta (fps, backend, ...) in the same file, so one rename publishes both."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @staticmethod
    def key(files: Sequence[Path | str], indices: Sequence[int], size: Any, tag: str = "") -> str:
        """Hash of the files' identities (path, size, mtime) and the decoding request."""
        parts: list[Any] = [FORMAT_VERSION, tag, [int(i) for i in indices],
                            None if size is None else (size if isinstance(size, int) else list(size))]
        for file in files:
            path = os.path.abspath(file)
            try:
                st = os.stat(path)
                parts.append([path, st.st_size, st.st_mtime_ns])
            except FileNotFoundError:
                parts.append([path, None])
        return hashlib.sha1(json.dumps(parts).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def load(self, key: str, mmap: bool = False) -> tuple[np.ndarray, dict[str, Any]] | None:
        """The cached (frames, meta), or None when absent or unreadable (then it is recomputed).
        ``mmap``: the frames as a read-only memory map (a reader of a few frames of a whole video
        touches only those pages)."""
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                if not mmap:
                    frames = np.lib.format.read_array(f, allow_pickle=False)
                    return frames, json.loads(f.read().decode())
                version = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(f)
                offset = f.tell()
                f.seek(offset + int(np.prod(shape)) * dtype.itemsize)
                meta = json.loads(f.read().decode())
            frames = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                               order="F" if fortran else "C")
            return frames, meta
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, UnicodeDecodeError):  # damaged outside us: recompute
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def save(self, key: str, frames: np.ndarray, meta: dict[str, Any]) -> None:
        """Write under a unique temp name, then rename: concurrent writers of one key are harmless."""
        if frames.dtype != np.uint8:
            raise TypeError(f"clip cache stores uint8 frames, got {frames.dtype}")
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.lib.format.write_array(f, np.ascontiguousarray(frames), allow_pickle=False)
            f.write(json.dumps(meta).encode())

    def contains(self, key: str) -> bool:
        return self._path(key).is_file()
