"""ImageNet initialisation of a torchvision architecture, named two ways:

- a torchvision weights name of the architecture (``IMAGENET1K_V1``): fetched through torchvision's
  weights API into the torch hub cache (``$TORCH_HOME/hub/checkpoints``), downloaded once where
  there is network and read from the cache after; a machine without network needs the file put
  there, and is told so in one line with the file, the URL and the from-scratch override;
- a path to a local torchvision ``state_dict`` (nothing is downloaded).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision import models

from motionlab.core.errors import DataError


def hub_file(arch: str, name: str) -> Path:
    """Where torchvision's weights API keeps ``arch``'s ``name`` weights (the torch hub cache)."""
    url = models.get_model_weights(arch)[name].url
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def imagenet_state_dict(arch: str, weights: str | Path, key: str) -> dict[str, torch.Tensor]:
    """The ``state_dict`` that ``weights`` names for ``arch`` (see the module docstring). ``key`` is
    the config key that names it, for the messages (each one line, with the fix and ``key=null``)."""
    enum = models.get_model_weights(arch)
    scratch = f"or train from scratch: {key}=null"
    if str(weights) in enum.__members__:
        entry = enum[str(weights)]
        file = hub_file(arch, str(weights))
        try:
            return entry.get_state_dict(progress=False, check_hash=True, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as err:  # URLError is an OSError
            problem = "is unreadable" if file.is_file() else "is not in the torch hub cache and cannot be downloaded"
            raise DataError(f"{key}={weights}: {arch}'s ImageNet file {problem} ({_first_line(err)}): put "
                            f"{entry.url} at {file} (or set TORCH_HOME to a cache that has it), {scratch}") from None
    file = Path(weights)
    default = enum.IMAGENET1K_V1
    if not file.is_file():
        raise DataError(f"{key}={weights}: neither a torchvision weights name of {arch} ({', '.join(enum.__members__)}"
                        f") nor a file: use IMAGENET1K_V1 (fetched into the torch hub cache), or download "
                        f"{default.url} to that path, {scratch}")
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as err:
        raise DataError(f"{key}={weights}: cannot read {file} ({_first_line(err)}); download {default.url}, "
                        f"{scratch}") from None


def load_imagenet_weights(net: nn.Module, weights: str | Path, arch: str, head: str, key: str) -> None:
    """Load ``arch``'s ImageNet weights (``weights``: a torchvision weights name or a local file) into
    ``net``, all but the classifier ``head`` (a key prefix, left random). A conv whose kernels take
    other than the file's 3 input channels gets the RGB kernels averaged and replicated (TSN's
    cross-modality initialisation). ``key`` is the config key that names the weights, for messages."""
    state = {k: v for k, v in imagenet_state_dict(arch, weights, key).items() if not k.startswith(head)}
    own = net.state_dict()
    for name, tensor in state.items():
        target = own.get(name)
        if target is not None and tensor.ndim == 4 and tensor.shape[1] == 3 and target.shape[1] != 3:
            state[name] = tensor.mean(1, keepdim=True).expand(-1, target.shape[1], -1, -1).contiguous()
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith(head) for k in missing):
        raise DataError(f"{key}={weights} is not a torchvision {arch} state_dict: missing {missing}, unexpected "
                        f"{unexpected}; download {models.get_model_weights(arch).IMAGENET1K_V1.url}")
