"""The three flow upsamplers against hand-computed and brute-force references."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from motionlab.models.upsample import (
    ContextGuidedUpsampler,
    ConvexUpsampler,
    build_upsampler,
    neighbourhood_upsample,
    weights_to_full_res,
)

torch.manual_seed(0)


def _make(name: str, scale: int, **kw):
    return build_upsampler(name, scale, feature_channels=6, context_channels=5, **kw)


def _inputs(scale: int, h: int = 5, w: int = 4, b: int = 2):
    g = torch.Generator().manual_seed(1)
    flow = torch.randn(b, 2, h, w, generator=g)
    context = torch.randn(b, 5, h * scale, w * scale, generator=g)
    features = torch.randn(b, 6, h, w, generator=g)
    return flow, context, features


@pytest.mark.parametrize("name", ["bilinear", "convex", "cgmu"])
@pytest.mark.parametrize("scale", [2, 4])
def test_constant_flow_is_upsampled_exactly_times_scale(name: str, scale: int) -> None:
    _, context, features = _inputs(scale)
    flow = torch.empty(2, 2, 5, 4)
    flow[:, 0], flow[:, 1] = 1.7, -0.3
    out = _make(name, scale)(flow, context, features)
    assert out.shape == (2, 2, 5 * scale, 4 * scale)
    assert torch.allclose(out[:, 0], torch.full_like(out[:, 0], 1.7 * scale), atol=1e-5)
    assert torch.allclose(out[:, 1], torch.full_like(out[:, 1], -0.3 * scale), atol=1e-5)


@pytest.mark.parametrize("name", ["convex", "cgmu"])
def test_weights_are_non_negative_and_sum_to_one_per_pixel(name: str) -> None:
    scale = 4
    flow, context, features = _inputs(scale)
    up = _make(name, scale, kernel_size=5)
    w = up.weights(context, features) if name == "convex" else up.weights(context, flow.shape[-2:])
    full = weights_to_full_res(w)
    assert full.shape == (2, 9 if name == "convex" else 25, 5 * scale, 4 * scale)
    assert (full >= 0).all()
    assert torch.allclose(full.sum(1), torch.ones(2, 5 * scale, 4 * scale), atol=1e-6)


def _loop_neighbourhood(flow: torch.Tensor, full_weights: torch.Tensor, scale: int) -> torch.Tensor:
    """Brute force: every full-res pixel, every neighbour of its cell, replicated borders."""
    b, _, h, w = flow.shape
    k = math.isqrt(full_weights.shape[1])
    r = k // 2
    out = torch.zeros(b, 2, h * scale, w * scale)
    for y in range(h * scale):
        for x in range(w * scale):
            cy, cx = y // scale, x // scale
            for j in range(k * k):
                qy = min(max(cy + j // k - r, 0), h - 1)
                qx = min(max(cx + j % k - r, 0), w - 1)
                out[:, :, y, x] += full_weights[:, j, y, x, None] * flow[:, :, qy, qx] * scale
    return out


def test_neighbourhood_combination_matches_brute_force() -> None:
    scale = 3
    flow, _, features = _inputs(scale, h=4, w=3)
    weights = torch.rand(2, 9, scale, scale, 4, 3)
    weights = weights / weights.sum(1, keepdim=True)
    expected = _loop_neighbourhood(flow, weights_to_full_res(weights), scale)
    assert torch.allclose(neighbourhood_upsample(flow, weights, scale), expected, atol=1e-5)


def _raft_upsample(flow: torch.Tensor, mask: torch.Tensor, s: int) -> torch.Tensor:
    """RAFT's ``upsample_flow`` (core/raft.py) verbatim, zero padding and all."""
    n, _, h, w = flow.shape
    mask = mask.view(n, 1, 9, s, s, h, w).softmax(dim=2)
    up = F.unfold(s * flow, [3, 3], padding=1).view(n, 2, 9, 1, 1, h, w)
    up = torch.sum(mask * up, dim=2).permute(0, 1, 4, 2, 5, 3)
    return up.reshape(n, 2, s * h, s * w)


