"""Synthetic evolving weights for the writer tests: large, sparse, with deaths, regrowth and
sign flips between snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from sparsetopo.topology import Architecture, LayerSpec

# fc1 holds ~27k entries: with the writer's weight block shrunk to BLOCK (see small_blocks) it
# spans two WeightBlocks per snapshot, as a 250k-entry layer does at the real block size.
# fc2 is small; rec is recurrent.
ARCH = Architecture(
    groups={"input": 200, "h": 150, "out": 10},
    layers=(
        LayerSpec("fc1", "input", "h", 200, 150, "linear", position=0),
        LayerSpec("fc2", "h", "out", 150, 10, "linear", position=1),
        LayerSpec("rec", "h", "h", 150, 150, "recurrent", position=2),
    ),
)
BLOCK = 16_000
DENSITY = {"fc1": 0.9, "fc2": 0.5, "rec": 0.05}


def evolving(seed: int, count: int) -> list[dict[str, np.ndarray]]:
    """Weights that lose 5% of their edges, regrow some (also edges that died just before),
    flip 2% of their signs and drift, per snapshot; float32."""
    rng = np.random.default_rng(seed)
    w = {s.name: (rng.random((s.n_in, s.n_out)) < DENSITY[s.name])
         * rng.normal(size=(s.n_in, s.n_out)) for s in ARCH.layers}
    out = []
    died: dict[str, np.ndarray] = {}
    for _ in range(count):
        out.append({k: v.astype(np.float32) for k, v in w.items()})
        nxt = {}
        for name, m in w.items():
            m = m.copy()
            if name in died:  # regrow half of the edges that died at the previous snapshot
                back = died[name] & (rng.random(m.shape) < 0.5)
                m[back] = rng.normal(size=int(back.sum()))
            kill = (m != 0) & (rng.random(m.shape) < 0.05)
            m[kill] = 0
            died[name] = kill
            flip = rng.random(m.shape) < 0.02
            m[flip] = -m[flip]
            m *= 1 + 0.01 * rng.normal(size=m.shape)
            nxt[name] = m
        w = nxt
    return out


@contextmanager
def small_blocks() -> Iterator[int]:
    """The writer's WeightBlock size shrunk to BLOCK for the duration: multi-block layers
    without writing (and reading back) a quarter of a million edges per snapshot."""
    import sparsetopo.graphstore.writer as writer_module

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer_module, "WEIGHT_BLOCK", BLOCK)
        yield BLOCK
