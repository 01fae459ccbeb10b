"""Flow of whole videos, ``[N, T-1, 2, H, W]`` between consecutive key frames: predicted by a
PWC-lite net (with its gain decomposition) or computed by a backend through the flow cache; and the EPE of
a net against the OpenCV backends and zero flow on the same pairs (UF-TSN Table 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from motionlab.data.types import VideoSource
from motionlab.flow.base import build_flow
from motionlab.flow.cache import FlowCache, cache_key
from motionlab.flow.metrics import endpoint_error, moving_mask
from motionlab.models.pwc_lite import PWCLite
from motionlab.models.upsample import area_downsample_flow, build_upsampler

FLOW_NET = "flow_net.pt"  # the PWC-lite checkpoint a flow_pretrain stage writes (save_pwclite)
GROUND_TRUTH = "ground_truth"


# upsampling_decomposition's flows: the net's own and the three that split its error
DECOMPOSITION = ("ours", "lowres_bilinear", "ideal_bilinear", "ideal")


@torch.inference_mode()
def upsampling_decomposition(net: PWCLite, source: VideoSource, batch_size: int) -> dict[str, np.ndarray]:
    """The net's full-res flow (``ours``, as ``flow_sequence`` gives it, from the same single pass)
    and the full-res flows that split its error into its upsampler's share and its low-res flow's:
    its own output-level flow upsampled bilinearly (``lowres_bilinear``: minus the net's EPE, the
    upsampler's own gain; equal to the net's for a bilinear net), the ideal low-res flow (cell means
    of the ground truth) upsampled bilinearly (``ideal_bilinear``: the oracle bound of a perfect
    low-res flow) and by the net's upsampler with the net's own context (``ideal``)."""
    net.eval()
    scale = 2**net.cfg.output_level
    bilinear = build_upsampler("bilinear", scale)
    out: dict[str, list[np.ndarray]] = {name: [] for name in DECOMPOSITION}
    for start in range(0, len(source), batch_size):
        items = [source[i] for i in range(start, min(start + batch_size, len(source)))]
        clip = torch.from_numpy(np.stack([s.frames for s in items])).permute(0, 1, 4, 2, 3).float() / 255.0
        b, t, _, h, w = clip.shape
        low, hidden, img1 = net.upsampling_inputs(clip)
        gt = torch.from_numpy(np.stack([s.flow_gt for s in items])).float().flatten(0, 1)
        pad = (0, img1.shape[-1] - w, 0, img1.shape[-2] - h)
        ideal = area_downsample_flow(F.pad(gt, pad, mode="replicate"), scale)
        flows = {"ours": net.upsampler(low, img1, hidden), "lowres_bilinear": bilinear(low),
                 "ideal_bilinear": bilinear(ideal), "ideal": net.upsampler(ideal, img1, hidden)}
        for name, flow in flows.items():
            out[name].append(flow[..., :h, :w].unflatten(0, (b, t - 1)).numpy())
    return {name: np.concatenate(parts) for name, parts in out.items()}


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
    moving pixels, of the net, of its gain decomposition (``upsampling_decomposition``), of each
    backend in ``compare_with`` and of zero flow, on the same pairs; and the flows of the net and
    the backends (``gt`` first)."""
    gt = np.stack([source[i].flow_gt for i in range(len(source))])
    moving = moving_mask(gt, moving_threshold)
    decomposition = upsampling_decomposition(net, source, batch_size)
    flows = {"ours": decomposition.pop("ours")}
    for name in compare_with:
        flows[name] = precomputed_flows(name, source, cache_root, video_cfg)
    metrics: dict[str, float] = {"eval_pairs": gt.shape[0] * gt.shape[1], "moving_fraction": float(moving.mean())}
    measured = {**flows, **decomposition, "zero": np.zeros_like(gt)}
    for name, flow in measured.items():
        suffix = "" if name == "ours" else f"_{name}"
        metrics[f"epe{suffix}"] = endpoint_error(flow, gt)
        metrics[f"epe_moving{suffix}"] = endpoint_error(flow, gt, moving)
    return metrics, {"gt": gt, **flows}
