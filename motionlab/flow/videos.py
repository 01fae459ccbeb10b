"""Flow of whole videos, ``[N, T-1, 2, H, W]`` between consecutive key frames: predicted by a
PWC-lite net or computed by a backend through the flow cache; and the EPE of
a net against the OpenCV backends and zero flow on the same pairs (UF-TSN Table 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from motionlab.data.types import VideoSource
from motionlab.flow.base import build_flow
from motionlab.flow.cache import FlowCache, cache_key
from motionlab.flow.metrics import endpoint_error, moving_mask
from motionlab.models.pwc_lite import PWCLite

FLOW_NET = "flow_net.pt"  # the PWC-lite checkpoint a flow_pretrain stage writes (save_pwclite)
GROUND_TRUTH = "ground_truth"


@torch.inference_mode()
def predict_flows(net: PWCLite, source: VideoSource, batch_size: int) -> np.ndarray:
    """Flows of ``net`` between consecutive key frames of every video of ``source``."""
    net.eval()
    out = []
    for start in range(0, len(source), batch_size):
        frames = np.stack([source[i].frames for i in range(start, min(start + batch_size, len(source)))])
        clip = torch.from_numpy(frames).permute(0, 1, 4, 2, 3).float() / 255.0
        out.append(net.flow_sequence(clip).numpy())
    return np.concatenate(out)


def precomputed_flows(name: str, source: VideoSource, cache_root: Path, video_cfg: dict[str, Any]) -> np.ndarray:
    """Flows of backend ``name`` for every video of ``source``, through the flow cache under
    ``cache_root`` (keyed by the backend's config and the video config ``video_cfg``): TV-L1 runs
    once for all seeds and experiments, and a killed run resumes at the first missing video."""
    estimator = build_flow(name)
    cache = FlowCache(cache_root, cache_key(estimator.config_hash(), video_cfg))
    out = []
    for i in range(len(source)):
        sample = source[i]
        if not cache.has(sample.video_id):
            cache.save(sample.video_id, estimator.clip(sample.frames))
        out.append(cache.load(sample.video_id))
    return np.stack(out)


def evaluate_flow_net(net: PWCLite, source: VideoSource, cache_root: Path, video_cfg: dict[str, Any],
                      batch_size: int, compare_with: list[str], moving_threshold: float
                      ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """EPE (px) over every pixel of every consecutive key-frame pair of every video, and over the
    moving pixels, of the net, of each backend in ``compare_with`` and of zero flow, on the same
    pairs; and the flows (``gt`` first)."""
    gt = np.stack([source[i].flow_gt for i in range(len(source))])
    moving = moving_mask(gt, moving_threshold)
    flows = {"ours": predict_flows(net, source, batch_size)}
    for name in compare_with:
        flows[name] = precomputed_flows(name, source, cache_root, video_cfg)
    metrics: dict[str, float] = {"eval_pairs": gt.shape[0] * gt.shape[1], "moving_fraction": float(moving.mean())}
    for name, flow in {**flows, "zero": np.zeros_like(gt)}.items():
        suffix = "" if name == "ours" else f"_{name}"
        metrics[f"epe{suffix}"] = endpoint_error(flow, gt)
        metrics[f"epe_moving{suffix}"] = endpoint_error(flow, gt, moving)
    return metrics, {"gt": gt, **flows}
