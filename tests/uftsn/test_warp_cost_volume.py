"""Warping and cost volume against exact shifts and a brute-force loop."""

import pytest
import torch

from motionlab.models.cost_volume import CostVolume, local_correlation
from motionlab.models.warp import backward_warp, out_of_bounds_mask, resize_flow


def test_zero_flow_warp_is_identity():
    image = torch.rand(2, 3, 9, 11)
    assert torch.allclose(backward_warp(image, torch.zeros(2, 2, 9, 11)), image, atol=1e-6)


@pytest.mark.parametrize("dx,dy", [(1, 0), (0, 2), (-2, 1), (3, -1)])
def test_integer_flow_warp_matches_roll(dx, dy):
    image = torch.rand(1, 3, 10, 12)
    flow = torch.zeros(1, 2, 10, 12)
    flow[:, 0], flow[:, 1] = dx, dy
    warped = backward_warp(image, flow)
    # warped(p) = image(p + d) = roll by -d, on pixels whose source lies inside the image
    rolled = torch.roll(image, shifts=(-dy, -dx), dims=(-2, -1))
    inside = out_of_bounds_mask(flow).bool().expand_as(image)
    assert inside.sum() == 3 * (10 - abs(dy)) * (12 - abs(dx))
    assert torch.allclose(warped[inside], rolled[inside], atol=1e-5)
    assert warped[~inside].abs().max() < 1e-5  # zero padding, up to rounding of the grid


def test_half_pixel_flow_interpolates_linearly():
    image = torch.arange(5.0).view(1, 1, 1, 5).expand(1, 1, 3, 5).contiguous()
    flow = torch.zeros(1, 2, 3, 5)
    flow[:, 0] = 0.5
    assert torch.allclose(backward_warp(image, flow)[0, 0, 1, :4], torch.tensor([0.5, 1.5, 2.5, 3.5]))


def test_resize_flow_scales_vectors():
    flow = torch.ones(1, 2, 4, 6)
    flow[:, 1] = -2.0
    up = resize_flow(flow, (8, 18))
    assert up.shape == (1, 2, 8, 18)
    assert torch.allclose(up[:, 0], torch.full((1, 8, 18), 3.0))
    assert torch.allclose(up[:, 1], torch.full((1, 8, 18), -4.0))


def local_correlation_reference(f1: torch.Tensor, f2: torch.Tensor, radius: int) -> torch.Tensor:
    """The definition, one offset at a time: products over the region where both maps overlap,
    zero elsewhere (no padding, no windows)."""
    b, c, h, w = f1.shape
    side = 2 * radius + 1
    out = torch.zeros(b, side * side, h, w, dtype=f1.dtype)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            y0, y1, x0, x1 = max(0, -dy), min(h, h - dy), max(0, -dx), min(w, w - dx)
            if y0 < y1 and x0 < x1:
                prod = f1[:, :, y0:y1, x0:x1] * f2[:, :, y0 + dy : y1 + dy, x0 + dx : x1 + dx]
                out[:, (dy + radius) * side + dx + radius, y0:y1, x0:x1] = prod.sum(1) / c
    return out


@pytest.mark.parametrize("shape,radius", [((2, 5, 6, 7), 1), ((2, 5, 6, 7), 2), ((1, 3, 4, 16), 1),
                                          ((2, 8, 9, 37), 4), ((1, 5, 3, 3), 3), ((3, 16, 11, 50), 2),
                                          ((1, 4, 5, 40), 9)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_cost_volume_equals_the_definition(shape, radius, channels_last):
    """Values and gradients equal to the definition (offset by offset), for widths that are and are not multiples
    of the row block, feature maps smaller than the window, a window wider than the block (r = 9),
    either memory format."""
    torch.manual_seed(1)
    f1, f2 = torch.randn(*shape, dtype=torch.float64), torch.randn(*shape, dtype=torch.float64)
    if channels_last:
        f1, f2 = f1.to(memory_format=torch.channels_last), f2.to(memory_format=torch.channels_last)
    f1.requires_grad_(True)
    f2.requires_grad_(True)
    fast, ref = local_correlation(f1, f2, radius), local_correlation_reference(f1, f2, radius)
    assert fast.shape == (shape[0], (2 * radius + 1) ** 2, *shape[2:])
    assert torch.allclose(fast, ref, atol=1e-12)
    weights = torch.randn_like(ref)
    grads_fast = torch.autograd.grad((fast * weights).sum(), (f1, f2))
    grads_ref = torch.autograd.grad((ref * weights).sum(), (f1, f2))
    for new, old in zip(grads_fast, grads_ref, strict=True):
        assert torch.allclose(new, old, atol=1e-12)


@pytest.mark.parametrize("width", [5, 37])  # one run narrower than the window; several runs
def test_cost_volume_exports_to_onnx(tmp_path, width):
    """Only export-friendly ops (the windows are not ``unfold``/``as_strided`` views); where
    onnxruntime is installed, the exported graph gives the same values."""
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "cost_volume.onnx"
    torch.manual_seed(0)
    f1, f2 = torch.randn(1, 8, 9, width), torch.randn(1, 8, 9, width)
    torch.onnx.export(CostVolume(radius=4, normalize=True), (f1, f2), str(path), input_names=["f1", "f2"],
                      opset_version=17, dynamo=False)
    onnx.checker.check_model(onnx.load(str(path)))
    try:
        import onnxruntime
    except ImportError:
        return
    [cost] = onnxruntime.InferenceSession(str(path)).run(None, {"f1": f1.numpy(), "f2": f2.numpy()})
    assert torch.allclose(torch.from_numpy(cost), CostVolume(radius=4, normalize=True)(f1, f2), atol=1e-5)


def test_cost_volume_peaks_at_true_shift():
    torch.manual_seed(0)
    f1 = torch.randn(1, 64, 12, 12)
    f2 = torch.roll(f1, shifts=(1, -2), dims=(-2, -1))  # f2(y + 1, x - 2) = f1(y, x)
    cost = CostVolume(radius=3)(f1, f2)
    best = cost[0, :, 4:8, 4:8].argmax(0)
    assert torch.all(best == (1 + 3) * 7 + (-2 + 3))


def test_normalised_cost_volume_is_cosine_similarity():
    torch.manual_seed(0)
    f1, f2 = torch.randn(1, 6, 5, 5), torch.randn(1, 6, 5, 5)
    cost = CostVolume(radius=1, normalize=True)(f1 * 3.0, f2 * 0.1)  # scale-free
    unit1, unit2 = f1 / f1.norm(dim=1, keepdim=True), f2 / f2.norm(dim=1, keepdim=True)
    assert torch.allclose(cost, local_correlation_reference(unit1, unit2, 1) * 6, atol=1e-5)
    assert cost.abs().max() <= 1.0 + 1e-5
