"""Clean skips for tests that need an optional dependency (an extra of pyproject.toml)."""

from __future__ import annotations

from types import ModuleType

import pytest

#: The extra that installs each optional module the tests import.
EXTRA = {
    "torch": "train",
    "sklearn": "train",
    "matplotlib": "plots",
    "distributed": "dask",
    "networkx": "graphs",
    "igraph": "graphs",
    "transformers": "huggingface",
    "safetensors": "safetensors",
    "lightning": "lightning",
}


def requires(module: str) -> ModuleType:
    """Import ``module`` or skip the calling test module, naming the extra that installs it.

    Call it at module level before the imports that need the module (hence ``E402`` is off for
    tests): without the extra, collection skips the module instead of failing with an error.
    """
    extra = EXTRA.get(module.split(".")[0], "dev")
    return pytest.importorskip(
        module, reason=f"needs {module}: pip install -e '.[{extra}]' (or '.[all,dev]')"
    )
