"""Pseudo-label pipeline benchmark (issue 4, item 8), all in one run:

1. faiss K-means against scikit-learn K-means on the same data (the 128-word flow codebook and the
   K=16 clip clustering): time ratio and inertia, one thread each, from the same initial centroids
   (random rows) for the same number of iterations.
2. Peak memory of the ``pseudolabels`` stage for 100, 300 and 1000 clips (main process and largest
   worker), each in a fresh subprocess: it must stay flat, since flow lives in the on-disk cache
   and one clip at a time in a worker, never all of it in memory.
3. The stage's wall time against decode + flow alone (the same clips, workers and backend, with no
   cache, histogram, codebook, VLAD or clustering), goal: within 1.2x.

    python -m motionlab.bench.pseudolabels --out experiments/benchmarks/pseudolabels
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
from typing import Any

import numpy as np

from motionlab.bench._videos import MMACTION, write_mmaction_tree
from motionlab.data.types import VideoSource
from motionlab.eval.results import write_results

SIZES = (100, 300, 1000)
FRAMES = 36  # >= the 12 key frames at an interval of 3 of the data/video=mmaction_video defaults
GOAL_RATIO = 1.2


def rss_mib() -> float:
    """Current resident set size of this process (MiB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mib(who: int) -> float:
    """Peak RSS (MiB) of this process (``RUSAGE_SELF``) or of its largest finished child."""
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def video_source(overrides: list[str], cache: Path) -> VideoSource:
    """The train split of the written tree (``overrides`` point at it), its clip cache under ``cache``."""
    from motionlab.config.preflight import compose_config
    from motionlab.data.sources import build_video_source

    return build_video_source(compose_config([f"data/video={MMACTION}", *overrides]).data.video, "train", cache)


def decode_flow_seconds(store: Path, data: list[str], backend: str, params: dict[str, Any], workers: int) -> float:
    """Wall time of decoding every clip (a file source decodes its selection into the clip cache when
    built) and computing its flow, nothing else."""
    from motionlab.pseudolabel.passes import ClipPool, PassConfig, decode_flow_task

    start = time.perf_counter()
    source = video_source(data, store / "cache")
    config = PassConfig(backend, params, str(store / "flow"), "unused", 0.01, 512.0)
    with ClipPool(workers, source, config, progress=False) as pool:
        pairs = sum(pool.map(decode_flow_task, range(len(source)), "decode + flow"))
    if pairs == 0:
        raise RuntimeError(f"no flow pairs computed for {len(source)} clips ({data})")
    return time.perf_counter() - start


def child(args: argparse.Namespace) -> None:
    """One measurement in this fresh process, on the video tree the parent wrote; prints a JSON line."""
    from motionlab.eval.pseudolabel_table import run_stage

    baseline = rss_mib()
    params = json.loads(args.backend_params)
    data = json.loads(args.child)
    with tempfile.TemporaryDirectory(prefix="bench-pl-alone-") as alone, \
            tempfile.TemporaryDirectory(prefix="bench-pl-stage-") as store:
        flow_alone = decode_flow_seconds(Path(alone), data, args.backend, params, args.workers)
        metrics, _ = run_stage(Path(store), MMACTION, args.backend, params, 0, args.workers, data)
    print(json.dumps({"clips": metrics["clips_used"], "baseline_mib": baseline,
                      "peak_mib": peak_mib(resource.RUSAGE_SELF),
                      "worker_peak_mib": peak_mib(resource.RUSAGE_CHILDREN), "decode_flow_s": flow_alone,
                      "stage_s": metrics["total_s"], "flow_pass_s": metrics["flow_pass_s"]}))


def measure_stage(clips: int, args: argparse.Namespace, backend: str, params: dict[str, Any]) -> dict[str, Any]:
    """The stage on ``clips`` freshly written MPEG-4 videos (MMAction2 layout), in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="bench-pl-videos-") as tree:
        data = write_mmaction_tree(Path(tree), clips, FRAMES, args.size)
        cmd = [sys.executable, "-m", "motionlab.bench.pseudolabels", "--child", json.dumps(data),
               "--backend", backend, "--backend-params", json.dumps(params), "--workers", str(args.workers)]
        out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def kmeans_rows(seed: int) -> list[list[object]]:
    """faiss vs scikit-learn on the two K-means problems of the pipeline, one thread each."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from motionlab.pseudolabel.kmeans import kmeans

    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (40, 2))
    entries = (centres[rng.integers(0, 40, 262144)] + rng.normal(0, 1, (262144, 2))).astype(np.float32)
    clips = (rng.normal(0, 1, (16, 1792))[rng.integers(0, 16, 1000)] + rng.normal(0, 2, (1000, 1792)))
    problems = [("codebook: 262144 flow entries (2-d), k=128, 25 iterations", entries, 128, 25),
                ("clips: 1000 clip VLADs (1792-d), K=16, 50 iterations", clips.astype(np.float32), 16, 50)]
    rows = []
    for name, x, k, iters in problems:
        init = x[rng.choice(len(x), k, replace=False)]
        start = time.perf_counter()
        ours = kmeans(x, k, seed, niter=iters, threads=1, init=init)
        faiss_s = time.perf_counter() - start
        with threadpool_limits(1):
            start = time.perf_counter()
            ref = KMeans(k, init=init, n_init=1, max_iter=iters, tol=0.0, random_state=seed).fit(x)
            sklearn_s = time.perf_counter() - start
        rel = (ours.inertia - ref.inertia_) / ref.inertia_
        rows.append([name, f"{faiss_s:.2f}", f"{sklearn_s:.2f}", f"{sklearn_s / faiss_s:.1f}x",
                     f"{ours.inertia:.4g}", f"{ref.inertia_:.4g}", f"{100 * rel:+.2f}%"])
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m motionlab.bench.pseudolabels", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("experiments/benchmarks/pseudolabels"))
    ap.add_argument("--size", type=int, default=64, help="frame size (px) of the written videos")
    ap.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")], default=list(SIZES))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", default="dis", help="flow backend of the memory rows")
    ap.add_argument("--backend-params", default='{"preset": "medium"}', help="JSON")
    ap.add_argument("--ratio-clips", type=int, default=300, help="clips of the TV-L1 (stage default) row")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        child(args)
        return
    start = time.time()
    params = json.loads(args.backend_params)
    runs = [(f"{args.backend} {params}", measure_stage(n, args, args.backend, params)) for n in args.sizes]
    runs.append(("tvl1 (stage default)", measure_stage(args.ratio_clips, args, "tvl1", {})))
    stage_rows = [[backend, r["clips"], f"{r['baseline_mib']:.0f}", f"{r['peak_mib']:.0f}",
                   f"{r['worker_peak_mib']:.0f}", f"{r['decode_flow_s']:.1f}", f"{r['stage_s']:.1f}",
                   f"{r['stage_s'] / r['decode_flow_s']:.2f}x"] for backend, r in runs]
    peaks = [r["peak_mib"] for _, r in runs[:len(args.sizes)]]
    ratios = {backend: r["stage_s"] / r["decode_flow_s"] for backend, r in runs}
    k_rows = kmeans_rows(0)
    flow_mib = args.sizes[-1] * 11 * 2 * args.size**2 * 4 / 2**20  # 11 key-frame pairs per clip
    header = ["flow backend", "clips", "main RSS before (MiB)", "main peak RSS (MiB)", "largest worker peak (MiB)",
              "decode + flow alone (s)", "stage wall time (s)", "stage / (decode + flow)"]
    notes = f"""
MPEG-4 videos written for the run ({args.size}x{args.size} px, {FRAMES} frames, a panning random texture) in
MMAction2's list layout (`data/video=mmaction_video`, 12 key frames at an interval of 3), read one clip
at a time as UCF101 or HMDB51 are; {args.workers} flow worker processes; each size in a fresh subprocess
with fresh stores (no cached flow). "decode + flow alone": the same clips through the same process pool
with nothing but decoding and flow; the stage adds the float16 flow cache, the OTSU histogram, the
codebook sample and K-means, the VLAD pass (reading the cached flow back) and the clip clustering.

- Memory from {args.sizes[0]} to {args.sizes[-1]} clips: main-process peak {peaks[0]:.0f} -> {peaks[-1]:.0f} MiB
  ({peaks[-1] - peaks[0]:+.0f} MiB for {args.sizes[-1] / args.sizes[0]:.0f}x the clips), flow held in memory
  would be {flow_mib:.0f} MiB at {args.sizes[-1]} clips (float32). What the stage keeps per clip is its
  [maps, 256] float32 VLAD (7 KB a map) and a small record.
- Stage / (decode + flow): {', '.join(f'{b}: {v:.2f}x' for b, v in ratios.items())} (goal <= {GOAL_RATIO}x:
  {'met' if max(ratios.values()) <= GOAL_RATIO else 'not met for every row'}). With a fast backend on
  64 px clips the flow is so cheap that the fixed costs (spawning workers, reading the cache back for
  the VLAD pass, K-means) weigh more; with TV-L1, the stage's default, flow dominates.

## faiss vs scikit-learn K-means (one thread each, the same initial centroids, fixed iterations)

""" + "\n".join(["| problem | faiss (s) | scikit-learn (s) | speed-up | faiss inertia | sklearn inertia | "
                 "faiss - sklearn |", "|---|---|---|---|---|---|---|"]
                + ["| " + " | ".join(str(c) for c in row) + " |" for row in k_rows]) + """

Inertia: sum of squared distances to the nearest centroid, on the same data, after the same number of
Lloyd iterations from the same k random rows (goal: within 1%). The stage itself seeds faiss's own
random-row init and keeps the best of `cluster_restarts` runs for the clip clustering.
"""
    command = "python -m motionlab.bench.pseudolabels " + " ".join(argv if argv is not None else sys.argv[1:])
    write_results(args.out, "Pseudo-label stage: memory, overhead over decode + flow, faiss vs scikit-learn",
                  command.strip(), header, stage_rows, notes, wall_time_s=time.time() - start)
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
