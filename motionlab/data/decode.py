"""Decode only the frames a clip needs, from a video file (PyAV, OpenCV as fallback) or a folder
of extracted frames (MMAction2 rawframes).

Why not read whole videos: the paper protocol needs the first k key frames at an interval of 3
(34 frames of a UCF101 video), so decoding stops after the last wanted frame, and a wanted frame
far ahead is reached by a keyframe seek instead of decoding everything in between.
A bad input raises ``ClipError`` (a ``DataError``) that names the file and says what was expected;
the dataset layer turns it into a recorded skip or an error, as configured.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from motionlab.core.errors import DataError

log = logging.getLogger(__name__)

BACKENDS = ("auto", "pyav", "opencv")

# Forward gaps (in frames) above this are crossed by a keyframe seek rather than by decoding.
SEEK_MIN_GAP = 64


class ClipError(DataError):
    """One video or frame folder cannot give the wanted frames; ``reason`` is the short cause that
    goes into skip records, the message adds the file and the fix."""

    def __init__(self, path: Path | str, reason: str, fix: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}" + (f" ({fix})" if fix else ""))


@dataclass
class ClipInfo:
    """What decoding learned about the source: fps (0 if unknown), the frame count the container
    declares (None if it declares none), how many frames were actually decoded, the index just past
    the last frame reached (the true length when decoding ran off the end), and the backend."""

    fps: float
    declared_frames: int | None
    frames_decoded: int
    frames_reached: int
    backend: str


Size = int | tuple[int, int] | None


def output_shape(height: int, width: int, size: Size) -> tuple[int, int]:
    """(H, W) after resizing to ``size``: None keeps the frame, an int is a square side (as the
    image configs' ``size``), a pair is (H, W)."""
    if size is None:
        return height, width
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


def as_size(value) -> Size:
    """Config value (null, int, or an [H, W] list) -> ``Size``."""
    if value is None or isinstance(value, int):
        return value
    values = [int(v) for v in value]
    if len(values) != 2:
        raise ValueError(f"size must be null, an int (square side) or [H, W], got {list(value)}")
    return values[0], values[1]


def _resize_rgb(rgb: np.ndarray, size: Size) -> np.ndarray:
    h, w = output_shape(rgb.shape[0], rgb.shape[1], size)
    if (h, w) == rgb.shape[:2]:
        return rgb
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)


def _check_indices(indices: Sequence[int]) -> list[int]:
    wanted = sorted(set(int(i) for i in indices))
    if not wanted or wanted[0] < 0:
        raise ValueError(f"frame indices must be non-negative and non-empty, got {list(indices)}")
    return wanted


def _too_few(path: Path, info: ClipInfo, wanted: list[int]) -> ClipError:
    need, got, declared = wanted[-1] + 1, info.frames_reached, info.declared_frames
    if declared is not None and declared >= need:
        return ClipError(path, f"truncated or corrupt: frames end at {got}, the header declares "
                         f"{declared}, {need} are needed", "re-copy or re-encode the file")
    return ClipError(path, f"too few frames: {got} in the video, {need} needed",
                     "lower data.video.key_frames / key_interval, or leave the video out")


# ------------------------------------------------------------------------------------------ PyAV
def _pyav_frames(path: Path, wanted: list[int], size: Size) -> tuple[dict[int, np.ndarray], ClipInfo]:
    import av

    frames: dict[int, np.ndarray] = {}
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as err:
        raise ClipError(path, f"cannot open video: {err}", "check that the file is a complete video") from err
    with container:
        if not container.streams.video:
            raise ClipError(path, "no video stream", "the file holds no video; leave it out")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        declared = stream.frames or None
        decoded = 0

        def convert(frame) -> np.ndarray:
            h, w = output_shape(frame.height, frame.width, size)
            if (h, w) == (frame.height, frame.width):  # no scaler pass at the native size
                return frame.to_ndarray(format="rgb24")
            return frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA")

        def frame_index(frame) -> int | None:
            if frame.pts is None or not fps or stream.time_base is None:
                return None
            start = stream.start_time or 0
            return round(float((frame.pts - start) * stream.time_base) * fps)

        try:
            position = 0  # index of the frame the decoder yields next
            seekable = bool(fps and stream.time_base)
            decoder: Iterator = container.decode(stream)
            for target in wanted:
                if seekable and target - position > SEEK_MIN_GAP:
                    before = position
                    start = stream.start_time or 0
                    container.seek(int(start + target / fps / stream.time_base), stream=stream,
                                   backward=True, any_frame=False)
                    decoder = container.decode(stream)
                    first = next(decoder, None)
                    index = None if first is None else frame_index(first)
                    if index is None or index > target:  # cannot place the frame: read from the start
                        container.seek(0, stream=stream, backward=True, any_frame=False)
                        decoder, position, seekable = container.decode(stream), 0, False
                    else:
                        decoder, position = itertools.chain([first], decoder), index
                        seekable = index > before  # keyframes too sparse for seeking to pay
                while position <= target:
                    frame = next(decoder, None)
                    if frame is None:
                        break
                    decoded += 1
                    if position == target:
                        frames[target] = convert(frame)
                    position += 1
                if target not in frames:
                    break
        except av.FFmpegError as err:
            raise ClipError(path, f"decoding failed after {decoded} frames: {err}",
                            "re-copy or re-encode the file") from err
    return frames, ClipInfo(fps, declared, decoded, position, "pyav")


