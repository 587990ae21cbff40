"""Configuration from the environment, in one place.

Every setting sparsetopo reads from the environment is read here, when asked for (so a changed
environment is seen); the precedence of environment, settings file and defaults is documented in
docs/configuration.md.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_home"]


def cache_home() -> Path:
    """Return sparsetopo's cache folder: ``$XDG_CACHE_HOME/sparsetopo`` or ``~/.cache/sparsetopo``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sparsetopo"
