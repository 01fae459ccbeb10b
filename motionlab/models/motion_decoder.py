"""The coarse-to-fine motion network of "Self-supervised Motion Representation via Scattering Local
Motion Cues" (Shen et al., ECCV 2020), as far as its abstract fixes it, plus our choices
(docs/cgmu.md says which is which):

    clip [B,3,T,H,W] -> video ResNet-18 trunk (torchvision (2+1)D or 3D blocks, random init,
    temporal stride removed so every frame keeps its features) -> U-Net decoder up to the flow
    stride -> a temporal-pair head (kernel 2 in time, no temporal padding: T frames give the T-1
    flows between consecutive frames) -> low-res motion maps [B,T-1,2,h,w]
    -> upsampler (bilinear | convex | cgmu, see motionlab.models.upsample) -> [B,T-1,2,H,W].

The full-resolution context comes from a small per-frame 2D CNN (``ContextEncoder``) on the
reference frame of each pair (frame t for the flow t -> t+1). CGMU and convex both read it; convex
also reads the pair head's hidden features (RAFT's mask input).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D, Conv3DSimple

from motionlab.models.cost_volume import CostVolume, displacements
from motionlab.models.upsample import build_upsampler

ARCHS = ("r2plus1d_18", "r3d_18")
TORCHVISION_WIDTHS = (64, 128, 256, 512)


def _stem(arch: str, width: int) -> nn.Sequential:
    """torchvision's ``R2Plus1dStem`` / ``BasicStem`` with the output width as a parameter (45 mid
    channels at width 64, as there)."""
    if arch == "r2plus1d_18":
        mid = max(1, 45 * width // 64)
        return nn.Sequential(
            nn.Conv3d(3, mid, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
            nn.Conv3d(mid, width, (3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(width), nn.ReLU(inplace=True),
        )
    return nn.Sequential(
        nn.Conv3d(3, width, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
        nn.BatchNorm3d(width), nn.ReLU(inplace=True),
    )


def _stage(conv: type, inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    """torchvision ``VideoResNet._make_layer`` with explicit widths."""
    downsample = None
    if stride != 1 or inplanes != planes:
        downsample = nn.Sequential(
            nn.Conv3d(inplanes, planes, 1, stride=conv.get_downsample_stride(stride), bias=False),
            nn.BatchNorm3d(planes),
        )
    layers = [BasicBlock(inplanes, planes, conv, stride, downsample)]
    layers += [BasicBlock(planes, planes, conv) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def _keep_time(module: nn.Module) -> None:
    """Set every temporal stride to 1: torchvision halves time in stages 2-4, which would merge the
    frame pairs whose flow we decode."""
    for m in module.modules():
        if isinstance(m, nn.Conv3d) and m.stride[0] != 1:
            m.stride = (1, *m.stride[1:])


class VideoEncoder(nn.Module):
    """A video ResNet-18 trunk (torchvision's blocks, random init). ``widths`` gives one stage per
    entry (torchvision: 64, 128, 256, 512 with 2 blocks each); spatial strides are torchvision's
    (stem 2, then 1, 2, 2, 2), time is never strided. Returns every stage's features."""

    def __init__(self, arch: str = "r2plus1d_18", widths: Sequence[int] = TORCHVISION_WIDTHS,
                 blocks_per_stage: int = 2) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown video encoder arch {arch!r}; valid: {list(ARCHS)}")
        if not 1 <= len(widths) <= 4:
            raise ValueError(f"encoder widths must list 1 to 4 stages, got {list(widths)}")
        conv = Conv2Plus1D if arch == "r2plus1d_18" else Conv3DSimple
        self.stem = _stem(arch, widths[0])
        stages, inplanes = [], widths[0]
        for i, planes in enumerate(widths):
            stages.append(_stage(conv, inplanes, planes, blocks_per_stage, stride=1 if i == 0 else 2))
            inplanes = planes
        self.stages = nn.ModuleList(stages)
        self.widths = list(widths)
        self.strides = [2 * 2**i for i in range(len(widths))]
        _keep_time(self)

    def forward(self, clip: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(clip)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


def _conv3d(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1), nn.ReLU(inplace=True))


class LowResMotionDecoder(nn.Module):
    """U-Net decoder from the deepest stage up to ``flow_stride``, then the temporal-pair head. Returns
    flows ``[B,2,T-1,h,w]`` (pixels of the low resolution) and the head's hidden features.

    ``correlation_radius`` > 0 (our addition; 0 is the abstract's plain decoder) adds an explicit
    matching cue: the local correlation (the shared cost-volume module) between the encoder
    features of frames t and t+1 at ``correlation_stride``, its soft-argmax displacement as the
    initial flow, and the correlation itself as input to the head, which predicts the residual.
    Without it the network needs far more steps than a CPU budget gives to find motion at all."""

    def __init__(self, widths: Sequence[int], strides: Sequence[int], flow_stride: int, width: int,
                 correlation_radius: int = 0, correlation_stride: int = 2) -> None:
        super().__init__()
        strides = list(strides)
        if flow_stride not in strides:
            raise ValueError(f"flow_stride {flow_stride} must be one of the encoder strides {strides}")
        self.start, self.stop = len(strides) - 1, strides.index(flow_stride)
        self.entry = _conv3d(widths[-1], width)
        self.fuse = nn.ModuleList(_conv3d(width + widths[i], width) for i in self._skips())
        self.pair = nn.Sequential(nn.Conv3d(width, width, (2, 3, 3), padding=(0, 1, 1)), nn.ReLU(inplace=True))
        extra = 0
        self.correlation = None
        if correlation_radius > 0:
            if correlation_stride not in strides or correlation_stride > flow_stride:
                raise ValueError(f"correlation_stride {correlation_stride} must be an encoder stride in {strides} "
                                 f"no larger than flow_stride {flow_stride}")
            self.correlation = CostVolume(correlation_radius)
            self.corr_level = strides.index(correlation_stride)
            self.corr_pool = flow_stride // correlation_stride
            offsets = torch.tensor(displacements(correlation_radius), dtype=torch.float32).flip(1)  # (dx, dy)
            self.register_buffer("offsets", offsets, persistent=False)
            self.log_beta = nn.Parameter(torch.tensor(math.log(10.0)))  # softmax sharpness of the soft-argmax
            extra = self.correlation.out_channels + 2
        self.refine = nn.Sequential(nn.Conv3d(width + extra, width, (1, 3, 3), padding=(0, 1, 1)),
                                    nn.ReLU(inplace=True))
        self.flow = nn.Conv3d(width, 2, (1, 3, 3), padding=(0, 1, 1))
        self.feature_channels = width

    def _skips(self) -> range:
        return range(self.start - 1, self.stop - 1, -1)

    def _match(self, feat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder features ``[B,C,T,H',W']`` -> (correlation, soft-argmax flow in flow-stride pixels),
        both pooled to the flow stride, ``[B,K,T-1,h,w]`` and ``[B,2,T-1,h,w]``."""
        b, c, t, h, w = feat.shape
        first = feat[:, :, :-1].transpose(1, 2).reshape(b * (t - 1), c, h, w)
        second = feat[:, :, 1:].transpose(1, 2).reshape(b * (t - 1), c, h, w)
        cost = self.correlation(first, second)
        prob = (self.log_beta.exp() * cost).softmax(1)
        flow = torch.einsum("bkhw,kc->bchw", prob, self.offsets)
        if self.corr_pool > 1:
            cost = F.avg_pool2d(cost, self.corr_pool)
            flow = F.avg_pool2d(flow, self.corr_pool) / self.corr_pool

        def to_clip(x: torch.Tensor) -> torch.Tensor:
            return x.view(b, t - 1, *x.shape[1:]).transpose(1, 2)

        return to_clip(cost), to_clip(flow)

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.entry(feats[self.start])
        for fuse, i in zip(self.fuse, self._skips(), strict=True):
            skip = feats[i]
            x = F.interpolate(x, size=skip.shape[-3:], mode="trilinear", align_corners=False)
            x = fuse(torch.cat([x, skip], 1))
        hidden = self.pair(x)
        if self.correlation is None:
            hidden = self.refine(hidden)
            return self.flow(hidden), hidden
        cost, initial = self._match(feats[self.corr_level])
        hidden = self.refine(torch.cat([hidden, cost, initial], 1))
        return initial + self.flow(hidden), hidden


class ContextEncoder(nn.Module):
    """Full-resolution features of one frame for CGMU and convex: a few 3x3 convs, one of them dilated, so each
    pixel sees a small neighbourhood of the object it lies on (no striding: context stays sharp)."""

    def __init__(self, channels: int = 16, depth: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for i in range(depth):
            dilation = 2 if i == depth - 1 and depth > 1 else 1
            layers += [nn.Conv2d(cin, channels, 3, padding=dilation, dilation=dilation),
                       nn.ReLU(inplace=True)]
            cin = channels
        self.net = nn.Sequential(*layers)
        self.channels = channels

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)


class UpsamplingHead(nn.Module):
    """An upsampler (``motionlab.models.upsample``) with the branch it needs: the full-resolution
    context of the reference frame (CGMU and convex read it). ``features`` (low-res decoder features,
    which convex also reads where a decoder exists) come from outside."""

    def __init__(self, upsampler: str, scale: int, feature_channels: int, context_channels: int = 16,
                 context_depth: int = 3, upsampler_options: dict | None = None) -> None:
        super().__init__()
        self.upsample = build_upsampler(upsampler, scale, feature_channels=feature_channels,
                                        context_channels=context_channels, **(upsampler_options or {}))
        self.context = ContextEncoder(context_channels, context_depth) if self.upsample.needs_context else None

    def forward(self, flow_lowres: torch.Tensor, frame: torch.Tensor, features: torch.Tensor | None) -> torch.Tensor:
        context = self.context(frame) if self.context is not None else None
        return self.upsample(flow_lowres, context, features)


class MotionUpsamplingNet(nn.Module):
    """The upsampling probe: an UpsamplingHead applied to *given* low-res motion, so upsamplers are
    compared on the same low-res input. There is no decoder, so every learned upsampler reads the same
    thing: the full-resolution context of the reference frame."""

    def __init__(self, upsampler: str, scale: int, context_channels: int = 16, context_depth: int = 3,
                 upsampler_options: dict | None = None) -> None:
        super().__init__()
        self.head = UpsamplingHead(upsampler, scale, 0, context_channels, context_depth, upsampler_options)
        self.flow_stride = scale

    def forward(self, frame: torch.Tensor, flow_lowres: torch.Tensor) -> torch.Tensor:
        """``frame``: normalised reference frames ``[N,3,H,W]``; ``flow_lowres`` ``[N,2,H/s,W/s]``."""
        return self.head(flow_lowres, frame, None)


def _per_pair(x: torch.Tensor) -> torch.Tensor:
    """``[B, C, T-1, h, w]`` -> ``[B*(T-1), C, h, w]``: pairs become batch items (2D upsamplers)."""
    return x.transpose(1, 2).flatten(0, 1)


@dataclass
class MotionOutput:
    """Motion maps of a clip: ``flow`` [B,T-1,2,H,W] at full resolution and ``flow_lowres``
    [B,T-1,2,h,w], both in pixels of their own resolution, for the pairs (t, t+1); ``features``: the
    decoder's low-res features per pair [B*(T-1),C,h,w] that the upsampler read (None in the probe),
    so the same upsampler can be applied to other low-res motion (the gain decomposition)."""

    flow: torch.Tensor
    flow_lowres: torch.Tensor
    features: torch.Tensor | None = None


class MotionNet(nn.Module):
    """Clip -> low-res motion maps -> upsampled motion maps (see the module docstring)."""

    def __init__(self, arch: str = "r2plus1d_18", widths: Sequence[int] = TORCHVISION_WIDTHS,
                 blocks_per_stage: int = 2, flow_stride: int = 4, decoder_width: int = 64,
                 upsampler: str = "cgmu", context_channels: int = 16, context_depth: int = 3,
                 upsampler_options: dict | None = None, correlation_radius: int = 0,
                 correlation_stride: int = 2) -> None:
        super().__init__()
        self.encoder = VideoEncoder(arch, widths, blocks_per_stage)
        self.decoder = LowResMotionDecoder(widths, self.encoder.strides, flow_stride, decoder_width,
                                           correlation_radius, correlation_stride)
        self.head = UpsamplingHead(upsampler, flow_stride, decoder_width, context_channels, context_depth,
                                   upsampler_options)
        self.flow_stride = flow_stride

    def forward(self, clip: torch.Tensor) -> MotionOutput:
        """``clip``: normalised frames ``[B,T,3,H,W]``, H and W multiples of the encoder's deepest
        stride."""
        b, t, _, h, w = clip.shape
        deepest = self.encoder.strides[-1]
        if h % deepest or w % deepest:
            raise ValueError(f"frames are {h}x{w}; this encoder needs multiples of {deepest} "
                             "(set data.video.size)")
        flow_lr, hidden = self.decoder(self.encoder(clip.transpose(1, 2)))
        flow_lr, hidden = _per_pair(flow_lr), _per_pair(hidden)
        flow = self.head(flow_lr, clip[:, :-1].flatten(0, 1), hidden)
        return MotionOutput(flow.view(b, t - 1, 2, h, w), flow_lr.view(b, t - 1, *flow_lr.shape[1:]), hidden)


class MotionMapEncoder(nn.Module):
    """A small 2D CNN over stacked motion maps ``[B, 2(T-1), H, W]`` (a TSN-style motion stream at
    CPU scale) giving a ``feature_dim`` vector for a classifier head."""

    def __init__(self, in_channels: int, width: int = 32, feature_dim: int = 128) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = in_channels
        for i, cout in enumerate((width, 2 * width, 4 * width)):  # the first conv strides: motion maps are smooth
            layers += [nn.Conv2d(cin, cout, 3, stride=2 if i == 0 else 1, padding=1), nn.BatchNorm2d(cout),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                                      nn.Linear(4 * cin, feature_dim), nn.ReLU(inplace=True))
        self.feature_dim = feature_dim

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return self.features(maps)


def _upsampler_options(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"kernel_size": p["cgmu_kernel"], "embed_dim": p["cgmu_embed_dim"],
            "embed_hidden": p["cgmu_embed_hidden"], "sigma": p["cgmu_sigma"], "mask_hidden": p["convex_mask_hidden"]}


def build_motion_model(kind: str, p: Mapping[str, Any]) -> MotionNet | MotionUpsamplingNet:
    """The model of a ``cgmu_motion`` or ``cgmu_upsample`` stage from its params (also a done.json's)."""
    if kind == "cgmu_motion":
        return MotionNet(p["arch"], list(p["widths"]), p["blocks_per_stage"], p["flow_stride"], p["decoder_width"],
                         p["upsampler"], p["context_channels"], p["context_depth"], _upsampler_options(p),
                         p["correlation_radius"], p["correlation_stride"])
    if kind in ("cgmu_upsample", "cgmu_upsample_supervised"):
        return MotionUpsamplingNet(p["upsampler"], p["flow_stride"], p["context_channels"], p["context_depth"],
                                   _upsampler_options(p))
    raise ValueError(f"no CGMU motion model for stage kind {kind!r}; valid: cgmu_motion, cgmu_upsample, "
                     "cgmu_upsample_supervised")
