"""The motion network's shapes and its torchvision lineage; the boundary-band metric by hand."""

from __future__ import annotations

import pytest
import torch
from torchvision.models.video import r2plus1d_18, r3d_18

from motionlab.flow.metrics import FlowErrors, motion_boundary_band
from motionlab.models.motion_decoder import MotionNet, MotionUpsamplingNet, VideoEncoder
from motionlab.models.upsample import area_downsample_flow


@pytest.mark.parametrize(("arch", "builder"), [("r2plus1d_18", r2plus1d_18), ("r3d_18", r3d_18)])
def test_full_width_encoder_is_torchvisions_resnet18_without_temporal_stride(arch, builder) -> None:
    reference = builder(weights=None)
    ref_shapes = [tuple(p.shape) for n, p in reference.named_parameters() if not n.startswith("fc.")]
    ours = VideoEncoder(arch)
    assert [tuple(p.shape) for p in ours.parameters()] == ref_shapes
    feats = ours(torch.zeros(1, 3, 2, 16, 16))
    assert [f.shape[2] for f in feats] == [2, 2, 2, 2]  # time kept at every stage
    assert [f.shape[-1] for f in feats] == [8, 4, 2, 1]  # torchvision's spatial strides 2, 4, 8, 16


@pytest.mark.parametrize("upsampler", ["bilinear", "convex", "cgmu"])
def test_motion_net_gives_one_flow_per_consecutive_pair(upsampler: str) -> None:
    net = MotionNet(widths=[8, 16, 16], blocks_per_stage=1, flow_stride=4, decoder_width=8, upsampler=upsampler,
                    context_channels=4, correlation_radius=1)
    out = net(torch.randn(2, 4, 3, 32, 32))
    assert out.flow.shape == (2, 3, 2, 32, 32)
    assert out.flow_lowres.shape == (2, 3, 2, 8, 8)
    out.flow.sum().backward()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.randn(1, 3, 3, 36, 36))


def test_motion_boundary_band_by_hand() -> None:
    gt = torch.zeros(1, 2, 6, 8)
    gt[0, 0, :, 4:] = 3.0  # a vertical motion boundary between columns 3 and 4
    gt[0, 1, 5, :] = 0.5  # a jump below the threshold: not a boundary
    edge = motion_boundary_band(gt, threshold=1.0, radius=0)
    expected = torch.zeros(1, 6, 8, dtype=torch.bool)
    expected[0, :, 3:5] = True
    assert torch.equal(edge, expected)
    band = motion_boundary_band(gt, threshold=1.0, radius=1)
    expected[0, :, 2:6] = True
    assert torch.equal(band, expected)


def test_flow_errors_average_over_pixels() -> None:
    gt = torch.zeros(1, 2, 2, 2)
    flow = torch.zeros(1, 2, 2, 2)
    flow[0, 0, 0, 0], flow[0, 1, 1, 1] = 3.0, 4.0  # EPE 3 and 4 at two pixels
    band = torch.tensor([[[True, False], [False, False]]])
    errors = FlowErrors()
    errors.add(flow, gt, band)
    assert errors.means("x_") == {"x_epe": pytest.approx(7 / 4), "x_epe_boundary": pytest.approx(3.0)}


@pytest.mark.parametrize("upsampler", ["bilinear", "convex", "cgmu"])
def test_upsampling_probe_returns_a_constant_motion_exactly(upsampler: str) -> None:
    """The probe's input is the ideal low-res motion (cell means); a constant field survives both ways."""
    gt = torch.empty(3, 2, 16, 24)
    gt[:, 0], gt[:, 1] = 1.25, -2.0
    lowres = area_downsample_flow(gt, 4)
    assert lowres.shape == (3, 2, 4, 6)
    assert torch.allclose(lowres[:, 0], torch.full((3, 4, 6), 1.25 / 4))
    probe = MotionUpsamplingNet(upsampler, 4, context_channels=4)
    assert torch.allclose(probe(torch.randn(3, 3, 16, 24), lowres), gt, atol=1e-5)
