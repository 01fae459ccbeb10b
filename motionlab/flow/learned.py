"""The learned flow backend: a PWC-lite net trained without labels (UF-TSN), behind the same
interface as the OpenCV backends, so pseudo labels, ``motionlab-flow`` and the flow caches can use
it by name::

    motionlab-flow --method pwclite --checkpoint STORE/flow_pretrain/<key>/flow_net.pt A.png B.png

Inference runs in ``torch.inference_mode`` with the net and the frames in channels-last memory
format (the convolutions' fast layout on CPU, and the cost volume reads channels last): the
same flow as the training layout, faster. ``runtime=onnx`` (``motionlab-flow --runtime onnx``)
runs the same graph, exported by ``torch.onnx`` once per input shape, in ONNX Runtime on the CPU
(``pip install motionlab[onnx]``); ``tests/flow/test_onnx_runtime.py`` checks it gives eager
PyTorch's flow.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from motionlab.core.errors import DataError
from motionlab.flow.base import FlowEstimator, register_flow

RUNTIMES = ("torch", "onnx")
ONNX_OPSET = 17


def import_onnxruntime() -> Any:
    """``onnxruntime``, an optional dependency: missing, a one-line error naming the install."""
    try:
        import onnxruntime
    except ImportError:
        raise DataError("the ONNX runtime path needs onnxruntime, which is not installed: pip install "
                        "motionlab[onnx] (or pip install onnxruntime), or use --runtime torch") from None
    return onnxruntime


class _Sequence(nn.Module):
    """``flow_sequence`` as the exported graph: frames ``[B, T, 3, H, W]`` -> ``[B, T-1, 2, H, W]``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net.flow_sequence(frames)


class OnnxPWCLite:
    """A PWC-lite net in ONNX Runtime: ``__call__(frames [B, T, 3, H, W] float in [0, 1])`` ->
    flows ``[B, T-1, 2, H, W]`` (numpy), like ``PWCLite.flow_sequence``. The graph is exported with
    static shapes (the cost volume's runs and pads follow the feature sizes), so each new input
    shape is exported once and its session kept. ``spinning``: idle pool threads spin (ONNX
    Runtime's default; on a shared machine they take cores from the working ones)."""

    def __init__(self, net: nn.Module, threads: int = 0, spinning: bool = True) -> None:
        self.ort = import_onnxruntime()
        self.net, self.threads, self.spinning = net.eval(), threads, spinning
        self.sessions: dict[tuple[int, ...], Any] = {}

    def export(self, shape: tuple[int, ...]) -> bytes:
        """The ONNX model of the net for frames of ``shape``."""
        buffer = io.BytesIO()
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings: shapes are constants of this graph by design
            torch.onnx.export(_Sequence(self.net), (torch.zeros(shape),), buffer, input_names=["frames"],
                              output_names=["flows"], opset_version=ONNX_OPSET, dynamo=False)
        return buffer.getvalue()

    def session(self, shape: tuple[int, ...]) -> Any:
        if shape not in self.sessions:
            options = self.ort.SessionOptions()
            options.intra_op_num_threads = self.threads or torch.get_num_threads()
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.spinning else "0")
            self.sessions[shape] = self.ort.InferenceSession(self.export(shape), options,
                                                             providers=["CPUExecutionProvider"])
        return self.sessions[shape]

    def __call__(self, frames: torch.Tensor) -> np.ndarray:
        array = np.ascontiguousarray(frames.detach().cpu().numpy(), dtype=np.float32)
        return self.session(tuple(array.shape)).run(None, {"frames": array})[0]


