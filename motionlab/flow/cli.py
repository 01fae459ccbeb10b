"""``motionlab-flow``: optical flow for two images or a video, as ``.flo`` files + colour-wheel PNGs.

    motionlab-flow --method dis FRAME1 FRAME2 --out OUT.flo
    motionlab-flow --video clip.avi --out flow_dir/                       # every consecutive pair
    motionlab-flow --video clip.avi --out flow_dir/ --key-frames 12 --interval 3
    motionlab-flow --method tvl1 --param scale_step=0.5 --param warps=5 ...
    motionlab-flow --method pwclite --checkpoint STORE/flow_pretrain/<key>/flow_net.pt ...   # make flow-real
    motionlab-flow --method pwclite --checkpoint ... --runtime onnx ...   # ONNX Runtime (pip install motionlab[onnx])
    motionlab-flow --list                                                 # backends and params
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from motionlab.core.errors import DataError
from motionlab.data.decode import ClipError, decode_clip
from motionlab.flow.base import FlowEstimator, available_flows, build_flow
from motionlab.flow.io import write_flo
from motionlab.flow.viz import flow_to_rgb, save_rgb_png

DEFAULT_METHOD = "tvl1"
_CHUNK = 32  # frames decoded per call in every-pair mode (memory stays flat on long videos)


def parse_params(items: list[str]) -> dict[str, str]:
    """``["key=value", ...]`` -> dict; values stay strings, the backend's Params types them."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param expects key=value, got {item!r}")
        params[key.strip()] = value.strip()
    return params


def read_image(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DataError(f"{path}: cannot read the image (missing, or not an image format OpenCV reads)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def key_frame_indices(key_frames: int, interval: int) -> list[int]:
    """The paper's protocol: the first ``key_frames`` frames at an ``interval``."""
    if key_frames < 2 or interval < 1:
        raise ValueError(f"--key-frames must be >= 2 and --interval >= 1, got {key_frames}, {interval}")
    return [i * interval for i in range(key_frames)]


def iter_video_frames(path: Path, chunk: int = _CHUNK) -> Iterator[tuple[int, np.ndarray]]:
    """(index, uint8 RGB frame) of every frame, decoded ``chunk`` frames at a time; the last,
    partial chunk is found by halving (the decoder raises when asked past the end)."""
    start = 0
    while chunk > 0:
        try:
            frames, _ = decode_clip(path, range(start, start + chunk))
        except ClipError as err:
            if "too few frames" not in err.reason and "truncated" not in err.reason:
                raise
            chunk //= 2
            continue
        yield from enumerate(frames, start=start)
        start += chunk


def _write(out_flo: Path, flow: np.ndarray, png: bool, max_magnitude: float | None) -> None:
    write_flo(out_flo, flow)
    if png:
        save_rgb_png(out_flo.with_suffix(".png"), flow_to_rgb(flow, max_magnitude))


def flow_for_images(estimator: FlowEstimator, frame1: Path, frame2: Path, out: Path, png: bool,
                    max_magnitude: float | None) -> int:
    a, b = read_image(frame1), read_image(frame2)
    if a.shape != b.shape:
        raise DataError(f"{frame1} is {a.shape[1]}x{a.shape[0]} but {frame2} is {b.shape[1]}x{b.shape[0]}; "
                        "flow needs two frames of one size (resize one of them)")
    out.parent.mkdir(parents=True, exist_ok=True)
    _write(out, estimator(a, b), png, max_magnitude)
    return 1


def flow_for_video(estimator: FlowEstimator, video: Path, out_dir: Path, key_frames: int | None, interval: int,
                   png: bool, max_magnitude: float | None) -> int:
    """Flow between consecutive frames (or key frames) -> ``flow_<i>_<j>.flo`` (+ ``.png``)."""
    if key_frames is not None:
        indices = key_frame_indices(key_frames, interval)
        frames = zip(indices, decode_clip(video, indices)[0], strict=True)
    else:
        frames = iter_video_frames(video)
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = 0
    previous = None
    for index, frame in frames:
        if previous is not None:
            _write(out_dir / f"flow_{previous[0]:05d}_{index:05d}.flo", estimator(previous[1], frame), png,
                   max_magnitude)
            pairs += 1
        previous = (index, frame)
    if pairs == 0:
        raise DataError(f"{video}: fewer than 2 frames decoded; nothing to compute flow between")
    return pairs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionlab-flow", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("frames", nargs="*", type=Path, help="FRAME1 FRAME2 (two images)")
    parser.add_argument("--video", type=Path, help="a video file instead of two images")
    parser.add_argument("--out", type=Path, help="OUT.flo for two images, a directory for a video")
    parser.add_argument("--method", default=DEFAULT_METHOD, help=f"flow backend (default {DEFAULT_METHOD})")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="backend parameter, repeatable (see --list)")
    parser.add_argument("--checkpoint", help="learned backends (pwclite): the flow_net.pt to load "
                        "(same as --param checkpoint=PATH)")
    parser.add_argument("--runtime", choices=("torch", "onnx"),
                        help="learned backends (pwclite): eager PyTorch (default) or ONNX Runtime on the CPU "
                        "(same as --param runtime=...)")
    parser.add_argument("--key-frames", type=int, help="video: only the first K frames at --interval")
    parser.add_argument("--interval", type=int, default=3, help="video: frames between key frames (default 3)")
    parser.add_argument("--no-png", action="store_true", help="write .flo only")
    parser.add_argument("--max-magnitude", type=float,
                        help="colour scale in pixels (default: each map's own largest vector)")
    parser.add_argument("--list", action="store_true", help="list flow backends and their params, then exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        for name, params in available_flows().items():
            print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in params.items()))
        return 0
    if args.out is None:
        parser.error("--out is required")
    if (args.video is None) == (len(args.frames) != 2):
        parser.error("give either two images (FRAME1 FRAME2) or --video PATH")
    try:
        params = parse_params(args.param)
        if args.checkpoint:
            params["checkpoint"] = args.checkpoint
        if args.runtime:
            params["runtime"] = args.runtime
        estimator = build_flow(args.method, **params)
        start = time.perf_counter()
        if args.video is not None:
            pairs = flow_for_video(estimator, args.video, args.out, args.key_frames, args.interval,
                                   not args.no_png, args.max_magnitude)
        else:
            pairs = flow_for_images(estimator, args.frames[0], args.frames[1], args.out, not args.no_png,
                                    args.max_magnitude)
    except (DataError, KeyError, ValueError) as err:
        print(f"motionlab-flow: error: {err.args[0] if isinstance(err, KeyError) else err}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(f"{estimator!r}: {pairs} flow map(s) -> {args.out} in {elapsed:.2f} s ({pairs / elapsed:.2f} pairs/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
