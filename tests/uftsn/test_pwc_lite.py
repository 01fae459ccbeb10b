"""PWC-lite: shapes, ablation switches, gradients, ONNX export and a few unsupervised steps."""

import pytest
import torch
import torch.nn.functional as F

from motionlab.losses.photometric import unsupervised_flow_loss
from motionlab.models.parts import count_parameters
from motionlab.models.pwc_lite import build_pwclite


def _pair(h: int = 64, w: int = 64, shift: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    coarse = torch.rand(1, 3, h // 4, w // 4)
    texture = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return texture, torch.roll(texture, shifts=shift, dims=-1)


@pytest.mark.parametrize("size", [(64, 64), (48, 72), (50, 61)])
def test_output_shapes(size):
    net = build_pwclite().eval()
    img1 = torch.rand(2, 3, *size)
    flows = net(img1, torch.rand(2, 3, *size))
    assert len(flows) == 1 + len(net.decoded_levels)
    assert flows[0].shape == (2, 2, *size)
    for level, flow in zip(reversed(net.decoded_levels), flows[1:], strict=True):
        assert flow.shape == (2, 2, -(-size[0] // 2**level), -(-size[1] // 2**level))


def test_parameter_count_and_ablation_switches():
    full = build_pwclite()
    no_cv = build_pwclite(use_cost_volume=False)
    no_ms = build_pwclite(multi_scale=False)
    print(f"PWC-lite parameters: {count_parameters(full) / 1e6:.2f} M (paper: 5.7 M)")
    assert 0.5e6 < count_parameters(full) < 6e6
    assert full.decoded_levels == [4, 3, 2] and no_ms.decoded_levels == [2]
    assert count_parameters(no_ms) < count_parameters(full)
    assert count_parameters(no_cv) != count_parameters(full)
    flows = build_pwclite(use_cost_volume=False, multi_scale=False)(*_pair())
    assert len(flows) == 2 and flows[0].shape == (1, 2, 64, 64)


@pytest.mark.parametrize("upsampler", ["convex", "cgmu"])
def test_the_upsampler_is_a_config_switch(upsampler):
    """CGMU's interface inside PWC-lite (issue 7): full-resolution flow of the right shape, and the
    upsampler's own parameters learn from the unsupervised loss."""
    net = build_pwclite(upsampler=upsampler, output_level=1)
    assert type(net.upsampler).__name__ != type(build_pwclite(output_level=1).upsampler).__name__
    img1, img2 = _pair()
    flow = net(img1, img2)[0]
    assert flow.shape == (1, 2, 64, 64)
    unsupervised_flow_loss(img1, img2, flow)[0].backward()
    grads = [p.grad for p in net.upsampler.parameters()]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0


def test_gradients_reach_every_parameter():
    net = build_pwclite()
    img1, img2 = _pair()
    fw, bw = net.bidirectional(img1, img2)
    loss, _ = unsupervised_flow_loss(img1, img2, fw)
    (loss + unsupervised_flow_loss(img2, img1, bw)[0]).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert sum(p.grad.abs().sum() for p in net.parameters()) > 0


def test_bidirectional_and_sequence_match_forward():
    net = build_pwclite().eval()
    img1, img2 = _pair()
    with torch.no_grad():
        fw = net(img1, img2)[0]
        fw2, bw2 = net.bidirectional(img1, img2)
        seq = net.flow_sequence(torch.stack((img1, img2, img1), 1))
    assert torch.allclose(fw, fw2[0], atol=1e-5)
    assert torch.allclose(net(img2, img1)[0], bw2[0], atol=1e-5)
    assert seq.shape == (1, 2, 2, 64, 64)
    assert torch.allclose(seq[:, 0], fw, atol=1e-5)


def test_exports_to_onnx(tmp_path):
    onnx = pytest.importorskip("onnx")
    net = build_pwclite().eval()
    path = tmp_path / "pwclite.onnx"
    torch.onnx.export(net, _pair(), str(path), input_names=["img1", "img2"], opset_version=17, dynamo=False)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert model.graph.output[0].name


def test_few_unsupervised_steps_reduce_loss():
    torch.manual_seed(0)
    net = build_pwclite(pyramid_channels=[8, 16, 24], decoder_channels=[32, 32, 16], output_level=1)
    img1, img2 = _pair(shift=2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for _ in range(15):
        loss, _ = unsupervised_flow_loss(img1, img2, net(img1, img2))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert min(losses[-3:]) < 0.8 * losses[0]


def test_checkpoint_round_trip_and_flow_backend(tmp_path):
    import numpy as np

    from motionlab.core.errors import DataError
    from motionlab.flow.base import build_flow
    from motionlab.models.pwc_lite import load_pwclite, save_pwclite

    net = build_pwclite(pyramid_channels=[8, 16], decoder_channels=[16], output_level=1).eval()
    path = save_pwclite(tmp_path / "flow_net.pt", net)
    frames = (np.random.default_rng(0).random((5, 32, 48, 3)) * 255).astype(np.uint8)
    estimator = build_flow("pwclite", checkpoint=str(path), batch_pairs=3)
    clip = estimator.clip(frames)
    assert clip.shape == (4, 2, 32, 48) and clip.dtype == np.float32
    img = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        expected = load_pwclite(path)(img[2:3], img[3:4])[0][0].numpy()
    assert np.allclose(clip[2], expected, atol=1e-5)
    assert np.allclose(estimator(frames[2], frames[3]), expected, atol=1e-5)
    with pytest.raises(DataError, match="needs a checkpoint"):
        build_flow("pwclite")
    with pytest.raises(DataError, match="not found"):
        build_flow("pwclite", checkpoint=str(tmp_path / "nope.pt"))


def test_channels_last_gives_the_same_flow():
    """The backend's inference layout (channels last) changes the speed, not the flow."""
    torch.manual_seed(0)
    net = build_pwclite().eval()
    img1, img2 = _pair()
    with torch.inference_mode():
        plain = net(img1, img2)
        fast = net.to(memory_format=torch.channels_last)(img1.contiguous(memory_format=torch.channels_last),
                                                         img2.contiguous(memory_format=torch.channels_last))
    for a, b in zip(plain, fast, strict=True):
        assert torch.allclose(a, b, atol=1e-5)
