"""Figures people would rather look at than read."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from motionlab.eval.collect import Run, by_seed  # noqa: E402
from motionlab.eval.stats import summarize  # noqa: E402


def plot_columns(runs: list[Run], methods: list[str], out: Path, xlabel: str,
                 ylabel: str = "test accuracy (%)") -> Path:
    """Mean ± sample std over seeds per method against the numeric swept value (Zhang et al.
    Figure 4); a point of one seed has no error bar."""
    values = by_seed(runs)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for m in methods:
        by_x = {float(s.split("=", 1)[1]): seeds for (method, s), seeds in values.items() if method == m}
        xs = sorted(by_x)
        summaries = [summarize(by_x[x].values()) for x in xs]
        ax.errorbar(xs, [s.mean for s in summaries], yerr=[s.std or 0.0 for s in summaries], marker="o", capsize=3,
                    label=m)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def retrieval_grid(images: list[np.ndarray], image_titles: list[str], clips: list[np.ndarray],
                   clip_titles: list[str], out: Path, frames_shown: int = 4) -> Path:
    """Zhang et al. Figure 3: each test image beside the unlabeled clip whose first-frame motion
    representation is nearest to the image's."""
    rows = len(images)
    fig, axes = plt.subplots(rows, 1 + frames_shown, figsize=(1.5 * (1 + frames_shown), 1.6 * rows), squeeze=False)
    for r in range(rows):
        axes[r, 0].imshow(images[r])
        axes[r, 0].set_title(image_titles[r], fontsize=6)
        step = max(1, (len(clips[r]) - 1) // max(frames_shown - 1, 1))
        for j in range(frames_shown):
            axes[r, 1 + j].imshow(clips[r][min(j * step, len(clips[r]) - 1)])
        axes[r, 1].set_title(clip_titles[r], fontsize=6, loc="left")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("test image | nearest unlabeled clip by first-frame motion representation", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def stage_curves(runs: list[Run], curve_file: str = "val_curve.jsonl") -> dict[tuple[str, str, str], list[dict]]:
    """(method, setting, stage) -> the validation curves its seeds' stage artifacts hold (one list of
    {step: value} per seed); a resumed stage repeats steps, the last row of a step wins."""
    import json

    out: dict[tuple[str, str, str], list[dict]] = {}
    for r in runs:
        for stage in sorted((r.run_dir / "stages").iterdir()) if r.run_dir else []:
            path = stage.resolve() / curve_file
            if path.is_file():
                rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
                out.setdefault((r.method, r.setting, stage.name), []).append(
                    {int(row["step"]): float(row["val_acc"]) for row in rows})
    return out


def plot_stage_curves(runs: list[Run], methods: list[str], out: Path) -> Path:
    """Validation accuracy against training step, one panel per (method, stage), one line per setting
    (mean over seeds): whether each stage has reached its plateau by its last step."""
    curves = stage_curves(runs)
    panels = [(m, st) for m in methods for st in dict.fromkeys(s for (mm, _, s) in curves if mm == m)]
    if not panels:
        raise FileNotFoundError("no stage of these runs recorded a validation curve (val_every: 0?)")
    cols = min(4, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, (method, stage) in zip(axes.flat, panels, strict=False):
        for (m, setting, st), seeds in sorted(curves.items()):
            if (m, st) != (method, stage):
                continue
            steps = sorted(set.intersection(*(set(c) for c in seeds)))
            ax.plot(steps, [np.mean([c[s] for c in seeds]) for s in steps], marker=".", label=setting)
        ax.legend(fontsize=6)
        ax.set_title(f"{method}: {stage}", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("val acc (%)", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
