"""PWC-lite: the unsupervised flow estimator of UF-TSN (section 2.1), pure PyTorch.

A shallow feature extractor gives pyramids ``q^1..q^L`` of both frames (``q^0`` is the image).
From the top level down to ``output_level``, starting with zero flow: upsample the coarser flow,
warp ``q2`` by it, correlate ``q1`` with the warped ``q2`` in a local window, and let a per-level
decoder predict the residual: ``u^l = G^l(cat(q1^l, up(U^{l+1}), cost^l))``, ``U^l = up(U^{l+1}) +
u^l``. The flow at ``output_level`` is brought to full resolution by a swappable upsampler
(bilinear by default; ``motionlab.models.upsample`` also has convex and CGMU).

Two switches give the ablations of Table 2: ``use_cost_volume=False`` feeds the warped ``q2``
features instead of the correlation; ``multi_scale=False`` decodes once at ``output_level`` from
zero flow (no coarse-to-fine). Both off is a plain encoder-decoder on the two frames' features,
close to Hidden two-stream's MotionNet.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from motionlab.core.errors import DataError
from motionlab.core.io import atomic_path
from motionlab.models.cost_volume import CostVolume
from motionlab.models.warp import backward_warp, resize_flow

LEAKY_SLOPE = 0.1  # PWC-Net's activation


@dataclass
class PWCLiteConfig:
    """Sizes of the net; the ``net`` block of ``conf/stage/flow_pretrain*.yaml`` sets them."""

    pyramid_channels: list[int] = field(default_factory=lambda: [16, 32, 64, 96])  # q^1..q^L
    decoder_channels: list[int] = field(default_factory=lambda: [128, 128, 96, 64, 32])
    output_level: int = 2  # finest decoded level: flow at 1/2^output_level, then upsampled
    search_radius: int = 4
    normalize_features: bool = True  # cosine cost volume (ours); False: eq. 3's dot product / N
    use_cost_volume: bool = True
    multi_scale: bool = True
    upsampler: str = "bilinear"  # a name of motionlab.models.upsample.UPSAMPLERS
    upsampler_options: dict[str, Any] = field(default_factory=dict)


def conv(in_ch: int, out_ch: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, stride, 1), nn.LeakyReLU(LEAKY_SLOPE, inplace=True))


class FeaturePyramid(nn.Module):
    """Two 3x3 convs per level, the first with stride 2: ``q^l`` at ``1/2^l`` of the image."""

    def __init__(self, channels: Sequence[int], in_channels: int = 3) -> None:
        super().__init__()
        widths = [in_channels, *channels]
        self.levels = nn.ModuleList(
            nn.Sequential(conv(widths[i], widths[i + 1], stride=2), conv(widths[i + 1], widths[i + 1]))
            for i in range(len(channels))
        )

    def forward(self, image: torch.Tensor, num_levels: int | None = None) -> list[torch.Tensor]:
        """``[q^1, ..., q^num_levels]`` (all levels by default)."""
        feats, x = [], image
        for level in self.levels[: num_levels or len(self.levels)]:
            x = level(x)
            feats.append(x)
        return feats


class FlowDecoder(nn.Module):
    """``G^l``: a stack of 3x3 convs ending in a 2-channel residual flow. ``forward`` returns the
    residual and the last hidden features (which the convex upsampler reads)."""

    def __init__(self, in_channels: int, hidden: Sequence[int]) -> None:
        super().__init__()
        widths = [in_channels, *hidden]
        self.body = nn.Sequential(*(conv(widths[i], widths[i + 1]) for i in range(len(hidden))))
        self.predict = nn.Conv2d(widths[-1], 2, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.body(x)
        return self.predict(hidden), hidden


class PWCLite(nn.Module):
    """Flow from image 1 to image 2: ``forward(img1, img2)`` with images ``float [B, 3, H, W]`` in
    [0, 1] returns flows in pixels, finest first: ``[full resolution, level output_level, ..., top
    level]`` (only the first two without multi-scale). Any H, W: inputs are padded to a multiple of
    ``2^L`` and the flows cropped back."""

    def __init__(self, cfg: PWCLiteConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or PWCLiteConfig()
        num_levels = len(cfg.pyramid_channels)
        if not 1 <= cfg.output_level <= num_levels:
            raise ValueError(f"output_level {cfg.output_level} must lie in 1..{num_levels} (pyramid levels)")
        self.top_level = num_levels if cfg.multi_scale else cfg.output_level
        self.pyramid = FeaturePyramid(cfg.pyramid_channels[: self.top_level])
        self.cost_volume = CostVolume(cfg.search_radius, cfg.normalize_features)
        self.decoders = nn.ModuleDict()
        for level in self.decoded_levels:
            q_ch = cfg.pyramid_channels[level - 1]
            match_ch = self.cost_volume.out_channels if cfg.use_cost_volume else q_ch
            self.decoders[str(level)] = FlowDecoder(q_ch + 2 + match_ch, cfg.decoder_channels)
        self.upsampler = self._build_upsampler(cfg)
        self._init_weights()

    def _init_weights(self) -> None:
        """He init for the LeakyReLU convs, zero biases (as PWC-Net / ARFlow): PyTorch's default
        shrinks the features level by level, so the cost volume starts near zero everywhere and
        the decoder learns to read it only very slowly."""
        for module in [self.pyramid, *self.decoders.values()]:
            for conv in module.modules():
                if isinstance(conv, nn.Conv2d):
                    nn.init.kaiming_normal_(conv.weight, a=LEAKY_SLOPE, nonlinearity="leaky_relu")
                    nn.init.zeros_(conv.bias)
        for decoder in self.decoders.values():  # start near zero residual flow, not pixels of noise
            nn.init.normal_(decoder.predict.weight, std=1e-3)
    @property
    def decoded_levels(self) -> list[int]:
        """Levels with a decoder, coarse to fine."""
        return list(range(self.top_level, self.cfg.output_level - 1, -1))

    def _build_upsampler(self, cfg: PWCLiteConfig) -> nn.Module:
        # imported here: models/upsample.py is optional for everything but a swapped upsampler
        from motionlab.models.upsample import build_upsampler

        options = {"feature_channels": cfg.decoder_channels[-1], "context_channels": 3,
                   **cfg.upsampler_options}
        return build_upsampler(cfg.upsampler, 2**cfg.output_level, **options)

    # ---------------------------------------------------------------------------------- forward
    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Pyramid ``[q^1..q^top]`` of (padded) images; shared when a frame is in two pairs."""
        return self.pyramid(images)

    def decode(self, feats1: list[torch.Tensor], feats2: list[torch.Tensor],
               img1: torch.Tensor) -> list[torch.Tensor]:
        """Coarse-to-fine flow from pyramids of image 1 and 2 (padded sizes); see ``forward``."""
        level_flows, hidden = self.decode_levels(feats1, feats2)
        full = self.upsampler(level_flows[-1], img1, hidden)
        return [full, *reversed(level_flows)]

    def decode_levels(self, feats1: list[torch.Tensor],
                      feats2: list[torch.Tensor]) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The flow at every decoded level, coarsest first, and the finest decoder's hidden features:
        what the upsampler gets (``decode`` upsamples the last flow)."""
        level_flows: list[torch.Tensor] = []
        flow = hidden = None
        for level in self.decoded_levels:
            q1, q2 = feats1[level - 1], feats2[level - 1]
            if flow is None:
                flow = q1.new_zeros(q1.shape[0], 2, *q1.shape[-2:])
                warped = q2
            else:
                flow = resize_flow(flow, tuple(q1.shape[-2:]))
                warped = backward_warp(q2, flow)
            residual, hidden = self.decoders[str(level)](torch.cat((q1, flow, self._match(q1, warped)), 1))
            flow = flow + residual
            level_flows.append(flow)
        return level_flows, hidden

    def _match(self, q1: torch.Tensor, warped: torch.Tensor) -> torch.Tensor:
        """What the decoder sees of image 2: the cost volume, or (ablation) the warped features."""
        if not self.cfg.use_cost_volume:
            return warped
        return F.leaky_relu(self.cost_volume(q1, warped), LEAKY_SLOPE)

    def forward(self, img1: torch.Tensor, img2: torch.Tensor) -> list[torch.Tensor]:
        (img1, img2), crop = self._pad(img1, img2)
        feats = self.features(torch.cat((img1, img2), 0))
        b = img1.shape[0]
        flows = self.decode([f[:b] for f in feats], [f[b:] for f in feats], img1)
        return self._crop(flows, crop)

    def bidirectional(self, img1: torch.Tensor,
                      img2: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Forward (1->2) and backward (2->1) flows with one pyramid pass; the backward flow is the
        training-time augmentation of the paper and feeds the optional occlusion mask."""
        (img1, img2), crop = self._pad(img1, img2)
        b = img1.shape[0]
        feats = self.features(torch.cat((img1, img2), 0))
        swapped = [torch.cat((f[b:], f[:b]), 0) for f in feats]
        flows = self._crop(self.decode(feats, swapped, torch.cat((img1, img2), 0)), crop)
        return [f[:b] for f in flows], [f[b:] for f in flows]

    def flow_sequence(self, frames: torch.Tensor,
                      all_scales: bool = False) -> torch.Tensor | list[torch.Tensor]:
        """Flows between consecutive frames ``[B, T, 3, H, W]`` -> ``[B, T-1, 2, H, W]`` at full
        resolution (or, with ``all_scales``, the list of every scale as in ``forward``, pairs
        flattened into the batch: ``[B*(T-1), 2, h, w]``). Each frame's pyramid is computed once
        although the frame is in two pairs."""
        b, t = frames.shape[:2]
        level_flows, hidden, img1 = self._sequence_levels(frames)
        full = self.upsampler(level_flows[-1], img1, hidden)
        flows = self._crop([full, *reversed(level_flows)], tuple(frames.shape[-2:]))
        return flows if all_scales else flows[0].unflatten(0, (b, t - 1))

    def upsampling_inputs(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For consecutive pairs of ``[B, T, 3, H, W]`` (pairs flattened into the batch, sizes padded
        to the pyramid's multiple): the output-level flow, the finest decoder's hidden features and the
        first images, i.e. what the upsampler reads. Lets an evaluation give the upsampler other
        low-res flow (the ideal one) with the net's own context, or upsample the net's bilinearly."""
        level_flows, hidden, img1 = self._sequence_levels(frames)
        return level_flows[-1], hidden, img1

    def _sequence_levels(self, frames: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """``decode_levels`` of every consecutive pair of ``[B, T, 3, H, W]`` (padded), and the pairs'
        first images; each frame's pyramid is computed once although the frame is in two pairs."""
        b, t = frames.shape[:2]
        (padded,), _ = self._pad(frames.flatten(0, 1))
        feats = [f.unflatten(0, (b, t)) for f in self.features(padded)]
        level_flows, hidden = self.decode_levels([f[:, :-1].flatten(0, 1) for f in feats],
                                                 [f[:, 1:].flatten(0, 1) for f in feats])
        return level_flows, hidden, padded.unflatten(0, (b, t))[:, :-1].flatten(0, 1)

    # ------------------------------------------------------------------------------ padding
    def _pad(self, *images: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], tuple[int, int]]:
        h, w = images[0].shape[-2:]
        multiple = 2**self.top_level
        pad_h, pad_w = (-h) % multiple, (-w) % multiple
        if pad_h or pad_w:
            images = tuple(F.pad(im, (0, pad_w, 0, pad_h), mode="replicate") for im in images)
        return images, (h, w)

    def _crop(self, flows: list[torch.Tensor], size: tuple[int, int]) -> list[torch.Tensor]:
        """Cut the padding off every flow: level l keeps ``ceil(size / 2^l)`` pixels."""
        full_h = flows[0].shape[-2]
        out = []
        for flow in flows:
            factor = full_h // flow.shape[-2]
            out.append(flow[..., : -(-size[0] // factor), : -(-size[1] // factor)])
        return out


def build_pwclite(**kw: Any) -> PWCLite:
    """``PWCLite`` from config keys (the fields of ``PWCLiteConfig``)."""
    return PWCLite(PWCLiteConfig(**kw))


def save_pwclite(path: Path, net: PWCLite) -> Path:
    """One file with the net's config and weights, so a checkpoint alone rebuilds the net."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save({"config": dataclasses.asdict(net.cfg), "state_dict": net.state_dict()}, tmp)
    return path


def load_pwclite(path: Path | str) -> PWCLite:
    """The net saved by ``save_pwclite`` (e.g. ``flow_net.pt`` of a ``flow_pretrain`` stage), in eval mode."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"PWC-lite checkpoint {file} not found: run a flow_pretrain stage (make "
                        "reproduce-uftsn) and pass its flow_net.pt")
    try:
        blob = torch.load(file, map_location="cpu", weights_only=True)
        net = PWCLite(PWCLiteConfig(**blob["config"]))
        net.load_state_dict(blob["state_dict"])
    except (KeyError, TypeError, RuntimeError, pickle.UnpicklingError) as err:
        raise DataError(f"{file} is not a PWC-lite checkpoint written by save_pwclite ({err}); "
                        "point to the flow_net.pt of a flow_pretrain stage") from err
    return net.eval()
