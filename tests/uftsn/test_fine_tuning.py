"""Training step 3's flow loss (sec. 3.2): the end-to-end motion stream with and without the
forward-backward occlusion mask."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from motionlab.lit.tsn import MotionStreamModule
from motionlab.losses.unsupervised import UnsupervisedLossParams, unsupervised_loss
from motionlab.models.pwc_lite import build_pwclite


@pytest.mark.parametrize("occlusion", [False, True])
def test_fine_tuning_flow_loss_with_and_without_occlusion(occlusion: bool) -> None:
    """With ``loss.occlusion`` the step needs backward flows (it raised on the first end-to-end step
    before); without, it is the one-way loss of the flows that feed the classifier."""
    torch.manual_seed(0)
    net = build_pwclite(pyramid_channels=[8, 8, 8], decoder_channels=[16, 8], output_level=1)
    p = SimpleNamespace(max_steps=10, warmup_fraction=0.0, flow_source="pwclite")
    loss_params = UnsupervisedLossParams(occlusion=occlusion)
    module = MotionStreamModule(classifier=None, flow_net=net, p=p, flow_loss=loss_params)
    # a batch of 1 video, 2 TSN segments of 3 frames each: [B, S, T, 3, H, W]
    frames = torch.randint(0, 256, (1, 2, 3, 32, 32, 3), dtype=torch.uint8).permute(0, 1, 2, 5, 3, 4)
    flows, loss = module.flows_and_loss({"frames": frames})
    assert flows.shape == (1, 2, 2, 2, 32, 32)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(q.grad is not None for q in net.parameters())
    clips = frames.float().flatten(0, 1) / 255.0
    img1, img2 = clips[:, :-1].flatten(0, 1), clips[:, 1:].flatten(0, 1)
    one_way, _ = unsupervised_loss(net(img1, img2), img1, img2, UnsupervisedLossParams())
    if occlusion:  # the mean of both directions, each masked by the other's consistency check
        assert not torch.isclose(loss, one_way)
    else:
        assert torch.isclose(loss, one_way, rtol=1e-4)
