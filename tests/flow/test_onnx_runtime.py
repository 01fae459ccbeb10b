"""The ONNX Runtime path of the learned backend (``motionlab-flow --method pwclite --runtime onnx``):
the same flow as eager PyTorch for each PWC-lite variant, and one clear line where onnxruntime is
not installed."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest
import torch

from motionlab.bench.flow import VARIANTS, variant_net
from motionlab.core.errors import DataError
from motionlab.flow.base import build_flow
from motionlab.flow.cli import main as flow_cli
from motionlab.flow.io import read_flo
from motionlab.models.pwc_lite import save_pwclite

NO_ORT = "onnxruntime is not installed (pip install motionlab[onnx]): the ONNX Runtime path cannot run here"


def _checkpoint(tmp_path, name: str):
    """A variant with random weights that move pixels: the residual heads scaled up from their
    near-zero init, so the compared flows are pixels, not ~0."""
    torch.manual_seed(0)
    net = variant_net(name).to(memory_format=torch.contiguous_format)
    with torch.no_grad():
        for decoder in net.decoders.values():
            decoder.predict.weight.mul_(30.0)
    return save_pwclite(tmp_path / f"{name}.pt", net)


def _frames(count: int = 4, h: int = 60, w: int = 90) -> np.ndarray:
    """A smooth texture panning 2 px a frame; 60 x 90 is no multiple of 2^L (the padded path)."""
    rng = np.random.default_rng(0)
    world = cv2.resize(rng.random((h // 6, (w + 2 * count) // 6, 3)).astype(np.float32), (w + 2 * count, h))
    return np.stack([(world[:, 2 * t : 2 * t + w] * 255).astype(np.uint8) for t in range(count)])


@pytest.mark.parametrize("name", VARIANTS)
def test_onnx_runtime_gives_eager_flow(name, tmp_path):
    pytest.importorskip("onnxruntime", reason=NO_ORT)
    path = _checkpoint(tmp_path, name)
    frames = _frames()
    eager = build_flow("pwclite", checkpoint=str(path), batch_pairs=2)
    onnx = build_flow("pwclite", checkpoint=str(path), batch_pairs=2, runtime="onnx")
    assert eager.config_hash() != onnx.config_hash()  # caches keep the runtimes apart
    pair, pair_onnx = eager(frames[0], frames[1]), onnx(frames[0], frames[1])
    assert np.abs(pair).max() > 0.5  # the nets do move pixels
    np.testing.assert_allclose(pair_onnx, pair, atol=1e-3)
    clip, clip_onnx = eager.clip(frames), onnx.clip(frames)  # chunks of 2 pairs and 1 (the pair's shape)
    assert clip_onnx.shape == (3, 2, 60, 90) and len(onnx.onnx.sessions) == 2
    np.testing.assert_allclose(clip_onnx, clip, atol=1e-3)


def test_cli_runtime_onnx_writes_the_eager_flow(tmp_path):
    pytest.importorskip("onnxruntime", reason=NO_ORT)
    path = _checkpoint(tmp_path, "pwclite_fast")
    frames = _frames(2)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    args = ["--method", "pwclite", "--checkpoint", str(path), str(tmp_path / "0.png"), str(tmp_path / "1.png"),
            "--no-png"]
    assert flow_cli([*args, "--out", str(tmp_path / "onnx.flo"), "--runtime", "onnx"]) == 0
    assert flow_cli([*args, "--out", str(tmp_path / "eager.flo")]) == 0
    np.testing.assert_allclose(read_flo(tmp_path / "onnx.flo"), read_flo(tmp_path / "eager.flo"), atol=1e-3)


def test_missing_onnxruntime_is_one_line_naming_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    path = _checkpoint(tmp_path, "pwclite_fast")
    with pytest.raises(DataError, match=r"pip install motionlab\[onnx\]"):
        build_flow("pwclite", checkpoint=str(path), runtime="onnx")
    frames = _frames(2)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"{i}.png"), frame)
    code = flow_cli(["--method", "pwclite", "--checkpoint", str(path), "--runtime", "onnx", str(tmp_path / "0.png"),
                     str(tmp_path / "1.png"), "--out", str(tmp_path / "x.flo")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "pip install motionlab[onnx]" in err
    assert not (tmp_path / "x.flo").exists()


def test_runtime_is_checked_with_the_valid_ones(tmp_path):
    path = _checkpoint(tmp_path, "pwclite_fast")
    with pytest.raises(ValueError, match=r"\['torch', 'onnx'\]"):
        build_flow("pwclite", checkpoint=str(path), runtime="tensorrt")
    with pytest.raises(ValueError, match="runs on the CPU"):
        build_flow("pwclite", checkpoint=str(path), runtime="onnx", device="cuda")