@dataclass(frozen=True)
class PWCLiteParams:
    """``checkpoint``: the ``flow_net.pt`` of a ``flow_pretrain`` stage. ``batch_pairs``: frame pairs
    per forward pass in ``clip``; ``device``: ``cpu`` or ``cuda``; ``threads``: CPU threads for
    torch and ONNX Runtime (0 leaves torch's default); ``channels_last``: the memory format of net
    and frames (eager); ``runtime``: ``torch`` (eager) or ``onnx`` (ONNX Runtime, CPU)."""

    checkpoint: str = ""
    batch_pairs: int = 16
    device: str = "cpu"
    threads: int = 0
    channels_last: bool = True
    runtime: str = "torch"

    def __post_init__(self) -> None:
        if not self.checkpoint:
            raise DataError("flow backend 'pwclite' needs a checkpoint: --param checkpoint=PATH/flow_net.pt "
                            "(written by the flow_pretrain stage)")
        if self.batch_pairs < 1:
            raise ValueError(f"pwclite: batch_pairs must be >= 1, got {self.batch_pairs}")
        if self.runtime not in RUNTIMES:
            raise ValueError(f"pwclite: runtime must be one of {list(RUNTIMES)}, got {self.runtime!r}")
        if self.runtime == "onnx" and self.device != "cpu":
            raise ValueError(f"pwclite: runtime=onnx runs on the CPU (onnxruntime); got device={self.device!r}: "
                             "use device=cpu, or runtime=torch on the GPU")


@register_flow("pwclite")
class PWCLiteFlow(FlowEstimator):
    """UF-TSN's unsupervised PWC-lite; ``clip`` runs ``batch_pairs`` pairs per pass and computes each
    frame's feature pyramid once."""

    Params = PWCLiteParams

    def __init__(self, params: PWCLiteParams | None = None) -> None:
        super().__init__(params)
        from motionlab.models.pwc_lite import load_pwclite

        if self.params.threads:
            torch.set_num_threads(self.params.threads)
        self.device = torch.device(self.params.device)
        self.memory_format = torch.channels_last if self.params.channels_last else torch.contiguous_format
        if self.params.runtime == "onnx":
            import_onnxruntime()  # a missing install fails before the checkpoint is read
        self.net = load_pwclite(self.params.checkpoint).to(self.device, memory_format=self.memory_format)
        self.onnx = OnnxPWCLite(self.net, self.params.threads) if self.params.runtime == "onnx" else None

    @cached_property
    def _digest(self) -> str:
        return hashlib.sha256(Path(self.params.checkpoint).read_bytes()).hexdigest()[:16]

    def implementation(self) -> str:
        """Flow changes with the weights, not only with the path: key caches by the file's digest
        (and by the runtime's version)."""
        runtime = f"-onnxruntime-{self.onnx.ort.__version__}" if self.onnx is not None else ""
        return f"pwclite-{self._digest}-torch-{torch.__version__}{runtime}"

    def _to_tensor(self, frames: np.ndarray) -> torch.Tensor:
        images = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)
        return (images.permute(0, 3, 1, 2).float() / 255.0).contiguous(memory_format=self.memory_format)

    def _sequence(self, frames: torch.Tensor) -> np.ndarray:
        """Flows ``[B, T-1, 2, H, W]`` between consecutive frames ``[B, T, 3, H, W]``, in the runtime."""
        if self.onnx is not None:
            return self.onnx(frames)
        return self.net.flow_sequence(frames).cpu().numpy()

    @torch.inference_mode()
    def compute(self, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        images = self._to_tensor(np.stack((frame1, frame2)))
        if self.onnx is not None:
            return self._sequence(images[None])[0, 0]
        return self.net(images[:1], images[1:])[0][0].cpu().numpy()

    @torch.inference_mode()
    def clip(self, frames: np.ndarray) -> np.ndarray:
        if len(frames) < 2:
            raise ValueError(f"need at least 2 frames for flow, got {len(frames)}")
        out = []
        step = self.params.batch_pairs
        for start in range(0, len(frames) - 1, step):
            chunk = self._to_tensor(frames[start : start + step + 1])[None]  # step pairs share their frames
            out.append(self._sequence(chunk)[0])
        return np.concatenate(out).astype(np.float32)
