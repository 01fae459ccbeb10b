"""Clip-level clustering: each clip's key-frame VLADs concatenated, K-means (K=16 in the paper)
over clips, the cluster index is the clip's pseudo motion label; scored against true labels with
NMI and ARI where those exist."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torchmetrics.functional.clustering import adjusted_rand_score, normalized_mutual_info_score

from motionlab.core.errors import DataError
from motionlab.pseudolabel.kmeans import KMeansResult, kmeans


def clip_features(frame_vlads: np.ndarray) -> np.ndarray:
    """[N, P, D] per-pair VLADs -> [N, P*D], pairs in temporal order (the paper's concatenation)."""
    frame_vlads = np.asarray(frame_vlads, np.float32)
    if frame_vlads.ndim != 3:
        raise ValueError(f"expected [clips, pairs, dim] VLADs, got shape {frame_vlads.shape}")
    return frame_vlads.reshape(len(frame_vlads), -1)


def require_clips(used: int, clusters: int, source_skipped: list[dict[str, str]], skipped: list[dict[str, Any]],
                  where: str, setting: str) -> None:
    """Fail when K-means over clips cannot run, with the counts the log shows, the first files left
    out, and ``setting``, the config key to lower."""
    if used >= clusters:
        return
    reasons = ([f"{s['path']}: {s['reason']}" for s in source_skipped]
               + [f"{s['video_id']}: {s['reason']}" for s in skipped])
    listed = f"; first: {'; '.join(reasons[:3])}{' ...' if len(reasons) > 3 else ''}" if reasons else ""
    raise DataError(f"{where}: only {used} usable clips for K={clusters} clusters (skipped: {len(source_skipped)} by "
                    f"the reader, {len(skipped)} without usable flow{listed}); add videos, or set {setting} to at "
                    f"most {used}")


def cluster_clips(features: np.ndarray, k: int, seed: int, niter: int = 50, nredo: int = 10) -> KMeansResult:
    """K-means over clip features; ``nredo`` restarts because a few hundred clips in a few thousand
    dimensions give K-means many poor local minima."""
    return kmeans(features, k, seed, niter=niter, nredo=nredo)


def clustering_scores(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """NMI (arithmetic normalisation, as scikit-learn's default) and ARI of ``pred`` against
    ``true``; clips whose true label is negative (unknown) are left out."""
    true, pred = np.asarray(true, np.int64), np.asarray(pred, np.int64)
    known = true >= 0
    if known.sum() < 2:
        return {}
    t, p = torch.from_numpy(true[known]), torch.from_numpy(pred[known])
    return {"nmi": float(normalized_mutual_info_score(p, t, "arithmetic")), "ari": float(adjusted_rand_score(p, t))}
