"""Clip loader throughput (issue 3): our decode path (seek + only the key frames, then the uint8
clip cache) against a plain PyAV decode of the same frames, and the cache's effect on a second
epoch — all in one run on the same freshly written videos."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from motionlab.data.clip_cache import ClipCache
from motionlab.data.decode import decode_clip
from motionlab.eval.results import write_results


def write_videos(folder: Path, count: int, frames: int, height: int, width: int) -> list[Path]:
    """Textured moving MPEG-4 videos (UCF101-sized by default)."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / f"v{i:03d}.avi"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("mpeg4", rate=25)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            base = rng.integers(0, 255, (height, width * 2, 3), dtype=np.uint8)
            for t in range(frames):
                img = np.ascontiguousarray(base[:, t: t + width])
                out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
            out.mux(stream.encode())
        paths.append(path)
    return paths


def raw_pyav(path: Path, indices: list[int]) -> np.ndarray:
    """The baseline: decode from the start, convert the wanted frames to RGB arrays."""
    wanted, out = set(indices), {}
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                out[i] = frame.to_ndarray(format="rgb24")
            if i >= max(indices):
                break
    return np.stack([out[i] for i in indices])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("experiments/benchmarks/clip_loader"))
    ap.add_argument("--videos", type=int, default=24)
    ap.add_argument("--key-frames", type=int, default=12)
    ap.add_argument("--interval", type=int, default=3)
    args = ap.parse_args(argv)
    indices = [i * args.interval for i in range(args.key_frames)]
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_videos(Path(tmp), args.videos, max(indices) + 10, 240, 320)
        cache = ClipCache(Path(tmp) / "cache")

        def timed(fn) -> float:
            start = time.perf_counter()
            for p in paths:
                fn(p)
            return time.perf_counter() - start

        def first_read(p: Path) -> None:
            frames, info = decode_clip(p, indices)
            cache.save(ClipCache.key([p], indices, None), frames, {"fps": info.fps})

        raw = timed(lambda p: raw_pyav(p, indices))
        ours = timed(first_read)
        second = timed(lambda p: cache.load(ClipCache.key([p], indices, None)))
        assert all(np.array_equal(raw_pyav(p, indices), decode_clip(p, indices)[0]) for p in paths[:2])
    n = args.videos
    rows = [
        ["raw PyAV decode of the key frames", f"{n / raw:.1f}", "1.00"],
        ["motionlab loader, first read (decode + cache write)", f"{n / ours:.1f}", f"{raw / ours:.2f}"],
        ["motionlab loader, second epoch (uint8 cache)", f"{n / second:.1f}", f"{raw / second:.2f}"],
    ]
    path = write_results(args.out, "Clip loader vs raw PyAV decode", "python -m motionlab.bench.clip_loader "
                         + " ".join(argv if argv is not None else sys.argv[1:]),
                         ["path", "clips/s", "speed vs raw PyAV"], rows,
                         notes=f"{n} MPEG-4 videos 320x240, {args.key_frames} key frames at interval {args.interval} "
                               "per clip, one process. Goal (issue 3): first read >= 0.8x raw decode.")
    print(path.read_text())


if __name__ == "__main__":
    main()
