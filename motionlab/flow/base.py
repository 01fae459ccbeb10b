"""One interface for every optical-flow estimator, and the registry that builds them by name.

An estimator maps two uint8 RGB frames [H, W, 3] to float32 flow [2, H, W] (dx, dy) in pixels,
forward from the first frame to the second. Its hyper-parameters are a frozen dataclass
(``Params``), so a typo fails with the valid names listed and ``config_hash()`` can key caches:
two estimators with the same hash give the same flow.

A backend registers itself with ``@register_flow("name")`` on a ``FlowEstimator`` subclass; the
OpenCV backends live in ``motionlab.flow.opencv``, the learned one (``pwclite``) in
``motionlab.flow.learned``, both imported lazily by ``build_flow``.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from motionlab.core.hashing import config_hash as _hash

# Modules whose import registers backends.
_BACKEND_MODULES = ("motionlab.flow.opencv", "motionlab.flow.learned")


@dataclasses.dataclass(frozen=True)
class NoParams:
    """Params of an estimator without hyper-parameters."""


class FlowEstimator(abc.ABC):
    """Base class of every flow backend: subclasses set ``Params`` and implement ``compute``."""

    name: ClassVar[str] = ""  # set by ``register_flow``
    Params: ClassVar[type] = NoParams

    def __init__(self, params: Any = None) -> None:
        self.params = params if params is not None else self.Params()

    @abc.abstractmethod
    def compute(self, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        """Flow [2, H, W] from ``frame1`` to ``frame2`` (validated uint8 RGB of equal shape)."""

    def implementation(self) -> str:
        """What else changes the output besides the params (library version, weights digest)."""
        return ""

    def __call__(self, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        check_frame_pair(frame1, frame2)
        flow = np.asarray(self.compute(frame1, frame2), dtype=np.float32)
        expected = (2, *frame1.shape[:2])
        if flow.shape != expected:
            raise RuntimeError(f"flow backend {self.name!r} returned shape {flow.shape}, expected {expected}")
        return flow

    def clip(self, frames: np.ndarray) -> np.ndarray:
        """Flow between consecutive frames of ``frames`` [T, H, W, 3] -> [T-1, 2, H, W]; a batched
        backend (a network on a GPU) overrides this."""
        if len(frames) < 2:
            raise ValueError(f"need at least 2 frames for flow, got {len(frames)}")
        return np.stack([self(frames[i], frames[i + 1]) for i in range(len(frames) - 1)])

    def params_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self.params)

    def config_hash(self) -> str:
        """Key of everything that determines the output: backend, params, implementation."""
        return _hash({"backend": self.name, "params": self.params_dict(), "impl": self.implementation()})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params_dict().items())
        return f"{self.name}({args})"


def check_frame_pair(frame1: np.ndarray, frame2: np.ndarray) -> None:
    """Fail early, with the shapes in the message, on what every backend would choke on."""
    for i, frame in enumerate((frame1, frame2), start=1):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            desc = f"{frame.dtype} {frame.shape}" if isinstance(frame, np.ndarray) else type(frame).__name__
            raise ValueError(f"frame{i} must be uint8 RGB [H, W, 3], got {desc}")
    if frame1.shape != frame2.shape:
        raise ValueError(f"frames differ in shape: {frame1.shape} vs {frame2.shape}")


FLOWS: dict[str, type[FlowEstimator]] = {}


def register_flow(name: str) -> Callable[[type[FlowEstimator]], type[FlowEstimator]]:
    def wrap(cls: type[FlowEstimator]) -> type[FlowEstimator]:
        if not dataclasses.is_dataclass(cls.Params):
            raise TypeError(f"{cls.__name__}.Params must be a dataclass")
        cls.name = name
        FLOWS[name] = cls
        return cls

    return wrap


def _load_backends(wanted: str | None = None) -> None:
    """Import backend modules until ``wanted`` is registered (all of them when None): a worker
    that needs TV-L1 does not pay for importing torch with the learned backend."""
    for module in _BACKEND_MODULES:
        if wanted in FLOWS:
            return
        importlib.import_module(module)


def available_flows() -> dict[str, dict[str, Any]]:
    """Every registered backend with its params and their defaults."""
    _load_backends()
    return {name: _defaults(cls.Params) for name, cls in sorted(FLOWS.items())}


def _defaults(params_cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(params_cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = "<required>"
    return out


def _coerce(name: str, key: str, value: Any, annotation: Any) -> Any:
    """Accept what config files and ``--param key=value`` give: ints for floats, and strings
    naming a number or boolean; reject the rest with the expected type in the message."""
    kinds = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None and type(None) in kinds:
        return None
    for kind in kinds:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
        elif kind in (int, float):
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if number and (kind is float or float(value).is_integer()):
                return kind(value)
            if isinstance(value, str):
                try:
                    return kind(value)
                except ValueError:
                    pass
        elif kind is str and isinstance(value, str):
            return value
    wanted = " or ".join(getattr(k, "__name__", str(k)) for k in kinds)
    raise ValueError(f"flow backend {name!r}: param {key!r} must be {wanted}, got {value!r}")


def build_params(name: str, params: dict[str, Any]) -> Any:
    """The ``Params`` instance of backend ``name``; unknown names or keys list the valid ones."""
    _load_backends(name)
    if name not in FLOWS:
        _load_backends()
        raise KeyError(f"unknown flow backend {name!r}; valid: {sorted(FLOWS)}")
    params_cls = FLOWS[name].Params
    hints = typing.get_type_hints(params_cls)
    valid = {f.name for f in dataclasses.fields(params_cls)}
    unknown = sorted(set(params) - valid)
    if unknown:
        raise KeyError(f"flow backend {name!r} has no param(s) {unknown}; valid params and defaults: "
                       f"{_defaults(params_cls)}")
    values = {k: _coerce(name, k, v, hints[k]) for k, v in params.items()}
    return params_cls(**values)


def build_flow(name: str, **params: Any) -> FlowEstimator:
    """The estimator registered as ``name`` with ``params`` over its defaults."""
    built = build_params(name, params)  # imports the backend modules, or lists the valid names
    return FLOWS[name](built)
