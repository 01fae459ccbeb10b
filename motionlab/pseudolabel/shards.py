"""Flow extraction past one machine: ``shard="I/N"`` computes the flow of clips ``i % N == I`` into
the shared flow cache and leaves a marker ``<cache>/shards/N/I.json``; the clustering run then
checks that a complete set of markers is there, and names the missing shards otherwise.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from motionlab.core.errors import ConfigError
from motionlab.core.io import atomic_write_text

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int] | None:
    """``"I/N"`` -> (I, N) with 0 <= I < N; ``""`` -> None (no sharding)."""
    if not text:
        return None
    match = _SHARD.match(text)
    if not match or not int(match.group(1)) < int(match.group(2)):
        raise ConfigError(f"shard must be 'I/N' with 0 <= I < N (e.g. shard=0/4), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def shard_indices(count: int, shard: tuple[int, int] | None) -> list[int]:
    """Clip indices of one shard (round robin, so shards get similar mixes of long and short videos)."""
    if shard is None:
        return list(range(count))
    index, total = shard
    return list(range(index, count, total))


def marker_path(cache_dir: Path, shard: tuple[int, int]) -> Path:
    return Path(cache_dir) / "shards" / str(shard[1]) / f"{shard[0]}.json"


def write_marker(cache_dir: Path, shard: tuple[int, int], info: dict[str, Any]) -> Path:
    path = marker_path(cache_dir, shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"shard": f"{shard[0]}/{shard[1]}", **info}, indent=2, default=str))
    return path


def missing_shards(cache_dir: Path) -> tuple[bool, list[str]]:
    """(whether any shard markers exist, the missing shards "I/N" of every incomplete N). When
    one N has all of its markers, nothing is missing."""
    root = Path(cache_dir) / "shards"
    totals = sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit()) if root.is_dir() else []
    missing: list[str] = []
    for total in totals:
        absent = [f"{i}/{total}" for i in range(total) if not (root / str(total) / f"{i}.json").is_file()]
        if not absent:
            return True, []
        missing += absent
    return bool(totals), missing
