"""``motionlab-synth-figure``: one picture of the synthetic benchmark — per motion program a video's
key frames and its ground-truth flow (colour wheel), then action images of each target."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torchvision.utils import flow_to_image  # noqa: E402

from motionlab.config.preflight import compose_config  # noqa: E402
from motionlab.data.synthetic import SyntheticImages, SyntheticVideos  # noqa: E402


def flow_rgb(flow: np.ndarray) -> np.ndarray:
    return flow_to_image(torch.from_numpy(np.asarray(flow, np.float32))).permute(1, 2, 0).numpy()


def make_figure(out: Path, cache_dir: Path, frames_shown: int = 4) -> Path:
    cfg = compose_config([])
    videos = SyntheticVideos(cfg.data.video, "train", cache_dir)
    targets = [SyntheticImages(compose_config([f"data/image={name}"]).data.image, "train", cache_dir)
               for name in ("synthetic_voc", "synthetic_s40")]
    motions = videos.class_names
    cols = 2 * frames_shown
    fig, axes = plt.subplots(len(motions) + 2, cols, figsize=(1.6 * cols, 1.7 * (len(motions) + 2)))
    for row, motion in enumerate(motions):
        sample = videos[motions.index(motion)]
        for j in range(frames_shown):
            axes[row, j].imshow(sample.frames[j])
            axes[row, frames_shown + j].imshow(flow_rgb(sample.flow_gt[j]))
        axes[row, 0].set_ylabel(motion, fontsize=8)
    axes[0, 0].set_title("key frames", fontsize=8, loc="left")
    axes[0, frames_shown].set_title("ground-truth flow", fontsize=8, loc="left")
    for k, images in enumerate(targets):
        row = len(motions) + k
        step = max(1, len(images.class_names) // cols)
        for j in range(cols):
            c = (j * step) % len(images.class_names)
            idx = int(np.flatnonzero(images.labels() == c)[0])
            axes[row, j].imshow(images[idx].image)
            axes[row, j].set_title(images.class_names[c], fontsize=6)
        axes[row, 0].set_ylabel(("synthetic_voc", "synthetic_s40")[k], fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("motionlab synthetic benchmark: videos (family a) with exact flow; action images (voc, s40)",
                 fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="motionlab-synth-figure", description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("docs/synthetic.png"))
    ap.add_argument("--cache-dir", type=Path, default=Path("outputs/store/cache"))
    args = ap.parse_args(argv)
    print(f"wrote {make_figure(args.out, args.cache_dir)}")


if __name__ == "__main__":
    main()
