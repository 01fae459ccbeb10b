"""Zhang et al. pieces against hand-computed references."""

from __future__ import annotations

import pytest
import torch

from motionlab.data.clips import motion_subclip_starts
from motionlab.losses.smoothness import contrastive_loss, first_order_smoothness, second_order_smoothness
from motionlab.models.motion import MotionAugmentedFeatures, MotionGRU


def test_contrastive_loss_by_hand():
    a = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    p = torch.tensor([[3.0, 4.0], [1.0, 1.0]])  # distances 5, 0
    n = torch.tensor([[0.3, 0.4], [1.0, 3.0]])  # distances 0.5, 2
    # (5 + max(1-0.5, 0) + 0 + max(1-2, 0)) / 2
    assert contrastive_loss(a, p, n, margin=1.0).item() == pytest.approx(2.75)


def test_second_order_uses_feature_differences():
    f1, f2, f3 = torch.tensor([[0.0]]), torch.tensor([[1.0]]), torch.tensor([[2.0]])
    other = torch.tensor([[1.0]])
    # d̂12 = -1, d̂23 = -1 -> 0; d̂(2,other) = 0 -> d(-1, 0) = 1 -> max(1.5 - 1, 0) = 0.5
    assert second_order_smoothness(f1, f2, f3, other, margin=1.5).item() == pytest.approx(0.5)
    # a video moving at constant speed in feature space has zero positive term
    assert first_order_smoothness(f1, f1, other, margin=0.5).item() == pytest.approx(0.0)


def test_motion_subclips_split_k_frames_into_three():
    assert motion_subclip_starts(12, 10) == [0, 1, 2]  # paper: k=12 -> three 10-frame clips
    assert motion_subclip_starts(7, 5) == [0, 1, 2]
    with pytest.raises(ValueError):
        motion_subclip_starts(5, 6)


def test_still_image_mr_is_the_first_gru_step_of_a_video():
    torch.manual_seed(0)
    gru = MotionGRU(6, 5)
    feats = torch.randn(3, 4, 6)
    assert torch.allclose(gru.still_image(feats[:, 0]), gru(feats[:, :1]))
    ref = torch.nn.GRU(6, 5, batch_first=True)
    renamed = {k.replace("_ih", "_ih_l0").replace("_hh", "_hh_l0"): v for k, v in gru.cell.state_dict().items()}
    ref.load_state_dict(renamed)
    assert torch.allclose(gru(feats), ref(feats)[1][0], atol=1e-6)


def test_windows_gathers_each_videos_own_subclip():
    torch.manual_seed(0)
    gru = MotionGRU(2, 3)
    feats = torch.randn(2, 6, 2)
    got = gru.windows(feats, torch.tensor([1, 3]), 3)
    assert torch.allclose(got[0], gru(feats[:1, 1:4])[0]) and torch.allclose(got[1], gru(feats[1:, 3:6])[0])


def test_mra_features_concatenate_motion_then_visual():
    enc = torch.nn.Linear(4, 6)
    enc.feature_dim = 6
    gru = MotionGRU(6, 5)
    x = torch.randn(2, 4)
    both, only = MotionAugmentedFeatures(enc, gru), MotionAugmentedFeatures(enc, gru, only_motion=True)
    assert both(x).shape == (2, 11) and only(x).shape == (2, 5)
    assert torch.allclose(both(x)[:, 5:], enc(x))
