"""Issue 24: a zero-row weight is refused before the first write; a header-only CSV gets a
message that makes sense."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sparsetopo.errors import InputError
from sparsetopo.ingest.importers import read_inputs


@pytest.mark.parametrize("shape", [(0, 5), (4, 0)])
def test_zero_size_weight_is_refused(tmp_path: Path, shape) -> None:
    state = {"a.weight": torch.randn(5, 3), "b.weight": torch.zeros(shape)}
    if shape[1] == 0:
        state = {"a.weight": torch.zeros(shape)}
    torch.save(state, tmp_path / "ckpt_1.pt")
    with pytest.raises(InputError) as err:
        read_inputs([tmp_path / "ckpt_1.pt"])
    text = str(err.value)
    assert "\n" not in text and "ckpt_1.pt" in text and ".weight" in text
    assert "row" in text


def test_header_only_csv(tmp_path: Path) -> None:
    path = tmp_path / "edge_list_weighted_0.csv"
    path.write_text("Id,Source,Target,Weight\n")
    with pytest.raises(InputError) as err:
        read_inputs([path])
    text = str(err.value)
    assert "n >= 0" not in text and "no edges" in text and "\n" not in text
