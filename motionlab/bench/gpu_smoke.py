"""``make gpu-smoke``: one short run of every GPU path, on whatever GPUs are visible.

1. ``trainer=gpu`` (16-mixed) on a smoke-sized experiment of each paper: Zhang et al. (``unreg``:
   the image classifier), UF-TSN (``uftsn_gt``: the TSN streams) and CGMU (``cgmu_bilinear``);
2. faiss K-means on the GPU against faiss-cpu on the same data from the same initial centroids
   (the 128-word codebook's shape and the K=16 clip clustering's);
3. ``trainer=ddp`` on all visible GPUs (the Zhang smoke run);
4. PWC-lite inference pairs/s at 256x340, 32-bit and 16-bit autocast.

Results go to ``experiments/benchmarks/gpu/`` with the device name. Without a CUDA GPU it writes
nothing, prints one line and exits with code 2, so a CPU machine never stores a GPU result.

    python -m motionlab.bench.gpu_smoke --out experiments/benchmarks/gpu
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionlab.eval.results import write_results

NO_GPU_EXIT = 2
PAPER_STAGES = {"Zhang et al.": "unreg", "UF-TSN": "uftsn_gt", "CGMU": "cgmu_bilinear"}
HEIGHT, WIDTH = 256, 340
KMEANS_SHAPES = {"codebook (262144 x 2, k=128)": (262144, 2, 128), "clips (13320 x 256, k=16)": (13320, 256, 16)}


def gpu_names() -> list[str]:
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def run_experiment(experiment: str, trainer: str, root: Path) -> tuple[int, float, str]:
    """One smoke run through the real CLI; (exit code, seconds, last stderr line on failure)."""
    args = [sys.executable, "-m", "motionlab.cli", f"experiment={experiment}", "debug=fast", f"trainer={trainer}",
            f"paths.output_root={root / experiment / trainer}", "trainer.progress_bar=false", "logger=csv"]
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    tail = "" if proc.returncode == 0 else (proc.stderr.strip().splitlines() or [""])[-1][:200]
    return proc.returncode, time.perf_counter() - start, tail


def kmeans_gpu_vs_cpu(n: int, d: int, k: int, niter: int = 20) -> dict[str, Any]:
    """faiss K-means on GPU and CPU, same rows and initial centroids: seconds and inertia of each."""
    import faiss

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d)).astype(np.float32)
    init = x[rng.choice(n, k, replace=False)]
    out: dict[str, Any] = {}
    for device, gpu in (("cpu", False), ("gpu", True)):
        model = faiss.Kmeans(d, k, niter=niter, seed=0, gpu=gpu, verbose=False,
                             max_points_per_centroid=-(-n // k), min_points_per_centroid=1)
        start = time.perf_counter()
        model.train(x, init_centroids=init)
        out[f"{device}_s"] = time.perf_counter() - start
        distances, _ = model.index.search(x, 1)
        out[f"{device}_inertia"] = float(distances.sum())
    out["inertia_rel_diff"] = abs(out["gpu_inertia"] - out["cpu_inertia"]) / out["cpu_inertia"]
    return out


@torch.inference_mode()
def pwclite_pairs_per_s(batch: int = 16, repeats: int = 10) -> dict[str, float]:
    """PWC-lite (paper config) on ``batch`` random 256x340 pairs per call, fp32 and fp16 autocast."""
    from motionlab.models.pwc_lite import build_pwclite

    net = build_pwclite().cuda().eval()
    img1, img2 = (torch.rand(batch, 3, HEIGHT, WIDTH, device="cuda") for _ in range(2))
    out = {}
    for name, dtype in (("fp32", None), ("fp16_autocast", torch.float16)):
        with torch.autocast("cuda", dtype=dtype or torch.float32, enabled=dtype is not None):
            net(img1, img2)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(repeats):
                net(img1, img2)
            torch.cuda.synchronize()
        out[name] = batch * repeats / (time.perf_counter() - start)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/benchmarks/gpu"))
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu-smoke: no CUDA GPU visible (torch.cuda.is_available() is False); nothing run, nothing written",
              file=sys.stderr)
        return NO_GPU_EXIT
    start = time.perf_counter()
    names = gpu_names()
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="gpu-smoke-") as tmp:
        for paper, experiment in PAPER_STAGES.items():
            rc, seconds, tail = run_experiment(experiment, "gpu", Path(tmp))
            rows.append([f"trainer=gpu 16-mixed: {paper} ({experiment})", "ok" if rc == 0 else f"FAILED: {tail}",
                         f"{seconds:.1f} s"])
        rc, seconds, tail = run_experiment("unreg", "ddp", Path(tmp))
        rows.append([f"trainer=ddp on {len(names)} GPU(s) (unreg)", "ok" if rc == 0 else f"FAILED: {tail}",
                     f"{seconds:.1f} s"])
    import faiss

    if faiss.get_num_gpus() == 0:
        rows.append(["faiss-gpu K-means", "not run: faiss has no GPU support here (make install FAISS=gpu)", ""])
    else:
        for label, (n, d, k) in KMEANS_SHAPES.items():
            r = kmeans_gpu_vs_cpu(n, d, k)
            rows.append([f"faiss K-means {label}", f"inertia GPU/CPU differ by {100 * r['inertia_rel_diff']:.3f} %",
                         f"GPU {r['gpu_s']:.2f} s, CPU {r['cpu_s']:.2f} s"])
    for name, rate in pwclite_pairs_per_s().items():
        rows.append([f"PWC-lite inference 256x340, batch 16, {name}", "ok", f"{rate:.1f} pairs/s"])
    notes = (f"Devices: {', '.join(names)} ({len(names)} visible). Smoke runs use `debug=fast` (tiny data and "
             "steps): they check that each path runs, not its speed; n = 1.")
    write_results(args.out, f"GPU smoke test on {names[0]}", "make gpu-smoke", ["check", "result", "time / rate"],
                  rows, notes=notes, wall_time_s=time.perf_counter() - start)
    failed = [r for r in rows if str(r[1]).startswith("FAILED")]
    print(f"gpu-smoke: {len(rows) - len(failed)}/{len(rows)} checks ok -> {args.out}/results.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