def test_convex_matches_raft_away_from_the_border() -> None:
    scale = 4
    flow, context, features = _inputs(scale, h=6, w=5)
    up = ConvexUpsampler(scale, context_channels=5, feature_channels=6)
    ours = up(flow, context, features)
    raft = _raft_upsample(flow, up.logit_scale * up.mask_head(up.mask_input(context, features)), scale)
    inner = (slice(None), slice(None), slice(scale, -scale), slice(scale, -scale))
    assert torch.allclose(ours[inner], raft[inner], atol=1e-5)
    assert not torch.allclose(ours, raft, atol=1e-3)  # RAFT's zero padding differs at the border


def test_bilinear_reproduces_a_linear_field_inside() -> None:
    scale, h, w = 4, 5, 6
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    flow = torch.stack((0.5 * xs - 0.2 * ys, 0.1 * xs + 0.3 * ys)).unsqueeze(0)
    out = build_upsampler("bilinear", scale)(flow)
    fy, fx = torch.meshgrid(torch.arange(h * scale, dtype=torch.float32),
                            torch.arange(w * scale, dtype=torch.float32), indexing="ij")
    cy, cx = (fy + 0.5) / scale - 0.5, (fx + 0.5) / scale - 0.5  # cell geometry (align_corners=False)
    expected = scale * torch.stack((0.5 * cx - 0.2 * cy, 0.1 * cx + 0.3 * cy))
    inner = (slice(scale, -scale), slice(scale, -scale))
    assert torch.allclose(out[0][(slice(None), *inner)], expected[(slice(None), *inner)], atol=1e-5)


