"""Two-stream TSN pieces: stacked-flow ResNet, weights errors, sampling, fusion."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from motionlab.core.errors import DataError
from motionlab.data.clips import segment_starts, snippet_indices, uniform_test_starts
from motionlab.lit.tsn import MotionStreamModule
from motionlab.losses.unsupervised import UnsupervisedLossParams
from motionlab.models.pwc_lite import build_pwclite
from motionlab.models.tsn import MotionClassifier, average_fusion, average_scores, build_resnet


def test_motion_classifier_takes_20_channels():
    clf = MotionClassifier(num_classes=5, num_flows=10)
    assert clf.net.conv1.in_channels == 20
    assert clf(torch.randn(2, 10, 2, 32, 32)).shape == (2, 5)
    with pytest.raises(ValueError, match="10 stacked flows"):
        clf(torch.randn(2, 3, 2, 32, 32))


def test_motion_stream_end_to_end_and_detached():
    """Step 3 (after the warm-up) trains the flow net through the classifier; step 2 reads the
    batch's detached flows and leaves it alone."""
    flow_net = build_pwclite(pyramid_channels=[8, 16], decoder_channels=[16, 16], output_level=1)
    p = SimpleNamespace(max_steps=10, warmup_fraction=0.0, flow_source="learned", num_segments=1, num_flows=2,
                        flow_loss_weight=1.0)
    stream = MotionStreamModule(MotionClassifier(num_classes=3, num_flows=2), flow_net, p, UnsupervisedLossParams())
    # TSNSegments items: one segment of 2 flows, its 3 frames
    batch = {"frames": torch.randint(0, 256, (2, 1, 3, 3, 32, 32), dtype=torch.uint8), "label": torch.tensor([0, 1])}
    stream.training_step(batch, 0).backward()
    assert flow_net.pyramid.levels[0][0][0].weight.grad is not None
    stream.zero_grad(set_to_none=True)
    stream.warmup_steps = 5  # global step 0 is now inside the warm-up
    stream.training_step({**batch, "flows": torch.randn(2, 1, 2, 2, 32, 32)}, 0).backward()
    assert flow_net.pyramid.levels[0][0][0].weight.grad is None
    assert stream.classifier.net.fc.weight.grad is not None


def test_imagenet_weights_from_local_file(tmp_path):
    with pytest.raises(DataError, match="download https://"):
        build_resnet(18, 4, weights=str(tmp_path / "missing.pth"))
    torch.save(build_resnet(18, 1000).state_dict(), tmp_path / "r18.pth")
    rgb = build_resnet(18, 4, weights=str(tmp_path / "r18.pth"))
    flow = build_resnet(18, 4, in_channels=20, weights=str(tmp_path / "r18.pth"))
    ref = torch.load(tmp_path / "r18.pth")
    assert torch.equal(rgb.conv1.weight, ref["conv1.weight"])
    assert torch.allclose(flow.conv1.weight[:, 7], ref["conv1.weight"].mean(1))
    torch.save({"bogus": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(DataError, match="not a torchvision resnet18"):
        build_resnet(18, 4, weights=str(tmp_path / "bad.pth"))


def test_segment_sampling():
    assert segment_starts(30, 3, 11).tolist() == [3, 10, 16]  # centres of [0,6.67), [6.67,13.3), [13.3,20)
    rng = np.random.default_rng(0)
    for _ in range(20):
        starts = segment_starts(30, 3, 11, rng)
        assert np.all(starts >= [0, 6, 13]) and np.all(starts <= [6, 13, 19])
    assert segment_starts(5, 3, 11).tolist() == [0, 0, 0]
    starts = uniform_test_starts(100, 11, 25)
    assert len(starts) == 25 and starts[0] == 0 and starts[-1] == 89
    assert snippet_indices(np.array([0, 3]), 4, 5).tolist() == [[0, 1, 2, 3], [3, 4, 4, 4]]


def test_fusion_averages_probabilities():
    logits = torch.tensor([[[0.0, 0.0], [10.0, -10.0]]])
    scores = average_scores(logits)
    assert torch.allclose(scores, torch.tensor([[0.75, 0.25]]), atol=1e-4)
    fused = average_fusion(scores, torch.tensor([[0.25, 0.75]]))
    assert torch.allclose(fused, torch.tensor([[0.5, 0.5]]), atol=1e-4)
