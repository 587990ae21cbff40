"""Unknown names are InputErrors that list the valid ones (the CLI prints them in one line)."""

from __future__ import annotations

import pytest

from sparsetopo.errors import InputError, UnknownNameError
from sparsetopo.topology import Architecture, LayerSpec


def test_unknown_layer_names_the_layers() -> None:
    arch = Architecture({"h": 3, "o": 2}, (LayerSpec("W_rec", "h", "h", 3, 3, "recurrent"),
                                           LayerSpec("W_out", "h", "o", 3, 2)))
    assert arch.layer("W_out").n_out == 2
    with pytest.raises(InputError) as exc:
        arch.layer("bogus")
    assert isinstance(exc.value, UnknownNameError) and isinstance(exc.value, KeyError)
    assert str(exc.value) == "unknown layer 'bogus'; this run has the layers W_rec, W_out"
