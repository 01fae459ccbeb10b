"""``make estimate-paper-scale``: how long a paper table takes at paper scale, from costs measured here.

Measured on this machine, at paper sizes, n = 1 run (median of a few timed repeats, interleaved):
training step time per sample (forward + backward + Adam) and inference time per sample of AlexNet
(224 px), ResNet-18 on a 20-channel flow stack and ResNet-152 (224 px), PWC-lite (256x340 pairs,
with its unsupervised loss); flow pairs/s of each OpenCV backend at 112 px (the data configs' size,
Zhang's pseudo labels) and 256x340 (UF-TSN's paper size); decode frames/s of a UCF101-format video.

Then every stage of every row of the table is planned from the real configs (``plan_pipeline``,
``setting=ucf101_to_voc model=alexnet`` for Zhang Table 1, ``experiment=uftsn_ucf101`` for UF-TSN
Table 2), stages shared between rows counted once (the artifact store computes them once), and each
stage's work (its steps x batch from its params, the dataset sizes below) is multiplied by the
measured per-sample costs. Every assumption is listed in the results file.

    python -m motionlab.bench.paper_scale --out experiments/benchmarks/paper_scale
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from motionlab.bench._timing import interleaved_seconds
from motionlab.eval.results import markdown_table, write_results

# Dataset sizes (UCF101: Soomro et al. 2012; split 1 of the official lists; mean clip 7.21 s at 25 fps)
UCF101_TRAIN, UCF101_TEST, UCF101_FRAMES = 9537, 3783, 180
VOC_TEST = 2000  # Zhang et al. sec. 4.1
FLOW_SIZES = {"112x112": (112, 112), "256x340": (256, 340)}
ZHANG_ROWS = {"UNREG": "unreg", "UNREG, matched steps": "zhang_unreg_matched", "Ours (w/o MRA)": "zhang_ours_wo_mra",
              "Ours": "zhang_ours"}
ZHANG_COMMON = ["setting=ucf101_to_voc", "model=alexnet", "data.video.root=/data/UCF101",
                "data.image.root=/data/VOCdevkit"]
UFTSN_ROWS = {
    "UF-TSN": [],
    "TV-L1": ["pipeline=uftsn_precomputed"],
    "DIS": ["pipeline=uftsn_precomputed", "pipeline.stages.motion.params.flow_source=dis"],
    "w/o cost volume + multi-scale": ["pipeline.stages.flow.params.net.use_cost_volume=false",
                                      "pipeline.stages.flow.params.net.multi_scale=false"],
    "w/o multi-scale": ["pipeline.stages.flow.params.net.multi_scale=false"],
}
UFTSN_COMMON = ["experiment=uftsn_ucf101", "data.video.root=/data/UCF101", "data.video.split_id=1"]


# ------------------------------------------------------------------------------- measuring
def train_step(net: nn.Module, make_batch: Callable[[], tuple], loss_fn: Callable[..., torch.Tensor]
               ) -> Callable[[], None]:
    opt = torch.optim.Adam(net.parameters(), 1e-4)
    batch = make_batch()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss_fn(net, *batch).backward()
        opt.step()

    return step


def infer_step(net: nn.Module, make_batch: Callable[[], tuple]) -> Callable[[], None]:
    batch = make_batch()

    def step() -> None:
        with torch.inference_mode():
            net(*batch)

    return step


def classifier_costs(repeats: int) -> dict[str, float]:
    """Seconds per sample of each classifier, training and inference."""
    from torchvision.models import alexnet

    from motionlab.models.tsn import MotionClassifier, build_resnet

    def ce(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(net(x), y)

    nets = {  # name: (net, batch, input shape)
        "alexnet_224": (alexnet(num_classes=10), 8, (3, 224, 224)),
        "resnet18_flow20_224": (MotionClassifier(101, 10, 18).net, 4, (20, 224, 224)),
        "resnet152_224": (build_resnet(152, 101), 2, (3, 224, 224)),
    }
    fns, per = {}, {}
    for name, (net, batch, shape) in nets.items():
        def make(batch=batch, shape=shape) -> tuple:
            return torch.randn(batch, *shape), torch.randint(0, 10, (batch,))

        fns[f"{name}_train"] = train_step(net.train(), make, ce)
        fns[f"{name}_infer"] = infer_step(net.eval(), lambda make=make: (make()[0],))
        per[f"{name}_train"] = per[f"{name}_infer"] = batch
    seconds = interleaved_seconds(fns, repeats)
    return {name: s / per[name] for name, s in seconds.items()}


def pwclite_costs(repeats: int) -> dict[str, float]:
    """Seconds per 256x340 pair of PWC-lite (paper config): a training step with the unsupervised
    loss of the paper's weights, one direction, and inference."""
    from motionlab.losses.unsupervised import UnsupervisedLossParams, unsupervised_loss
    from motionlab.models.pwc_lite import build_pwclite

    net = build_pwclite()
    batch = 2

    def make() -> tuple:
        return torch.rand(batch, 3, 256, 340), torch.rand(batch, 3, 256, 340)

    def loss(net: nn.Module, img1: torch.Tensor, img2: torch.Tensor) -> torch.Tensor:
        return unsupervised_loss(net(img1, img2), img1, img2, UnsupervisedLossParams())[0]

    seconds = interleaved_seconds({"pwclite_256x340_train": train_step(net.train(), make, loss),
                                   "pwclite_256x340_infer": infer_step(net.eval(), make)}, repeats)
    return {name: s / batch for name, s in seconds.items()}


