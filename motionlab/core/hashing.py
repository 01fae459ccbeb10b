"""The one hash that keys artifacts and caches: of a JSON-able object, independent of dict order."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def config_hash(obj: Any) -> str:
    """Stable 16-hex-digit hash of a JSON-able object (dict order does not matter)."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
