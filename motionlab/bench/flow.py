"""Flow speed in one run, on the same frames and thread count: every OpenCV backend, each PWC-lite
variant (``conf/model/pwclite*.yaml``, random weights: speed does not depend on them) as the
``pwclite`` backend runs it, eager (inference mode, channels last) and in ONNX Runtime
(``runtime=onnx``, the optional ``motionlab[onnx]`` extra; its flow checked against eager first),
and the published fast nets FastFlowNet, RAPIDFlow and NeuFlow v2 from ``ptlflow`` (random init),
run from a separate environment so the project's pins stay as they are:

    python3 -m venv /work/benchenv && /work/benchenv/bin/pip install ptlflow
    python -m motionlab.bench.flow --out experiments/benchmarks/flow [--threads 2]     # make bench-flow

A missing onnxruntime or ptlflow environment leaves those rows out and says why in the file.
Frames: the first two frames of opencv-doc's vtest.avi at 256x340. ``make bench-flow`` sets
``OMP_WAIT_POLICY=PASSIVE`` (torch, in both processes) and then ONNX Runtime runs without spinning
too: on a shared machine a spinning thread pool takes the cores from its own working threads and
the other jobs', which slows eager PyTorch at 2 threads several-fold under load; the file says
which wait policy it ran with.
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
from omegaconf import OmegaConf

from motionlab.bench._timing import interleaved_seconds
from motionlab.bench.flow_gt import BASELINE, OPENCV_BACKENDS
from motionlab.bench.uftsn import profile_table
from motionlab.config.preflight import CONF_DIR
from motionlab.core.errors import DataError
from motionlab.data.decode import decode_clip
from motionlab.eval.results import write_results
from motionlab.flow.base import build_flow
from motionlab.flow.learned import ONNX_OPSET, OnnxPWCLite, import_onnxruntime
from motionlab.models.parts import count_parameters
from motionlab.models.pwc_lite import PWCLite, PWCLiteConfig

HEIGHT, WIDTH = 256, 340
VIDEO = Path("/tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi")
VARIANTS = ("pwclite", "pwclite_fast")
PTLFLOW_NETS = ("fastflownet", "rapidflow", "neuflow2")
PASSIVE = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"  # read by libgomp when torch loads
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


def onnx_pair_fn(net: PWCLite, frames: np.ndarray, threads: int):
    """The ``runtime=onnx`` path of the backend on the pair (graph exported before timing), its
    pool waiting as torch's does."""
    runtime = OnnxPWCLite(net, threads, spinning=not PASSIVE)
    images = torch.from_numpy(frames).permute(0, 3, 1, 2).float()[None] / 255.0
    runtime(images)
    return lambda: runtime(images)


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
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--command", default="python -m motionlab.bench.flow")
    args = ap.parse_args(argv)
    start = time.time()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    frames = decode_clip(VIDEO, [0, 1], (HEIGHT, WIDTH))[0]
    load_before = os.getloadavg()

    fns, params = {}, {}
    for label, name, kw in OPENCV_BACKENDS:
        estimator = build_flow(name, **kw)
        fns[label] = lambda e=estimator: e(frames[0], frames[1])
    nets = {name: variant_net(name) for name in VARIANTS}
    onnx_gaps, failures = {}, []
    for name, net in nets.items():
        fns[f"{name} (eager, channels last)"] = net_pair_fn(net, frames)
        params[f"{name} (eager, channels last)"] = count_parameters(net)
        try:
            onnx = onnx_pair_fn(net, frames, args.threads)
        except DataError as err:  # onnxruntime not installed
            failures.append(f"- {name} in ONNX Runtime: {err}")
            continue
        eager = fns[f"{name} (eager, channels last)"]()
        onnx_gaps[name] = (float(np.abs(onnx()[0] - eager.numpy()).max()), float(eager.abs().max()))
        fns[f"{name} (ONNX Runtime)"] = onnx
        params[f"{name} (ONNX Runtime)"] = params[f"{name} (eager, channels last)"]
    seconds = interleaved_seconds(fns, args.repeats)
    ptl = ptlflow_seconds(frames, args.threads, args.repeats)
    for name in PTLFLOW_NETS:
        if "seconds" in ptl.get(name, {}):
            seconds[f"ptlflow {name} (random init)"] = ptl[name]["seconds"]
            params[f"ptlflow {name} (random init)"] = ptl[name]["params"]

    base = seconds[BASELINE]
    rows = [[label, f"{params[label] / 1e6:.2f}" if label in params else "–", f"{1 / s:.1f}", f"{s * 1e3:.1f}",
             f"{base / s:.2f}"] for label, s in seconds.items()]
    ptl_times = [s for label, s in seconds.items() if label.startswith("ptlflow")]
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    goal = []
    for label in ("pwclite_fast (eager, channels last)", "pwclite_fast (ONNX Runtime)"):
        if label not in seconds:
            continue
        fast = seconds[label]
        goal.append(f"- {label} / TV-L1 backend: {base / fast:.2f}x (goal >= 10x: {met(base / fast >= 10)})")
        if ptl_times:
            ratio = min(ptl_times) / fast
            goal.append(f"- {label} / fastest ptlflow net: {ratio:.2f}x (goal >= 3x: {met(ratio >= 3)})")
    failures += [f"- ptlflow {name}: {ptl[name]['error']}" for name in PTLFLOW_NETS if "error" in ptl.get(name, {})]
    if "error" in ptl:
        failures.append(f"- ptlflow not run: {ptl['error']}")
    runtimes = [f"- {name}: ONNX Runtime {import_onnxruntime().__version__} (opset {ONNX_OPSET}, CPU provider, "
                f"{args.threads} intra-op threads) gives eager's flow on this pair within {gap:.1e} px (largest "
                f"flow {top:.3f} px, random weights)" for name, (gap, top) in onnx_gaps.items()]
    load_after = os.getloadavg()
    loaded = max(load_before[0], load_after[0]) > 0.75 * (os.cpu_count() or 1)
    load = lambda avg: "/".join(f"{x:.1f}" for x in avg)  # noqa: E731
    verdict = ("UNDER LOAD (other jobs share the cores): absolute times are inflated; compare the ratios, taken "
               "within this one run") if loaded else "quiet"
    notes = "\n".join([
        "", f"Frames: {VIDEO.name} frames 0 and 1 at {HEIGHT}x{WIDTH}; {args.threads} threads for torch, ONNX Runtime "
        f"and OpenCV; one pair per call; median of {args.repeats} calls after a warm-up, the in-process methods timed "
        "in turns (a burst of load hits all alike); the ptlflow nets in a second process right after, same threads "
        "and frames" + (f" (ptlflow {ptl.get('ptlflow')}, torch {ptl.get('torch')})" if "ptlflow" in ptl else "")
        + ".",
        f"Machine load (load average over 1/5/15 min, os.getloadavg): {load(load_before)} before, "
        f"{load(load_after)} after, on {os.cpu_count()} cores: "
        f"{verdict}.",
        "Idle threads: " + ("wait passively (OMP_WAIT_POLICY=PASSIVE for torch in both processes, ONNX Runtime "
                            "without spinning)" if PASSIVE else "spin (the runtimes' defaults; OMP_WAIT_POLICY unset)")
        + ".",
        "Ratio: TV-L1 backend's time / the method's (higher = faster). PWC-lite variants have random weights "
        "(speed only; their EPE is in experiments/flow_real_gt/). Their cost volume is the banded batched-matmul "
        "one of motionlab/models/cost_volume.py.", "", "## Goal", "", *goal, "",
        *(["## ONNX Runtime against eager", "", *runtimes, ""] if runtimes else []),
        *(["## Not measured", "", *failures, ""] if failures else []),
        "## Profile: pwclite_fast (eager), one pair, top operators by self CPU time", "",
        profile_table(fns["pwclite_fast (eager, channels last)"]), ""])
    write_results(args.out, f"Flow speed at {HEIGHT}x{WIDTH}, {args.threads} threads, one run", args.command,
                  ["method", "params (M)", "pairs/s", "ms/pair", "x TV-L1 backend"], rows, notes, time.time() - start)
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