def flow_backend_costs(repeats: int) -> dict[str, float]:
    """Seconds per pair of each OpenCV backend (repo defaults) at each size, on a panning texture."""
    from motionlab.bench.uftsn import random_frames
    from motionlab.flow.base import build_flow

    frames = random_frames(2)
    fns = {}
    for size_name, (h, w) in FLOW_SIZES.items():
        a, b = (np.ascontiguousarray(f[:h, :w]) for f in frames)
        for backend in ("tvl1", "dis", "farneback"):
            estimator = build_flow(backend)
            fns[f"{backend}_{size_name}"] = lambda est=estimator, a=a, b=b: est(a, b)
    return interleaved_seconds(fns, repeats)


def decode_cost(repeats: int) -> dict[str, float]:
    """Seconds per frame decoding a 320x240 MPEG-4 .avi (UCF101's format) to 112 px through the
    repo's decoder (PyAV), every frame of a 100-frame video."""
    from motionlab.bench._videos import write_video
    from motionlab.data.decode import decode_clip

    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(Path(tmp) / "v.avi", 100, 240, 320, np.random.default_rng(0))
        seconds = interleaved_seconds({"decode": lambda: decode_clip(path, range(100), 112)}, repeats)
    return {"decode_320x240_to_112": seconds["decode"] / 100}


# ------------------------------------------------------------------------------- the model
@dataclass
class Work:
    """One stage's work in samples per measured cost, and what it assumes."""

    stage: str
    counts: dict[str, float]  # cost name -> number of samples
    note: str

    def hours(self, costs: dict[str, float]) -> float:
        return sum(n * costs[name] for name, n in self.counts.items()) / 3600


