"""Config validation that fails before any work, naming the valid keys and the closest match:
a node merged onto a dataclass schema (every stage's ``Params``, the trainer and model groups,
every dataset reader's config)."""

from __future__ import annotations

import difflib
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, ValidationError

from motionlab.core.errors import ConfigError


def suggest(bad: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(bad, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"valid keys: {sorted(valid)}.{hint}"


def validate_node(schema: type, node: Any, where: str) -> DictConfig:
    """Merge ``node`` onto the dataclass ``schema``: unknown keys and wrongly typed values raise a
    ConfigError that names ``where``, the bad key and the valid ones."""
    base = OmegaConf.structured(schema)
    if OmegaConf.is_config(node):  # resolve interpolations (``${schedule.lr}``) against the full config
        node = OmegaConf.to_container(node, resolve=True)
    try:
        merged = OmegaConf.merge(base, node)
    except ConfigKeyError as err:
        key = str(getattr(err, "key", "") or "")
        valid = list(base.keys())
        raise ConfigError(f"{where}: unknown key {key!r}; {suggest(key, valid)}") from None
    except ValidationError as err:
        raise ConfigError(f"{where}: {err.msg}") from None
    missing = OmegaConf.missing_keys(merged)
    if missing:
        raise ConfigError(f"{where}: required keys not set: {sorted(missing)}")
    return merged
