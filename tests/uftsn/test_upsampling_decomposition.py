"""The gain decomposition inside PWC-lite (UF-TSN Table 3): which part of a net's error is its
upsampler's and which its low-res flow's, against the oracle bound."""

import numpy as np
import pytest
import torch

from motionlab.data.types import VideoSample
from motionlab.flow.metrics import endpoint_error
from motionlab.flow.videos import upsampling_decomposition
from motionlab.models.pwc_lite import build_pwclite


class _Videos(list):
    class_names: list[str] = []


def _videos(size: tuple[int, int], smooth: bool) -> _Videos:
    """Two 3-frame videos of noise with a ground-truth flow: constant per pair, or a sharp edge."""
    rng = np.random.default_rng(0)
    h, w = size
    out = _Videos()
    for i in range(2):
        flow = np.zeros((2, 2, h, w), np.float32)
        flow[:, 0] = 1.5 + i
        if not smooth:
            flow[:, 1, :, : w // 2 + 1] = -2.0  # a motion boundary off the cell grid
        frames = rng.integers(0, 256, (3, h, w, 3), dtype=np.uint8)
        out.append(VideoSample(frames=frames, video_id=f"v{i}", flow_gt=flow))
    return out


@pytest.mark.parametrize("size", [(32, 32), (30, 37)])  # the second is padded to the pyramid's multiple
def test_for_a_bilinear_net_its_lowres_flow_upsampled_bilinearly_is_its_flow(size):
    net = build_pwclite(pyramid_channels=[8, 12, 16], decoder_channels=[16, 8], output_level=2)
    videos = _videos(size, smooth=False)
    parts = upsampling_decomposition(net, videos, batch_size=2)
    clips = torch.from_numpy(np.stack([v.frames for v in videos])).permute(0, 1, 4, 2, 3).float() / 255.0
    with torch.inference_mode():
        ours = net.eval().flow_sequence(clips).numpy()
    assert parts["lowres_bilinear"].shape == ours.shape == (2, 2, 2, *size)
    np.testing.assert_allclose(parts["ours"], ours, atol=1e-5)  # the single pass gives the net's own flow
    np.testing.assert_allclose(parts["lowres_bilinear"], ours, atol=1e-5)
    np.testing.assert_allclose(parts["ideal"], parts["ideal_bilinear"], atol=1e-5)


def test_the_oracle_bound_is_exact_on_constant_flow_and_not_at_a_boundary():
    net = build_pwclite(pyramid_channels=[8, 12, 16], decoder_channels=[16, 8], output_level=2)
    for smooth, expect_zero in ((True, True), (False, False)):
        videos = _videos((32, 32), smooth)
        gt = np.stack([v.flow_gt for v in videos])
        epe = endpoint_error(upsampling_decomposition(net, videos, 2)["ideal_bilinear"], gt)
        assert (epe < 1e-5) == expect_zero, (smooth, epe)


def test_a_learned_upsampler_gets_the_ideal_flow_with_the_nets_own_context():
    torch.manual_seed(0)
    net = build_pwclite(pyramid_channels=[8, 12, 16], decoder_channels=[16, 8], output_level=2, upsampler="cgmu")
    videos = _videos((32, 32), smooth=False)
    parts = upsampling_decomposition(net, videos, 2)
    gt = np.stack([v.flow_gt for v in videos])
    # a different layer from bilinear on the same ideal input, and still near the truth (its weights
    # are a softmax over low-res neighbours, so a constant region maps to itself)
    assert np.abs(parts["ideal"] - parts["ideal_bilinear"]).max() > 1e-3
    assert endpoint_error(parts["ideal"], gt) < 0.5 * endpoint_error(np.zeros_like(gt), gt)
