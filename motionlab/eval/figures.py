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
