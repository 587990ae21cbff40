"""Synthetic evolving weights for the writer tests: large, sparse, with deaths, regrowth and
sign flips between snapshots."""

from __future__ import annotations

import numpy as np

from sparsetopo.topology import Architecture, LayerSpec

# fc1 holds > 250k entries (two WeightBlocks per snapshot); fc2 is small; rec is recurrent.
ARCH = Architecture(
    groups={"input": 600, "h": 500, "out": 10},
    layers=(
        LayerSpec("fc1", "input", "h", 600, 500, "linear", position=0),
        LayerSpec("fc2", "h", "out", 500, 10, "linear", position=1),
        LayerSpec("rec", "h", "h", 500, 500, "recurrent", position=2),
    ),
)
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