def stage_work(kind: str, p: Any, cfg: Any) -> Work:
    """The work of one planned stage at paper scale (see the module docstring)."""
    video = cfg.data.video
    if kind == "pseudolabels":
        clips, k = int(video.num_videos), int(video.key_frames)
        return Work(kind, {f"{p.backend}_112x112": clips * (k - 1),
                           "decode_320x240_to_112": clips * ((k - 1) * int(video.key_interval) + 1)},
                    f"{clips} clips x {k - 1} {p.backend} pairs at 112 px + decoding; K-means/VLAD not counted")
    if kind == "image_classifier":
        return Work(kind, {"alexnet_224_train": p.max_steps * p.batch_size, "alexnet_224_infer": VOC_TEST},
                    f"{p.max_steps} steps x {p.batch_size} images + {VOC_TEST} test images")
    if kind == "vre":
        frames = int(video.key_frames)
        return Work(kind, {"alexnet_224_train": p.max_steps * (p.batch_size + p.video_batch_size * frames)},
                    f"{p.max_steps} steps x ({p.batch_size} images + {p.video_batch_size} videos x {frames} frames) "
                    "through AlexNet; GRU and heads not counted")
    if kind == "mra_head":
        return Work(kind, {"alexnet_224_infer": p.max_steps * p.batch_size + VOC_TEST},
                    f"{p.max_steps} steps x {p.batch_size} images, encoder forward only (frozen), + test")
    if kind == "flow_pretrain":
        directions = 2 if p.bidirectional else 1
        return Work(kind, {"pwclite_256x340_train": p.max_steps * p.batch_size * directions},
                    f"{p.max_steps} steps x {p.batch_size} pairs x {directions} directions at 256x340; "
                    "ablated nets costed as the full net")
    pairs = UCF101_FRAMES - 1
    if kind == "tsn_spatial":
        return Work(kind, {"resnet152_224_train": p.max_steps * p.batch_size * p.num_segments,
                           "resnet152_224_infer": UCF101_TEST * p.test_inputs},
                    f"{p.max_steps} steps x {p.batch_size} videos x {p.num_segments} segments + "
                    f"{UCF101_TEST} test videos x {p.test_inputs} frames")
    if kind == "tsn_motion":
        stacks = p.max_steps * p.batch_size * p.num_segments
        counts = {"resnet18_flow20_224_train": stacks, "resnet18_flow20_224_infer": UCF101_TEST * p.test_inputs,
                  "decode_320x240_to_112": (UCF101_TRAIN + UCF101_TEST) * UCF101_FRAMES}
        if p.flow_source == "learned":
            finetune = p.max_steps - round(p.max_steps * p.warmup_fraction)
            counts["pwclite_256x340_infer"] = (UCF101_TRAIN + UCF101_TEST) * pairs
            counts["pwclite_256x340_train"] = finetune * p.batch_size * p.num_segments * p.num_flows
            note = (f"warm-up flow of every pair of {UCF101_TRAIN} train + {UCF101_TEST} test videos "
                    f"({pairs} pairs each) by the frozen net; {finetune} end-to-end steps train PWC-lite on the "
                    f"{p.num_segments} x {p.num_flows} sampled pairs per video")
        else:
            counts[f"{p.flow_source}_256x340"] = (UCF101_TRAIN + UCF101_TEST) * pairs
            note = f"{p.flow_source} flow of every pair of all {UCF101_TRAIN + UCF101_TEST} videos at 256x340, cached"
        return Work(kind, counts, f"{p.max_steps} steps x {p.batch_size} x {p.num_segments} stacks; {note}")
    return Work(kind, {}, "no measurable work (averages its inputs' scores)")


def table_work(rows: dict[str, list[str]], seeds: int) -> tuple[list[Work], dict[str, int]]:
    """Every distinct stage of the rows x seeds (the store computes a shared stage once)."""
    from motionlab.config.preflight import compose_config
    from motionlab.pipeline import plan_pipeline

    works: dict[str, Work] = {}
    per_row: dict[str, int] = {}
    for row, overrides in rows.items():
        for seed in range(seeds):
            cfg = compose_config([*overrides, f"seed={seed}"])
            for item in plan_pipeline(cfg):
                works.setdefault(item.key, stage_work(item.stage.kind, item.params, cfg))
            per_row[row] = len(plan_pipeline(cfg))
    return list(works.values()), per_row


def summarize(works: list[Work], costs: dict[str, float]) -> list[list[object]]:
    by_kind: dict[str, list[Work]] = {}
    for w in works:
        by_kind.setdefault(w.stage, []).append(w)
    return [[kind, len(ws), f"{sum(w.hours(costs) for w in ws):.1f}", ws[0].note] for kind, ws in by_kind.items()]


README_START = "<!-- paper-scale estimate: generated by make estimate-paper-scale -->"
README_END = "<!-- /paper-scale -->"


