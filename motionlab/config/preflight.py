"""Fail before any work when the command line does not fit the config tree.

Hydra already rejects an unknown key or group option, but says neither what would be valid nor
what was probably meant; this composes the overrides first and, on failure, lists the valid keys
at that place (and the closest one) or the valid options of the group.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from motionlab.core.errors import ConfigError
from motionlab.core.schema import suggest


def _conf_dir() -> Path:
    """The Hydra tree: ``conf/`` of the checkout (editable install, tests), else the copy a wheel
    ships as ``motionlab/conf`` (setup.py)."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "conf"
    return checkout if (checkout / "config.yaml").is_file() else package / "conf"


CONF_DIR = _conf_dir()


def _first_values(argv: list[str]) -> list[str]:
    """Command-line overrides with sweeps (``seed=0,1,2``) reduced to their first value."""
    out = []
    parser = OverridesParser.create()
    for arg in argv:
        if arg.startswith("-") or "=" not in arg or arg.lstrip("+~").startswith(("hydra.", "hydra/")):
            continue
        override = parser.parse_override(arg)
        if override.is_sweep_override():
            first = next(iter(override.sweep_string_iterator()))
            out.append(f"{override.get_key_element()}={first}")
        else:
            out.append(arg)
    return out


def compose_config(overrides: list[str]) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def explain(overrides: list[str], err: Exception) -> str:
    """Name the override that breaks composition and what would be valid there."""
    base = None
    for i, override in enumerate(overrides):
        try:
            compose_config(overrides[: i + 1])
        except (HydraException, OmegaConfBaseException):
            key = override.split("=", 1)[0].lstrip("+~")
            if "/" in key or "." not in key:
                return f"bad override {override!r}: {err}"
            base = base or compose_config(overrides[:i])
            parent, _, leaf = key.rpartition(".")
            node = OmegaConf.select(base, parent)
            if isinstance(node, DictConfig):
                return f"bad override {override!r}: {parent!r} has no key {leaf!r}; {suggest(leaf, list(node.keys()))}"
            top = list(base.keys())
            return f"bad override {override!r}: no config node {parent!r}; top-level keys: {sorted(top)}"
    return str(err)


def preflight(argv: list[str]) -> DictConfig | None:
    """Compose and validate; on a bad config print why and exit with status 2."""
    from motionlab.config.schemas import validate_groups
    from motionlab.pipeline import plan_pipeline

    overrides = _first_values(argv)
    try:
        cfg = compose_config(overrides)
    except (HydraException, OmegaConfBaseException) as err:
        print(f"motionlab: config error: {explain(overrides, err)}", file=sys.stderr)
        sys.exit(2)
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        print(f"motionlab: config error: required values not set: {missing}; set them on the command line "
              "(e.g. model.weights=/path/to/weights.pth) — the experiment's config file says what they are",
              file=sys.stderr)
        sys.exit(2)
    try:
        validate_groups(cfg)
        plan_pipeline(cfg)
    except (ConfigError, KeyError, ValueError) as err:
        print(f"motionlab: config error: {err}", file=sys.stderr)
        sys.exit(2)
    return cfg
