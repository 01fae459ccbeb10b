"""UF-TSN's motion-stream data path over whole videos: peak memory is flat in the number of videos.

For 100, 300 and 1000 clips of real camera footage (Debian's ``opencv-doc`` sample videos, cut into
UCF101-format clips: MPEG-4 .avi at 320x240 in ``UCF-101/<Class>/v_<Class>_gXX_cYY.avi`` with the
official ``ucfTrainTestlist`` files), each in a fresh process: build the source with
``key_frames: null`` (whole videos into the clip cache), fill the flow cache (DIS, one video in
memory at a time), then one epoch of the ``tsn_motion`` training loader (``TSNSegments``: 3 segments
x 10 flows per video, read from the memory-mapped caches). The peak RSS of that process is measured;
the flow an in-RAM design would hold (every video's float16 flow stacked) is computed beside it.

    python -m motionlab.bench.uftsn_memory --out experiments/benchmarks/uftsn_memory
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from motionlab.eval.results import write_results

SIZES = (100, 300, 1000)
CLIP_FRAMES = 48  # ~2 s at 25 fps: every clip a whole (short) video
CLASSES = ["ApplyEyeMakeup", "Basketball", "PlayingGuitar", "WalkingWithDog"]
FOOTAGE = [Path("/tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data"),
           Path("/usr/share/doc/opencv-doc/examples/data")]


def footage_dir() -> Path:
    for folder in FOOTAGE:
        if sorted(folder.glob("*.avi")):
            return folder
    raise SystemExit("opencv-doc sample videos not found (apt-get download opencv-doc && dpkg -x opencv-doc_*.deb "
                     "/tmp/opencv-doc)")


def write_ucf101_tree(root: Path, count: int, footage: Path) -> None:
    """``count`` train clips (and 4 test clips) cut from the footage at successive offsets, re-encoded
    as UCF101 stores them."""
    import av

    from motionlab.data.decode import decode_all

    sources = [decode_all(path, 1, (240, 320))[0] for path in sorted(footage.glob("*.avi"))]
    sources = [s for s in sources if len(s) > CLIP_FRAMES]
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(CLASSES)))
    train, test = [], []
    for i in range(count + len(CLASSES)):
        cls = CLASSES[i % len(CLASSES)]
        name = f"{cls}/v_{cls}_g{i // 7 + 1:02d}_c{i % 7 + 1:02d}.avi"
        frames = sources[i % len(sources)]
        start = (i * 7) % (len(frames) - CLIP_FRAMES)
        path = root / "UCF-101" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w") as out:
            stream = out.add_stream("mpeg4", rate=25)
            stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
            for frame in frames[start:start + CLIP_FRAMES]:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
            out.mux(stream.encode())
        (test if i >= count else train).append(f"{name} {i % len(CLASSES) + 1}" if i < count else name)
    (lists / "trainlist01.txt").write_text("\n".join(train) + "\n")
    (lists / "testlist01.txt").write_text("\n".join(test) + "\n")


def child(tree: Path, store: Path, size: int) -> dict[str, float]:
    """One measurement in this process (see the module docstring)."""
    from motionlab.config.preflight import compose_config
    from motionlab.data.datamodules import TSNSegments
    from motionlab.data.sources import build_video_source
    from motionlab.flow.base import build_flow
    from motionlab.flow.cache import FlowCache, cache_key, fill_flow_cache
    from motionlab.pipeline import plain

    cfg = compose_config(["experiment=uftsn_ucf101", f"data.video.root={tree}", f"data.video.size={size}",
                          "data.video.decode_workers=1"])
    start = time.perf_counter()
    source = build_video_source(cfg.data.video, "train", store / "cache")
    decode_s = time.perf_counter() - start
    estimator = build_flow("dis")
    cache = FlowCache(store / "flow", cache_key(estimator.config_hash(), plain(cfg.data.video)))
    start = time.perf_counter()
    fill_flow_cache(cache, source, range(len(source)), lambda s: estimator.clip(np.asarray(s.frames)))
    flow_s = time.perf_counter() - start
    p = cfg.pipeline.stages.motion.params
    segments = TSNSegments(source, int(p.num_segments), int(p.num_flows), 0, frames=False, flows=cache)
    start = time.perf_counter()
    frames = pairs = 0
    for i in range(len(segments)):
        item = segments[(i, 0)]
        assert item["flows"].shape[:2] == (p.num_segments, p.num_flows)
        frames += len(source[i].frames)
        pairs += len(cache.load(source[i].video_id, mmap=True))
    epoch_s = time.perf_counter() - start
    in_ram_mib = pairs * 2 * size * size * 2 / 2**20  # float16 [pairs, 2, H, W] of every video
    return {"videos": len(source), "frames": frames, "pairs": pairs, "decode_s": decode_s, "flow_s": flow_s,
            "epoch_s": epoch_s, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "in_ram_flow_mib": in_ram_mib}


def measure(count: int, size: int, footage: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-uftsn-mem-") as tmp:
        tree, store = Path(tmp) / "UCF101", Path(tmp) / "store"
        write_ucf101_tree(tree, count, footage)
        cmd = [sys.executable, "-m", "motionlab.bench.uftsn_memory", "--child", str(tree), str(store), str(size)]
        out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m motionlab.bench.uftsn_memory", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("experiments/benchmarks/uftsn_memory"))
    ap.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")], default=list(SIZES))
    ap.add_argument("--size", type=int, default=112, help="decoded frame size (px), as conf/data/video/ucf101.yaml")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), int(args.child[2]))))
        return 0
    start = time.perf_counter()
    footage = footage_dir()
    results = [measure(n, args.size, footage) for n in args.sizes]
    rows = [[r["videos"], r["frames"], f"{r['peak_mib']:.0f}", f"{r['in_ram_flow_mib']:.0f}", f"{r['decode_s']:.1f}",
             f"{r['flow_s']:.1f}", f"{r['epoch_s']:.1f}"] for r in results]
    growth = results[-1]["peak_mib"] / results[0]["peak_mib"]
    notes = (f"Footage: {', '.join(p.name for p in sorted(footage.glob('*.avi')))} (opencv-doc), cut into "
             f"{CLIP_FRAMES}-frame 320x240 MPEG-4 clips at successive offsets, decoded whole at {args.size} px "
             "(`experiment=uftsn_ucf101`, `key_frames: null`). Peak RSS of the measuring process (one per row; "
             "decode, DIS flow into the cache, one loader epoch over every video). 'Flow held in RAM' is "
             "computed: what stacking every video's float16 flow (the earlier design) would hold. "
             f"Peak grows {growth:.2f}x from {results[0]['videos']} to {results[-1]['videos']} videos while the "
             f"videos grow {results[-1]['videos'] / results[0]['videos']:.0f}x. n = 1 per row; times under load "
             "(2 shared cores).")
    write_results(args.out, "UF-TSN whole-video data path: peak memory against the number of videos",
                  "make bench-uftsn-memory", ["videos", "frames", "peak RSS (MiB)", "flow held in RAM (MiB, computed)",
                                              "decode (s)", "DIS flow (s)", "loader epoch (s)"], rows, notes=notes,
                  wall_time_s=time.perf_counter() - start)
    print(f"uftsn memory: peak {[round(r['peak_mib']) for r in results]} MiB -> {args.out}/results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
