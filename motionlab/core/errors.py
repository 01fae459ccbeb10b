"""The two error types a user can fix: both carry a one-line message that names the file or key and
says how to fix it, which ``motionlab`` prints without a traceback."""

from __future__ import annotations


class ConfigError(ValueError):
    """A config value or combination that cannot work; the message names the key and the valid ones."""


class DataError(RuntimeError):
    """Bad input data: the message names the file and says how to fix it."""