def _gaussian_reference(flow: torch.Tensor, scale: int, k: int, sigma: float) -> torch.Tensor:
    """Normalised Gaussian interpolation by loops: what CGMU must be when the context carries nothing."""
    b, _, h, w = flow.shape
    r = k // 2
    weights = torch.zeros(b, k * k, h * scale, w * scale)
    for y in range(h * scale):
        for x in range(w * scale):
            py, px = (y % scale + 0.5) / scale - 0.5, (x % scale + 0.5) / scale - 0.5
            logits = torch.tensor([-(((j // k - r) - py) ** 2 + ((j % k - r) - px) ** 2) / (2 * sigma**2)
                                   for j in range(k * k)])
            weights[:, :, y, x] = logits.softmax(0)
    return _loop_neighbourhood(flow, weights, scale)


@pytest.mark.parametrize("k", [3, 5])
def test_cgmu_with_constant_context_is_a_fixed_smooth_interpolation(k: int) -> None:
    scale, sigma = 4, 0.6
    flow, _, _ = _inputs(scale, h=4, w=3)
    expected = _gaussian_reference(flow, scale, k, sigma)
    for seed, value in [(0, 0.0), (1, 3.5), (2, -7.0)]:  # any constant, any embedding weights
        torch.manual_seed(seed)
        up = ContextGuidedUpsampler(scale, context_channels=5, kernel_size=k, sigma=sigma)
        context = torch.full((2, 5, 4 * scale, 3 * scale), value)
        assert torch.allclose(up(flow, context), expected, atol=1e-5)
    # smooth: a ramp of one low-res pixel per cell rises monotonically by about one full-res pixel
    ramp = torch.arange(6, dtype=torch.float32).view(1, 1, 1, 6).expand(1, 2, 3, 6).contiguous()
    row = up(ramp, torch.zeros(1, 5, 3 * scale, 6 * scale))[0, 0, 1, scale:-scale]
    steps = row[1:] - row[:-1]
    assert (steps > 0.3).all() and (steps < 2.0).all()


def test_cgmu_gradients_reach_the_context_branch() -> None:
    scale = 2
    flow, context, _ = _inputs(scale)
    context.requires_grad_(True)
    up = ContextGuidedUpsampler(scale, context_channels=5)
    up(flow, context).pow(2).sum().backward()
    assert context.grad is not None and context.grad.abs().sum() > 0
    for name, p in up.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_cgmu_snaps_motion_to_a_context_edge_inside_a_cell() -> None:
    """A motion boundary inside a low-res cell: with an embedding that separates the two sides of the
    context edge, every full-res pixel takes the motion of a pure cell on its own side."""
    scale, h, w = 4, 3, 4
    edge = 6  # full-res column where the object starts: sub-pixel 2 of cell 1
    context = torch.zeros(1, 1, h * scale, w * scale)
    context[..., edge:] = 1.0
    full = torch.zeros(1, 2, h * scale, w * scale)
    full[:, 0, :, edge:] = 8.0  # full-res ground truth: the object moves right by 8 px
    lowres = F.avg_pool2d(full, scale) / scale
    up = ContextGuidedUpsampler(scale, context_channels=1, embed_dim=1, embed_hidden=1)
    with torch.no_grad():
        conv1, conv2 = up.embed[0], up.embed[2]
        conv1.weight.zero_()
        conv1.weight[0, 0, 1, 1] = 1.0  # hidden = context
        conv1.bias.zero_()
        conv2.weight.fill_(20.0)  # embedding = 20 * context: the two sides are far apart
        conv2.bias.zero_()
    cgmu_err = (up(lowres, context) - full).abs().max()
    bilinear_err = (build_upsampler("bilinear", scale)(lowres) - full).abs().max()
    assert cgmu_err < 1e-3
    assert bilinear_err > 2.0


def test_interface_errors_name_the_fix() -> None:
    with pytest.raises(KeyError, match="valid"):
        build_upsampler("nearest", 2)
    with pytest.raises(TypeError, match="kernel_sise"):
        build_upsampler("cgmu", 2, context_channels=3, kernel_size=3, kernel_sise=3)
    up = _make("cgmu", 2)
    flow, context, _ = _inputs(2)
    with pytest.raises(ValueError, match="multiple"):
        up(flow, context[..., :-1])
    with pytest.raises(ValueError, match="context"):
        up(flow, None)
    with pytest.raises(ValueError, match="features"):
        _make("convex", 2)(flow, context, None)
    with pytest.raises(ValueError, match="context"):
        _make("convex", 2)(flow, None, torch.randn(2, 6, 5, 4))
    # options of the other upsamplers are accepted and ignored, so one config serves all three
    assert isinstance(build_upsampler("convex", 2, context_channels=3, kernel_size=5, sigma=1.0), ConvexUpsampler)


def test_convex_reads_every_full_res_position_of_the_context() -> None:
    """The fair baseline: the mask head's input is the context rearranged into cells, nothing
    averaged away, so convex sees the same context as CGMU."""
    scale = 4
    _, context, _ = _inputs(scale)
    up = ConvexUpsampler(scale, context_channels=5)
    cells = up.mask_input(context, None)
    assert cells.shape == (2, 5 * scale**2, 5, 4)
    assert torch.equal(F.pixel_shuffle(cells, scale), context)


def test_convex_learns_to_snap_motion_to_a_context_edge_inside_a_cell() -> None:
    """What the starved baseline (area-pooled frame) could not do: trained on one example, convex on the
    full-res context puts a motion boundary inside a low-res cell where the context edge is."""
    torch.manual_seed(0)
    scale, h, w, edge = 4, 3, 4, 6
    context = torch.zeros(1, 1, h * scale, w * scale)
    context[..., edge:] = 1.0
    full = torch.zeros(1, 2, h * scale, w * scale)
    full[:, 0, :, edge:] = 8.0
    lowres = F.avg_pool2d(full, scale) / scale
    up = ConvexUpsampler(scale, context_channels=1, mask_hidden=16, logit_scale=1.0)
    opt = torch.optim.Adam(up.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        (up(lowres, context) - full).abs().mean().backward()
        opt.step()
    cell = (slice(None), 0, slice(None), slice(scale, 2 * scale))  # the cell the edge cuts
    convex_err = (up(lowres, context) - full)[cell].abs().mean()
    bilinear_err = (build_upsampler("bilinear", scale)(lowres) - full)[cell].abs().mean()
    assert convex_err < 0.25 * bilinear_err
