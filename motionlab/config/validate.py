"""The config package's validation API (the implementation is the base layer's, which every layer
may import): ConfigError, ``suggest``, ``validate_node``."""

from motionlab.core.errors import ConfigError
from motionlab.core.schema import suggest, validate_node

__all__ = ["ConfigError", "suggest", "validate_node"]
