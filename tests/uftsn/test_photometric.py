"""Loss terms against hand-computed values on tiny inputs."""

import math

import pytest
import torch

from motionlab.losses.photometric import (
    census_loss,
    census_transform,
    edge_aware_smoothness,
    forward_backward_occlusion,
    photometric_l1,
    unsupervised_flow_loss,
)
from motionlab.models.warp import backward_warp


def test_l1_sums_channels_and_averages_pixels():
    a = torch.zeros(1, 3, 1, 2)
    b = torch.tensor([[[[0.1, 0.0]], [[0.2, 0.0]], [[0.3, 0.4]]]])
    assert photometric_l1(a, b).item() == pytest.approx((0.6 + 0.4) / 2)
    mask = torch.tensor([[[[0.0, 1.0]]]])
    assert photometric_l1(a, b, mask).item() == pytest.approx(0.4, rel=1e-5)


def test_census_transform_hand_computed():
    image = torch.zeros(1, 1, 3, 3)
    image[0, 0, 1, 1] = 2.0  # centre brighter than its 8 neighbours by 2
    code = census_transform(image, patch_size=3, eps=0.81)[0, :, 1, 1]
    expected = torch.full((9,), -2.0 / math.sqrt(0.81 + 4.0))
    expected[4] = 0.0
    assert torch.allclose(code, expected)


def test_census_loss_hand_computed():
    img1 = torch.zeros(1, 1, 3, 3)
    img2 = torch.zeros(1, 1, 3, 3)
    img2[0, 0, 1, 1] = 2.0 / 255.0  # intensity 2 after scaling to [0, 255]
    c = 2.0 / math.sqrt(0.81 + 4.0)
    # centre pixel: 8 comparisons flip by c; each corner/edge pixel sees the centre once, by c
    per_flip = c * c / (0.1 + c * c)
    expected = (8 * per_flip + 8 * per_flip) / 9
    assert census_loss(img1, img2).item() == pytest.approx(expected, rel=1e-5)


def test_census_zero_for_identical_and_offset_invariant():
    torch.manual_seed(0)
    img1 = torch.rand(2, 3, 8, 8) * 0.8
    img2 = torch.rand(2, 3, 8, 8) * 0.8
    assert census_loss(img1, img1).item() == 0.0
    base = census_loss(img1, img2)
    assert census_loss(img1 + 0.1, img2).item() == pytest.approx(base.item(), rel=1e-4)
    assert base.item() > 0.5


def test_smoothness_hand_computed():
    flow = torch.zeros(1, 2, 2, 2)
    flow[0, 0, :, 1] = 1.0  # dx jumps by 1 between columns: x-gradient 1 on both rows
    image = torch.zeros(1, 1, 2, 2)
    image[0, 0, 1, 1] = 0.5  # image x-gradient 0 on row 0, 0.5 on row 1
    got = edge_aware_smoothness(flow, image, edge_weight=2.0)
    expected_x = (1.0 + math.exp(-2.0 * 0.5)) / 2
    assert got.item() == pytest.approx(expected_x / 2, rel=1e-6)  # y term is zero
    assert edge_aware_smoothness(flow * 0 + 3.0, image).item() == 0.0


def test_second_order_smoothness_ignores_linear_flow():
    ramp = torch.arange(6.0).view(1, 1, 1, 6).expand(1, 2, 6, 6).contiguous()
    image = torch.zeros(1, 3, 6, 6)
    assert edge_aware_smoothness(ramp, image, order=2).item() == pytest.approx(0.0)
    assert edge_aware_smoothness(ramp, image, order=1).item() > 0


def test_occlusion_mask_consistent_and_inconsistent():
    fw = torch.zeros(1, 2, 6, 6)
    fw[:, 0] = 1.0
    assert forward_backward_occlusion(fw, -fw).min().item() == 1.0
    assert forward_backward_occlusion(fw, fw).max().item() == 0.0  # |2|^2 = 4 > 0.01 * 2 + 0.5


def test_unsupervised_loss_prefers_true_flow():
    torch.manual_seed(0)
    img1 = torch.rand(1, 3, 16, 16)
    true = torch.zeros(1, 2, 16, 16)
    true[:, 0] = 2.0
    img2 = torch.roll(img1, shifts=2, dims=-1)  # img2(x + 2) = img1(x)
    assert torch.allclose(backward_warp(img2, true)[..., :-2], img1[..., :-2], atol=1e-5)
    good, terms = unsupervised_flow_loss(img1, img2, [true, true[..., ::2, ::2] / 2])
    bad, _ = unsupervised_flow_loss(img1, img2, [torch.zeros_like(true), torch.zeros(1, 2, 8, 8)])
    assert good < bad
    assert set(terms) == {"l1", "census", "smooth"}
    with pytest.raises(ValueError, match="flows_bw"):
        unsupervised_flow_loss(img1, img2, [true], occlusion=True)
    # consistent flows mask nothing out: the same loss as without the mask
    occ_total, _ = unsupervised_flow_loss(img1, img2, [true], occlusion=True, flows_bw=[-true])
    plain_total, _ = unsupervised_flow_loss(img1, img2, [true])
    assert torch.allclose(occ_total, plain_total, atol=1e-6)


def test_fixed_loss_scales_match_the_full_net() -> None:
    """``loss.num_scales``: an ablated net without multi-scale gets the full net's photometric scales,
    its coarsest flow halved (area mean, vectors halved), so only the architecture differs."""
    from motionlab.losses.unsupervised import UnsupervisedLossParams, fill_scales, unsupervised_loss
    from motionlab.models.pwc_lite import build_pwclite

    cpu = {"pyramid_channels": [8, 8, 8], "decoder_channels": [16, 8], "output_level": 1}
    img1, img2 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    full = build_pwclite(**cpu)(img1, img2)
    ablated = build_pwclite(**cpu, multi_scale=False)(img1, img2)
    assert len(ablated) < len(full)
    filled = fill_scales(ablated, len(full))
    assert [f.shape for f in filled] == [f.shape for f in full]
    constant = torch.full((1, 2, 8, 8), 4.0)
    assert torch.allclose(fill_scales([constant], 3)[2], torch.full((1, 2, 2, 2), 1.0))
    assert fill_scales(full, None) is full
    own, _ = unsupervised_loss(ablated, img1, img2, UnsupervisedLossParams())
    fixed, _ = unsupervised_loss(ablated, img1, img2, UnsupervisedLossParams(num_scales=len(full)))
    assert fixed > own  # two more scale terms, each non-negative and not all zero
    with pytest.raises(ValueError, match="too small"):
        fill_scales([torch.zeros(1, 2, 2, 2)], 4)
