"""Flow speed in one run, on the same frames and thread count: every OpenCV backend, each PWC-lite
variant (``conf/model/pwclite*.yaml``, random weights: speed does not depend on them) as the
``pwclite`` backend runs it (inference mode, channels last), and the published fast nets
FastFlowNet, RAPIDFlow and NeuFlow v2 from ``ptlflow`` (random init), run from a separate
environment so the project's pins stay as they are:

    python3 -m venv /work/benchenv && /work/benchenv/bin/pip install ptlflow
    python -m motionlab.bench.flow --out experiments/benchmarks/flow [--threads 2]     # make bench-flow

Frames: the first two frames of opencv-doc's vtest.avi at 256x340. Also timed: the cost volume
as a product per offset (the one in ``motionlab.models.cost_volume``) against the banded
batched-matmul form, on the same features, checked equal first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from motionlab.bench._timing import interleaved_seconds
from motionlab.bench.flow_gt import BASELINE, OPENCV_BACKENDS
from motionlab.bench.uftsn import profile_table
from motionlab.config.preflight import CONF_DIR
from motionlab.data.decode import decode_clip
from motionlab.eval.results import write_results
from motionlab.flow.base import build_flow
from motionlab.models.cost_volume import local_correlation
from motionlab.models.parts import count_parameters
from motionlab.models.pwc_lite import PWCLite, PWCLiteConfig

HEIGHT, WIDTH = 256, 340
VIDEO = Path("/tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi")
VARIANTS = ("pwclite", "pwclite_fast")
PTLFLOW_NETS = ("fastflownet", "rapidflow", "neuflow2")
BENCH_PYTHON = Path(os.environ.get("MOTIONLAB_BENCH_PYTHON", "/work/benchenv/bin/python"))
PTLFLOW_SCRIPT = """
import json, statistics, sys, time
import numpy as np, torch, ptlflow
threads, frames_path, repeats = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
frames = np.load(frames_path)
images = torch.from_numpy(frames).permute(0, 3, 1, 2).float()[None] / 255.0  # [1, 2, 3, H, W]
out = {"ptlflow": ptlflow.__version__, "torch": torch.__version__}
for name in sys.argv[4:]:
    try:
        model = ptlflow.get_model(name).eval()
        with torch.inference_mode():
            model({"images": images})
            times = []
            for _ in range(repeats):
                start = time.perf_counter(); model({"images": images}); times.append(time.perf_counter() - start)
        out[name] = {"seconds": statistics.median(times), "params": sum(p.numel() for p in model.parameters())}
    except Exception as err:  # one net failing must not hide the others
        out[name] = {"error": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"}
print(json.dumps(out))
"""


def banded_correlation_sums(f1: torch.Tensor, f2: torch.Tensor, radius: int, block: int = 16) -> torch.Tensor:
    """The cost volume's sums as banded batched matmuls: per row offset, runs of ``block`` pixels of
    a row of ``f1`` times the ``block + 2r`` pixels of ``f2`` they reach (one GEMM batch over all
    rows and runs), the wanted offsets read as a band of the product. The candidate timed here."""
    b, c, h, w = f1.shape
    side, runs = 2 * radius + 1, -(-w // block)
    extra = runs * block - w
    first = F.pad(f1, (0, extra)).permute(0, 2, 3, 1).reshape(b, h, runs, block, c)
    second = F.pad(f2, (radius, radius + extra, radius, radius)).permute(0, 2, 3, 1)
    reach, rows = block + 2 * radius, []
    for dy in range(side):
        full = torch.matmul(first, second[:, dy:dy + h].unfold(2, reach, block))  # [B, H, runs, block, reach]
        flat = F.pad(full.flatten(-2), (0, block))  # full[..., x, x + dx] sits at x * (reach + 1) + dx
        rows.append(flat.unflatten(-1, (block, reach + 1))[..., :side])
    cost = torch.stack(rows, dim=-2)
    return cost.reshape(b, h, runs * block, side * side)[:, :, :w].permute(0, 3, 1, 2)


def variant_net(name: str) -> PWCLite:
    cfg = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml"), resolve=True)
    cfg.pop("defaults", None)
    if name != "pwclite":  # the variant files override the base file
        base = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "model" / "pwclite.yaml"), resolve=True)
        cfg = {**base, **cfg}
    return PWCLite(PWCLiteConfig(**cfg)).eval().to(memory_format=torch.channels_last)


def net_pair_fn(net: PWCLite, frames: np.ndarray):
    images = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
    images = images.contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def run() -> torch.Tensor:
        return net(images[:1], images[1:])[0]
    return run


def ptlflow_seconds(frames: np.ndarray, threads: int, repeats: int) -> dict:
    if not BENCH_PYTHON.is_file():
        return {"error": f"{BENCH_PYTHON} not found: python3 -m venv /work/benchenv && "
                         "/work/benchenv/bin/pip install ptlflow"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frames.npy"
        np.save(path, frames)
        done = subprocess.run([str(BENCH_PYTHON), "-c", PTLFLOW_SCRIPT, str(threads), str(path), str(repeats),
                               *PTLFLOW_NETS], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m motionlab.bench.flow", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("experiments/benchmarks/flow"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--command", default="python -m motionlab.bench.flow")
    args = ap.parse_args(argv)
    start = time.time()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    frames = decode_clip(VIDEO, [0, 1], (HEIGHT, WIDTH))[0]
    load_before = os.getloadavg()[0]

    fns, params = {}, {}
    for label, name, kw in OPENCV_BACKENDS:
        estimator = build_flow(name, **kw)
        fns[label] = lambda e=estimator: e(frames[0], frames[1])
    nets = {name: variant_net(name) for name in VARIANTS}
    for name, net in nets.items():
        fns[f"{name} (eager, channels last)"] = net_pair_fn(net, frames)
        params[f"{name} (eager, channels last)"] = count_parameters(net)
    seconds = interleaved_seconds(fns, args.repeats)
    ptl = ptlflow_seconds(frames, args.threads, args.repeats)
    for name in PTLFLOW_NETS:
        if "seconds" in ptl.get(name, {}):
            seconds[f"ptlflow {name} (random init)"] = ptl[name]["seconds"]
            params[f"ptlflow {name} (random init)"] = ptl[name]["params"]

    base = seconds[BASELINE]
    rows = [[label, f"{params[label] / 1e6:.2f}" if label in params else "–", f"{1 / s:.1f}", f"{s * 1e3:.1f}",
             f"{base / s:.2f}"] for label, s in seconds.items()]
    fast, ptl_times = seconds["pwclite_fast (eager, channels last)"], [
        s for label, s in seconds.items() if label.startswith("ptlflow")]
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    goal = [f"- fast variant / TV-L1 backend: {base / fast:.2f}x (goal >= 10x: {met(base / fast >= 10)})"]
    if ptl_times:
        ratio = min(ptl_times) / fast
        goal.append(f"- fast variant / fastest ptlflow net: {ratio:.2f}x (goal >= 3x: {met(ratio >= 3)})")
    failures = [f"- ptlflow {name}: {ptl[name]['error']}" for name in PTLFLOW_NETS if "error" in ptl.get(name, {})]
    if "error" in ptl:
        failures.append(f"- ptlflow not run: {ptl['error']}")

    level = nets["pwclite"].features(torch.from_numpy(frames[:1]).permute(0, 3, 1, 2).float() / 255)[1]
    f2 = torch.roll(level, 1, -1)
    radius = nets["pwclite"].cfg.search_radius
    channels = level.shape[1]
    assert torch.allclose(banded_correlation_sums(level, f2, radius) / channels, local_correlation(level, f2, radius),
                          atol=1e-4)
    cv = interleaved_seconds({"per offset": lambda: local_correlation(level, f2, radius),
                              "banded matmul": lambda: banded_correlation_sums(level, f2, radius)}, args.repeats)
    load_after = os.getloadavg()[0]
    notes = "\n".join([
        "", f"Frames: {VIDEO.name} frames 0 and 1 at {HEIGHT}x{WIDTH}; {args.threads} threads for torch and OpenCV; "
        f"one pair per call; median of {args.repeats} calls after a warm-up, the in-process methods timed in turns "
        "(a burst of load hits all alike); the ptlflow nets in a second process right after, same threads and frames"
        + (f" (ptlflow {ptl.get('ptlflow')}, torch {ptl.get('torch')})" if "ptlflow" in ptl else "") + ".",
        f"Machine load (1-min load average): {load_before:.1f} before, {load_after:.1f} after, on "
        f"{os.cpu_count()} cores: "
        f"{'UNDER LOAD, absolute times are inflated; compare ratios' if load_before > 1.5 else 'quiet'}.",
        "Ratio: TV-L1 backend's time / the method's (higher = faster). PWC-lite variants have random weights "
        "(speed only; their EPE is in experiments/flow_real_gt/).", "", "## Goal", "", *goal, "",
        *(["## Not measured", "", *failures, ""] if failures else []),
        f"## Cost volume at level 2 {tuple(level.shape[1:])}, radius {radius}", "",
        f"- product per offset (in use): {cv['per offset'] * 1e3:.1f} ms; banded batched matmul: "
        f"{cv['banded matmul'] * 1e3:.1f} ms (equal values; ratio {cv['per offset'] / cv['banded matmul']:.2f}x)", "",
        "## Profile: pwclite_fast, one pair, top operators by self CPU time", "",
        profile_table(fns["pwclite_fast (eager, channels last)"]), ""])
    write_results(args.out, f"Flow speed at {HEIGHT}x{WIDTH}, {args.threads} threads, one run", args.command,
                  ["method", "params (M)", "pairs/s", "ms/pair", "x TV-L1 backend"], rows, notes, time.time() - start)
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