# ---------------------------------------------------------------------------------------- OpenCV
def _opencv_frames(path: Path, wanted: list[int], size: Size) -> tuple[dict[int, np.ndarray], ClipInfo]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ClipError(path, "OpenCV cannot open the video", "check that the file is a complete video")
    frames: dict[int, np.ndarray] = {}
    decoded = 0
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        declared = count if count > 0 else None
        position = 0
        for target in wanted:
            if target - position > SEEK_MIN_GAP and capture.set(cv2.CAP_PROP_POS_FRAMES, target):
                position = int(capture.get(cv2.CAP_PROP_POS_FRAMES))
            while position < target and capture.grab():
                decoded += 1
                position += 1
            ok, bgr = capture.read()
            if not ok or position != target:
                break
            decoded += 1
            position += 1
            frames[target] = _resize_rgb(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size)
    finally:
        capture.release()
    return frames, ClipInfo(fps, declared, decoded, position, "opencv")


_DECODERS = {"pyav": _pyav_frames, "opencv": _opencv_frames}


def _decode_with_fallback(path: Path, wanted: Sequence[int], size: Size,
                          backend: str) -> tuple[dict[int, np.ndarray], ClipInfo]:
    """The ``wanted`` frames that the file has, by ``backend``; "auto" tries PyAV and falls back to
    OpenCV when PyAV cannot open or decode the file (not when the video is simply too short: both
    backends would agree)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown decode backend {backend!r}; valid: {list(BACKENDS)}")
    if not path.is_file():
        raise ClipError(path, "file not found", "check data.video.root and the list files")
    failure: ClipError | None = None
    for name in ["pyav", "opencv"] if backend == "auto" else [backend]:
        try:
            return _DECODERS[name](path, wanted, size)
        except ClipError as err:
            log.debug("%s could not decode %s: %s", name, path, err.reason)
            failure = failure or err
    assert failure is not None
    raise failure


def decode_clip(path: Path | str, indices: Sequence[int], size: Size = None,
                backend: str = "auto") -> tuple[np.ndarray, ClipInfo]:
    """Frames ``indices`` (0-based) of a video file as uint8 [len(indices), H, W, 3] RGB (``backend``:
    see ``_decode_with_fallback``); a video too short for them is a ClipError."""
    path = Path(path)
    wanted = _check_indices(indices)
    frames, info = _decode_with_fallback(path, wanted, size, backend)
    if len(frames) < len(wanted):
        raise _too_few(path, info, wanted)
    return np.stack([frames[i] for i in indices]), info


def decode_all(path: Path | str, interval: int = 1, size: Size = None, backend: str = "auto",
               max_frames: int = 100_000) -> tuple[np.ndarray, ClipInfo]:
    """Every ``interval``-th frame of a whole video, to its end (TSN samples segments over the whole
    video), as uint8 [T, H, W, 3] RGB; at least 2 frames, else a ClipError."""
    path = Path(path)
    frames, info = _decode_with_fallback(path, list(range(0, max_frames, interval)), size, backend)
    if len(frames) < 2:
        raise ClipError(path, f"only {len(frames)} frame(s) decoded", "a whole video needs at least 2 frames")
    return np.stack([frames[i] for i in sorted(frames)]), info


# ------------------------------------------------------------------------------------- rawframes
def read_rawframes(frame_dir: Path | str, indices: Sequence[int], size: Size = None,
                   filename_tmpl: str = "img_{:05d}.jpg", start_index: int = 1) -> np.ndarray:
    """Frames ``indices`` (0-based) of an extracted-frames folder (MMAction2 layout: frame i is
    ``filename_tmpl.format(i + start_index)``) as uint8 [len(indices), H, W, 3] RGB."""
    frame_dir = Path(frame_dir)
    if not frame_dir.is_dir():
        raise ClipError(frame_dir, "frame folder not found", "check data.video.root and the list file")
    _check_indices(indices)
    out = []
    for i in indices:
        file = frame_dir / filename_tmpl.format(i + start_index)
        if not file.is_file():
            raise ClipError(file, f"frame {i} missing (too few frames extracted?)",
                            "re-extract the frames or lower data.video.key_frames")
        bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ClipError(file, "frame image cannot be decoded", "re-extract the frames")
        out.append(_resize_rgb(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size))
    shapes = {f.shape for f in out}
    if len(shapes) > 1:
        raise ClipError(frame_dir, f"frames of different sizes {sorted(shapes)}",
                        "re-extract the frames or set data.video.size")
    return np.stack(out)
