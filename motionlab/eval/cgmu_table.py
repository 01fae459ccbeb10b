"""The CGMU table (``motionlab-report cgmu``): one row per upsampler, EPE overall and near motion
boundaries, the gain decomposition (the same net's low-res motion upsampled bilinearly; the ideal
low-res motion upsampled bilinearly, the oracle bound, and by this upsampler), the action accuracy on
its motion maps, the upsampler's size, plus the zero-motion reference; paired differences to bilinear
with 95 % CIs; and the example figure of the seed-0 models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torchvision.utils import flow_to_image

from motionlab.data.datamodules import VideoClipDataset
from motionlab.data.sources import build_video_source
from motionlab.eval.collect import Run, collect_runs
from motionlab.eval.figures import plt  # the Agg backend is chosen once, there
from motionlab.eval.results import markdown_table, write_results
from motionlab.eval.tables import metric_cell, paired_table
from motionlab.flow.metrics import epe_map, motion_boundary_band
from motionlab.lit.cgmu import predict_motion, video_frames
from motionlab.models.motion_decoder import MotionNet, build_motion_model
from motionlab.models.parts import load_parts
from motionlab.training import cache_dir

METHOD_ORDER = ("bilinear", "convex (RAFT)", "CGMU", "convex (RAFT), supervised ceiling", "CGMU, supervised ceiling",
                "e2e bilinear", "e2e convex (RAFT)", "e2e CGMU", "ground-truth flow")
# (header, metric key, digits); "near b." = within boundary_radius px of a ground-truth motion boundary
COLUMNS = (("EPE (px)", "motion/epe", 3), ("EPE near motion boundaries (px)", "motion/epe_boundary", 3),
           ("near b.: its low-res motion, bilinear (px)", "motion/lowres_bilinear_epe_boundary", 3),
           ("near b.: ideal low-res, bilinear = oracle bound (px)", "motion/ideal_bilinear_epe_boundary", 3),
           ("near b.: ideal low-res, this upsampler (px)", "motion/ideal_epe_boundary", 3),
           ("action accuracy (%)", "action/test_acc", 1))
# paired differences to the bilinear row, per seed: (what, metric key, digits)
PAIRED = (("EPE near motion boundaries (px)", "motion/epe_boundary", 3),
          ("its low-res motion, bilinear, near boundaries (px)", "motion/lowres_bilinear_epe_boundary", 3),
          ("action accuracy (%)", "action/test_acc", 1))
BASELINE = "bilinear"


def _methods(runs: list[Run]) -> list[str]:
    return sorted({r.method for r in runs},
                  key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER))


def results_table(runs: list[Run]) -> tuple[list[str], list[list[object]]]:
    """One row per method, mean ± sample std over seeds, plus the zero-motion reference."""
    header = ["method", *(name for name, _, _ in COLUMNS), "upsampler params", "seeds"]
    rows: list[list[object]] = []
    for method in _methods(runs):
        mine = [r.metrics for r in runs if r.method == method]
        cells = [metric_cell([m[key] for m in mine if key in m], digits) for _, key, digits in COLUMNS]
        params = {int(m["motion/upsampler_params"]) for m in mine if "motion/upsampler_params" in m}
        rows.append([method, *cells, ", ".join(map(str, sorted(params))) or "—", len(mine)])
    zero = [r.metrics for r in runs if "motion/zero_epe" in r.metrics]
    if zero:
        rows.append(["zero motion (reference)", f"{zero[0]['motion/zero_epe']:.3f}",
                     f"{zero[0]['motion/zero_epe_boundary']:.3f}", *["—"] * (len(header) - 3)])
    return header, rows


def paired_notes(runs: list[Run]) -> str:
    """Markdown: per-seed differences to the bilinear row with 95 % CIs and the smallest detectable
    effect, one table per metric. A method's gain in EPE near boundaries splits into what its
    upsampler adds (its EPE minus its own low-res motion upsampled bilinearly, in the main table) and
    what a differently trained net adds (the second table: its low-res motion against bilinear's)."""
    methods = _methods(runs)
    if BASELINE not in methods:
        return ""
    parts = []
    for what, key, digits in PAIRED:
        table = paired_table(runs, BASELINE, methods, digits=digits, key=key)
        if not table.rows:
            continue
        header = [f"{what}: method - {BASELINE}", "paired difference, 95 % CI", "smallest detectable effect"]
        rows = [[row[0], row[1], mde[1]] for row, mde in zip(table.rows, table.mde_rows, strict=True)
                if row[1] != "–"]  # methods without the metric (ground-truth flow has no EPE)
        parts.append(markdown_table(header, rows))
    return "\n".join(parts)


def _load_motion_run(run: Run) -> tuple[MotionNet, DictConfig]:
    cfg = OmegaConf.load(run.run_dir / ".hydra" / "config.yaml")
    stage_dir = Path(json.loads((run.run_dir / "stages.json").read_text())["motion"]["dir"])
    done = json.loads((stage_dir / "done.json").read_text())
    net = build_motion_model(done["kind"], done["params"])
    net.load_state_dict(load_parts(stage_dir)["motion_net"])
    return net.eval(), cfg


@torch.no_grad()
def example_figure(runs: list[Run], out: Path, candidates: int = 30) -> Path:
    """Frame, low-res motion, each upsampler's result (seed-0 models) and ground truth on the test
    video (of the first ``candidates``) with the most motion-boundary pixels, one colour scale."""
    order = [m for m in _methods(runs) if any(r.method == m and "motion/epe" in r.metrics for r in runs)]
    picked = {m: min((r for r in runs if r.method == m), key=lambda r: r.seed) for m in order}
    nets = {m: _load_motion_run(r) for m, r in picked.items()}
    cfg = next(iter(nets.values()))[1]
    p = json.loads((picked[order[-1]].run_dir / "stages.json").read_text())["motion"]["dir"]
    params = json.loads((Path(p) / "done.json").read_text())["params"]
    test = VideoClipDataset(build_video_source(cfg.data.video, "test", cache_dir(cfg)))
    scores = [float(motion_boundary_band(test[i]["flow_gt"], params["boundary_threshold"], 0).sum())
              for i in range(min(candidates, len(test)))]
    item = test[int(np.argmax(scores))]
    pair = int(motion_boundary_band(item["flow_gt"], params["boundary_threshold"], 0).flatten(1).sum(1).argmax())
    batch = {"frames": item["frames"][None], "flow_gt": item["flow_gt"][None]}
    _, images = video_frames(batch)
    gt = item["flow_gt"][pair]
    flows, lowres = {}, None
    for m, (net, _) in nets.items():
        out_m = predict_motion(net, batch)
        flows[m] = out_m.flow[0, pair]
        s = net.flow_stride  # the last (CGMU) model's low-res motion, shown as cells
        lowres = F.interpolate(out_m.flow_lowres[0, pair][None] * s, scale_factor=s, mode="nearest")[0]
    panels = [lowres, *flows.values(), gt]
    colours = flow_to_image(torch.stack(panels)).permute(0, 2, 3, 1).numpy()
    band = motion_boundary_band(gt[None], params["boundary_threshold"], params["boundary_radius"])[0]
    errors = [epe_map(f, gt).numpy() for f in flows.values()]
    vmax = max(float(e.max()) for e in errors)
    cols = len(panels) + 1
    fig, axes = plt.subplots(2, cols, figsize=(2.2 * cols, 4.6))
    titles = ["frame t", f"low-res motion ({order[-1]})", *order, "ground truth"]
    for ax, title, img in zip(axes[0], titles, [images[0, pair].permute(1, 2, 0).numpy(), *colours], strict=True):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    axes[1, 0].imshow(band.numpy(), cmap="gray", interpolation="nearest")
    axes[1, 0].set_title("boundary band", fontsize=8)
    for ax, m, err in zip(axes[1, 2:], order, errors, strict=False):
        ax.imshow(err, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(f"EPE {m}: {err.mean():.2f} / band {err[band.numpy()].mean():.2f}", fontsize=7)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(f"CGMU example: test video {item['index']}, pair {pair} -> {pair + 1}; flow colours on one scale, "
                 f"EPE maps 0-{vmax:.1f} px", fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


_COMMON_NOTES = """\
EPE against the exact ground truth of the test videos of the motion-only synthetic setting, overall and within
`boundary_radius` px of a ground-truth motion boundary (a flow jump > `boundary_threshold` px between
neighbours). Action accuracy: a small CNN on the stacked full-res motion maps (9 motion classes, chance 11.1 %);
the ground-truth-flow row is its ceiling. Gain decomposition near boundaries: "its low-res motion, bilinear"
minus "EPE near motion boundaries" is the upsampler's own gain on that net's motion; "ideal low-res, bilinear"
is the bound of a net with perfect low-res motion and bilinear upsampling, "ideal low-res, this upsampler" what
this upsampler makes of perfect low-res motion (in the probe, whose input is the ideal low-res motion, the
three coincide with the main columns). Upsampler params: the context encoder + mask head for convex (which reads
the same full-res context as CGMU, pixel-unshuffled into its cell), the context encoder + embedding head for CGMU.
Design, what the abstract fixes and what we chose: docs/cgmu.md. Figure: example.png (seed-0 models).
"""

NOTES = {
    "cgmu_upsampling": """\
Upsampling probe: every upsampler gets the same, ideal low-res motion (ground-truth cell means at 1/4) and
only the upsampler (with its context / feature branch) is trained, self-supervised with the shared unsupervised
flow loss on full-res frames; "its low-res motion, bilinear" is therefore the bilinear row for all.
""",
    "cgmu_upsampling_supervised": """\
Supervised ceiling: the same probe trained on the mean EPE to the ground truth instead of the unsupervised
loss: what each learned upsampler can do with this low-res input (not a self-supervised result).
""",
    "cgmu_cpu": """\
End to end (the paper's method at CPU scale): video ResNet-18 trunk -> low-res motion at 1/4 -> upsampler,
trained self-supervised on the unlabeled train videos; "its low-res motion, bilinear" upsamples the same
model's low-res motion bilinearly, so its difference to the EPE near boundaries is what the learned upsampler adds.
""",
}


def report(multirun_dir: Path, out_dir: Path, command: str, wall_time_s: float | None) -> Path:
    """The table into ``out_dir/results.{md,csv}`` and, where the runs have flow, ``example.png``."""
    runs = collect_runs(multirun_dir)
    header, rows = results_table(runs)
    pipelines = sorted({r.pipeline for r in runs})
    notes = paired_notes(runs) + "\n" + "".join(NOTES.get(name, "") for name in pipelines) + _COMMON_NOTES
    title = f"CGMU vs bilinear vs convex upsampling, synthetic motion-only videos ({', '.join(pipelines)})"
    path = write_results(out_dir, title, command, header, rows, notes, wall_time_s)
    if any("motion/epe" in r.metrics for r in runs):
        example_figure(runs, Path(out_dir) / "example.png")
    return path
