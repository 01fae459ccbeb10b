"""Real encoded videos the benchmarks write for themselves (no dataset can be downloaded here)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_video(path: Path, frames: int, height: int, width: int, rng: np.random.Generator) -> Path:
    """An MPEG-4 .avi (UCF101's codec family) of a random texture panning one pixel per frame."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        base = rng.integers(0, 255, (height, width + frames, 3), dtype=np.uint8)
        for t in range(frames):
            img = np.ascontiguousarray(base[:, t: t + width])
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode())
    return path


def write_videos(folder: Path, count: int, frames: int, height: int, width: int) -> list[Path]:
    rng = np.random.default_rng(0)
    return [write_video(folder / f"v{i:03d}.avi", frames, height, width, rng) for i in range(count)]


MMACTION = "mmaction_video"  # the conf/data/video config that reads the tree


def write_mmaction_tree(root: Path, count: int, frames: int, size: int, classes: int = 4) -> list[str]:
    """``count`` videos in MMAction2's layout (``videos/<class>/<name>.avi`` + a ``<path> <label>``
    train list, the first video also as the test list): a dataset read one clip at a time, as a
    real one is. Returns the overrides that point ``data/video=mmaction_video`` (MMACTION) at it."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(count):
        rel = f"class_{i % classes}/v{i:05d}.avi"
        write_video(root / "videos" / rel, frames, size, size, rng)
        lines.append(f"{rel} {i % classes}")
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    (root / "test.txt").write_text(lines[0] + "\n")
    return [f"data.video.root={root}", "data.video.train_list=train.txt",
            "data.video.test_list=test.txt", f"data.video.num_videos={count}", f"data.video.size={size}"]