def update_readme(readme: Path, out: Path, estimate: dict[str, Any]) -> None:
    """Replace the README's estimate paragraph (between the markers) with one quoting ``estimate``."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} has no {README_START!r} ... {README_END!r} section to fill")
    costs = estimate["costs_s"]
    lines = [README_START, "", f"Estimated from costs measured on {estimate['device']}, n = 1, "
             f"{estimate['seeds_per_row']} seed per row ({out}/results.md, every assumption listed there):", ""]
    lines += [f"| {title} | {hours} h ({hours / 24:.1f} days) |" for title, hours in estimate["hours"].items()]
    lines.insert(len(lines) - len(estimate["hours"]), "| table | time on one such CPU |\n|---|---|")
    lines += ["", f"Inputs, e.g.: ResNet-152 training {1 / costs['resnet152_224_train']:.2f} images/s, PWC-lite "
              f"training {1 / costs['pwclite_256x340_train']:.2f} pairs/s and inference "
              f"{1 / costs['pwclite_256x340_infer']:.2f} pairs/s at 256x340, TV-L1 {1 / costs['tvl1_256x340']:.2f} "
              f"pairs/s, decoding {1 / costs['decode_320x240_to_112']:.0f} frames/s. No GPU has been measured "
              "(`make gpu-smoke` on one, then rerun this with its rates).", "", README_END]
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + "\n".join(lines) + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/benchmarks/paper_scale"))
    parser.add_argument("--readme", type=Path, help="also rewrite this README's estimate section")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=1, help="seeds per row of each table")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    torch.manual_seed(0)
    costs = {**classifier_costs(args.repeats), **pwclite_costs(args.repeats), **flow_backend_costs(args.repeats),
             **decode_cost(args.repeats)}
    tables = {"Zhang et al. Table 1, UCF101 -> VOC": {r: [*ZHANG_COMMON, f"experiment={e}"]
                                                      for r, e in ZHANG_ROWS.items()},
              "UF-TSN Table 2, UCF101 split 1": {r: [*UFTSN_COMMON, *o] for r, o in UFTSN_ROWS.items()}}
    device = "this CPU (measured under load)"
    rows, details, summary = [], [], {}
    for title, table in tables.items():
        works, _ = table_work(table, args.seeds)
        hours = sum(w.hours(costs) for w in works)
        summary[title] = round(hours, 1)
        rows.append([title, ", ".join(table), len(works), f"{hours:.1f}", f"{hours / 24:.1f}"])
        details.append(f"### {title}\n\n" + markdown_table(["stage", "distinct runs", "hours", "work per run"],
                                                           summarize(works, costs)))
    inputs = [[name, f"{1000 * s:.1f}", f"{1 / s:.2f}"] for name, s in sorted(costs.items())]
    notes = "\n".join([
        f"Device: {device}; GPU: not measured (no GPU lent to this session). n = 1: one run of the "
        "measurements, each the median of "
        f"{args.repeats} interleaved timed repeats after one untimed round, on a 2-core machine shared with "
        "other jobs: read the hours as an order of magnitude, not a prediction.",
        "",
        "## Measured inputs (per sample: an image, a flow stack, a frame pair or a decoded frame)",
        "",
        markdown_table(["cost", "ms per sample", "samples/s"], inputs),
        "",
        "## Where the hours go",
        "",
        *details,
        "",
        "## Assumptions",
        "",
        f"- Step and batch counts are the stage configs' paper-scale defaults (conf/stage/*.yaml), {args.seeds} "
        "seed(s) per row; stages shared between rows (same key) are counted once, as the store runs them once.",
        f"- UCF101 split 1: {UCF101_TRAIN} train and {UCF101_TEST} test videos of {UCF101_FRAMES} frames "
        "(7.21 s mean clip length at 25 fps), TSN segments over the whole video; VOC: 2000 test images.",
        "- Time per sample is linear in the batch (measured at small batches: AlexNet 8, ResNet-18 4, "
        "ResNet-152 2, PWC-lite 2 pairs); data loading overlaps compute except where decoding is listed.",
        "- Zhang's pseudo-label flow at the data config's 112 px, UF-TSN's flow at the paper's 256x340 "
        "(the repo's UCF101 config decodes 112 px: about 7x fewer pixels than 256x340).",
        "- Not counted: K-means/VLAD, GRU/MLP heads, evaluation of flow EPE, checkpoint writes, start-up.",
        "- TV-L1 and DIS with the repo's defaults (motionlab/flow/opencv.py), one thread each; "
        "the `w/o ...` rows' flow nets costed as the full PWC-lite.",
    ])
    write_results(args.out, "Time to a paper table at paper scale, estimated from measured costs",
                  "make estimate-paper-scale", ["table", "rows", "distinct stage runs", "hours", "days"], rows,
                  notes=notes, wall_time_s=time.perf_counter() - start)
    estimate = {"device": device, "hours": summary, "costs_s": costs, "seeds_per_row": args.seeds}
    (args.out / "estimate.json").write_text(json.dumps(estimate, indent=2))
    if args.readme:
        update_readme(args.readme, args.out, estimate)
    print(f"paper-scale estimate: {summary} -> {args.out}/results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
