"""``make reproduce-cues``: how much of a motion one still frame shows, and how much of that
survives the domain shift — the measured cue table of the synthetic benchmark (docs/benchmark.md).

A linear probe (HOG of the grey frame -> multinomial logistic regression) is trained on the first
key frame of every training video with its true motion program, then tested on the first frames
of the held-out videos (in-domain, every motion) and on the target's test images, whose motion is
known from their class (kind × motion); on images the probe chooses among the target's motions
only, so chance is 1 / (motions of the target). One accuracy per motion and per family pair.

    python -m motionlab.eval.cue_table --out experiments/benchmark-cues
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from motionlab.config.preflight import compose_config
from motionlab.data.synthetic import SyntheticImages, SyntheticVideos
from motionlab.eval.results import write_results

VIDEO_FAMILIES = ("synthetic_a", "synthetic_b")
TARGETS = ("synthetic_voc", "synthetic_s40")


def hog_features(images: np.ndarray) -> np.ndarray:
    """HOG (8 px cells, 2x2-cell blocks, 9 orientations) of each grey image [N, H, W, 3] -> [N, D]."""
    size = images.shape[1] // 8 * 8
    hog = cv2.HOGDescriptor((size, size), (16, 16), (8, 8), (8, 8), 9)
    grey = [cv2.cvtColor(np.ascontiguousarray(im[:size, :size]), cv2.COLOR_RGB2GRAY) for im in images]
    return np.stack([hog.compute(g).ravel() for g in grey]).astype(np.float32)


@dataclass
class Probe:
    """Standardised features -> logistic regression (full-batch L-BFGS, L2 penalty)."""

    mean: np.ndarray
    std: np.ndarray
    weight: torch.Tensor
    bias: torch.Tensor

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, classes: int, l2: float = 1e-2, seed: int = 0) -> Probe:
        mean, std = x.mean(0), x.std(0) + 1e-6
        xt, yt = torch.from_numpy((x - mean) / std), torch.from_numpy(y.astype(np.int64))
        torch.manual_seed(seed)
        weight = torch.zeros(x.shape[1], classes, requires_grad=True)
        bias = torch.zeros(classes, requires_grad=True)
        opt = torch.optim.LBFGS([weight, bias], max_iter=200, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(xt @ weight + bias, yt) + l2 * weight.pow(2).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return cls(mean, std, weight.detach(), bias.detach())

    def scores(self, x: np.ndarray) -> np.ndarray:
        return (torch.from_numpy((x - self.mean) / self.std) @ self.weight + self.bias).numpy()


def per_class_accuracy(pred: np.ndarray, true: np.ndarray, names: list[str]) -> dict[str, float]:
    """Accuracy (%) over all samples (``all``) and per class name."""
    out = {"all": 100.0 * float((pred == true).mean())}
    out.update({n: 100.0 * float((pred[true == i] == i).mean()) for i, n in enumerate(names) if (true == i).any()})
    return out


def first_frames(videos: SyntheticVideos) -> np.ndarray:
    return np.ascontiguousarray(videos.frames[:, 0])


def cue_rows(cache: Path, overrides: list[str]) -> list[dict[str, object]]:
    """One row per (video family, test set, motion): the probe's accuracy, the count and chance."""
    rows: list[dict[str, object]] = []
    for family in VIDEO_FAMILIES:
        cfg = compose_config([f"data/video={family}", *overrides])
        train, test = (SyntheticVideos(cfg.data.video, split, cache) for split in ("train", "test"))
        motions = train.class_names
        probe = Probe.fit(hog_features(first_frames(train)), train.labels(), len(motions))
        pred = probe.scores(hog_features(first_frames(test))).argmax(1)
        counts = np.bincount(test.labels(), minlength=len(motions))
        for name, acc in per_class_accuracy(pred, test.labels(), motions).items():
            n = int(counts.sum() if name == "all" else counts[motions.index(name)])
            rows.append({"videos": family, "test": "held-out videos", "motion": name, "accuracy": acc, "n": n,
                         "chance": 100.0 / len(motions)})
        for target in TARGETS:
            images = SyntheticImages(compose_config([f"data/image={target}", *overrides]).data.image, "test", cache)
            columns = [motions.index(m) for m in images.motions]  # the probe picks among the target's motions
            pred = np.asarray(columns)[probe.scores(hog_features(images.images))[:, columns].argmax(1)]
            true = np.array([motions.index(images.motion_of(int(c))) for c in images.labels()])
            counts = np.bincount(true, minlength=len(motions))
            for name, acc in per_class_accuracy(pred, true, motions).items():
                n = int(counts.sum() if name == "all" else counts[motions.index(name)])
                rows.append({"videos": family, "test": target, "motion": name, "accuracy": acc, "n": n,
                             "chance": 100.0 / len(columns)})
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m motionlab.eval.cue_table", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("experiments/benchmark-cues"))
    ap.add_argument("--cache-dir", type=Path, default=Path("outputs/store/cache"))
    ap.add_argument("--override", action="append", default=[], help="extra Hydra override (repeatable)")
    ap.add_argument("--command", default="make reproduce-cues")
    args = ap.parse_args(argv)
    start = time.time()
    rows = cue_rows(args.cache_dir, args.override)
    header = ["videos", "test set", "motion", "probe accuracy (%)", "n", "chance (%)"]
    table = [[r["videos"], r["test"], r["motion"], f"{r['accuracy']:.1f}", r["n"], f"{r['chance']:.1f}"]
             for r in rows]
    notes = ("Probe: HOG (8 px cells, 9 orientations) of the grey frame, standardised, multinomial logistic "
             "regression (L-BFGS, L2 1e-2), trained on the first key frame of every training video of the family "
             "with its true motion (9 motions), n = 1 fit (deterministic). `all`: accuracy over every test sample "
             "of that set. Held-out videos: the first frames of the family's test split (9-way). Target images: "
             "the target's test split, scored over the target's motions only (4 or 5 of the 9), so chance is "
             "1/4 or 1/5; the video family's look differs from the target's (the domain shift). The standard "
             "error of one `all` accuracy p on n images is sqrt(p(1-p)/n). What each cue is: docs/benchmark.md.")
    csv_rows = [[r["videos"], r["test"], r["motion"], f"{r['accuracy']:.2f}", r["n"], f"{r['chance']:.2f}"]
                for r in rows]
    write_results(args.out, "Cue table: motion from one frame, in-domain and across the domain shift",
                  args.command, header, table, notes, time.time() - start, csv_rows=csv_rows)
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
