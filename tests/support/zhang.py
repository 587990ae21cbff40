"""The Zhang et al. 2023 SET run (150 hidden neurons, W_rec) written into a store, and the
brute-force FFL balance it is checked against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec
from tests.support.data import ZHANG

SET_DIR = ZHANG / "SET_n_150_p_0.05_zeta_0.2"
EPOCHS = (0, 5, 10, 15, 20, 25)
ARCH = Architecture({"hidden": 150},
                    (LayerSpec("W_rec", "hidden", "hidden", 150, 150, "recurrent"),))


def load(epoch: int) -> pd.DataFrame:
    return pd.read_csv(SET_DIR / f"edge_list_weighted_{epoch}.csv")


def write(driver, name: str, epochs, step_offset: int = 0) -> None:
    writer = RunWriter(driver, name, ARCH)
    for e in epochs:
        df = load(e)
        writer.write(GraphSnapshot({"W_rec": LayerEdges(df.Source.values, df.Target.values,
                                                        df.Weight.values)}, step=e + step_offset))
    writer.finish()


def brute_ffl_balance(df: pd.DataFrame) -> tuple[int, int]:
    """(balanced, total) FFLs i->j, j->k, i->k on distinct nodes, by enumeration."""
    sign = {(int(s), int(t)): np.sign(w) for s, t, w in zip(df.Source, df.Target, df.Weight, strict=False)
            if s != t}
    out: dict[int, list[int]] = {}
    for s, t in sign:
        out.setdefault(s, []).append(t)
    bal = tot = 0
    for i, js in out.items():
        for j in js:
            for k in out.get(j, []):
                if k != i and (i, k) in sign:
                    tot += 1
                    bal += sign[(i, j)] * sign[(j, k)] * sign[(i, k)] > 0
    return bal, tot
