"""ImageNet initialisation of a torchvision architecture from a local ``state_dict``: nothing is
downloaded at run time, so a missing or wrong file is a data error that says where to get the file."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision import models

from motionlab.core.errors import DataError


def load_imagenet_weights(net: nn.Module, path: str | Path, arch: str, head: str, key: str) -> None:
    """Load torchvision's ``arch`` weights from ``path`` into ``net``, all but the classifier ``head``
    (a key prefix, left random). A conv whose kernels take other than the file's 3 input channels
    gets the RGB kernels averaged and replicated (TSN's cross-modality initialisation). ``key`` is
    the config key that names the file, for the message."""
    file = Path(path)
    url = models.get_model_weights(arch).IMAGENET1K_V1.url
    if not file.is_file():
        raise DataError(f"ImageNet weights {file} not found: download {url} to that path (nothing is downloaded "
                        f"at run time), or set {key}=null for random initialisation")
    state = {k: v for k, v in torch.load(file, map_location="cpu", weights_only=True).items()
             if not k.startswith(head)}
    own = net.state_dict()
    for name, tensor in state.items():
        target = own.get(name)
        if target is not None and tensor.ndim == 4 and tensor.shape[1] == 3 and target.shape[1] != 3:
            state[name] = tensor.mean(1, keepdim=True).expand(-1, target.shape[1], -1, -1).contiguous()
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith(head) for k in missing):
        raise DataError(f"{file} is not a torchvision {arch} state_dict: missing {missing}, unexpected "
                        f"{unexpected}; download {url}")
