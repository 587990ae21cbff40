"""Record (or check) the exact outputs of every sampler that runs on ``analysis/_kernels.py``, and
time the chains: the safety net of a refactor of the kernels that must not change behaviour.

    python benchmarks/kernels_golden.py --record /tmp/golden.npz   # before the change
    python benchmarks/kernels_golden.py --check /tmp/golden.npz    # after: bit-identical or exit 1

Fixed seeds; the uniform and sign nulls (keep_mutual, independent chains, signs travel and
shuffle), the dense complement path, the tracked and the bitset census (one- and multi-word
bitsets), signed graphs with self-loops, layer_switching / layer_census_samples and the Zahn null,
each on small and medium graphs. The record holds every sample's edges and weights and every
census row; the file is a scratch artefact (keep it out of the repository).

``--time`` also times the heavier chains (best of ``--repeat`` runs, seconds) and prints them,
so that the numbers before and after the change can be put side by side:

    python benchmarks/kernels_golden.py --time --json /tmp/before.json
    python benchmarks/kernels_golden.py --time --json /tmp/after.json --baseline /tmp/before.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sparsetopo.analysis import LayeredGraph, SignedGraph
from sparsetopo.analysis.nulls import (
    DirectedChain,
    layer_census_samples,
    layer_switching,
    layer_switching_samples,
    sign_shuffle,
    switching,
    switching_census_samples,
    switching_samples,
    zahn_null,
    zahn_samples,
)
from tests.support.graphs import load_zhang, random_graph


def _dense(n: int, p: float, seed: int) -> SignedGraph:
    rng = np.random.default_rng(seed)
    adj = rng.random((n, n)) < p
    np.fill_diagonal(adj, False)
    s, d = np.nonzero(adj)
    w = rng.choice([-1.0, 1.0], size=len(s)) * rng.uniform(0.1, 2.0, size=len(s))
    return SignedGraph.from_edges(s, d, w, n_nodes=n)


def _layered(sizes: tuple[int, ...], density: float, seed: int) -> LayeredGraph:
    rng = np.random.default_rng(seed)
    mats = [(rng.random((a, b)) < density) * rng.choice([-1.5, 0.5, 2.0], size=(a, b))
            for a, b in itertools.pairwise(sizes)]  # fmt: skip
    return LayeredGraph.from_matrices(mats)


def graphs() -> dict[str, SignedGraph]:
    return {
        "small": random_graph(12, 45, 3, self_loops=True),
        "sparse25": random_graph(25, 120, 4),
        "words2": random_graph(70, 400, 5),  # two 64-bit words per bitset
        "zhang": load_zhang("SET", 100),  # 150 nodes, three words
        "dense12": _dense(12, 0.8, 6),  # complement moves
        "dense40": _dense(40, 0.75, 7),
        "full6": _dense(6, 1.0, 8),  # complete: no move is ever accepted
    }


def layered() -> dict[str, LayeredGraph]:
    return {
        "l3": _layered((6, 5, 4), 0.35, 1),
        "l4": _layered((30, 70, 12, 5), 0.06, 2),
        "l5": _layered((70, 66, 20, 9, 3), 0.05, 3),
    }


def _graph_arrays(prefix: str, gs: Iterable[SignedGraph | LayeredGraph]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i, g in enumerate(gs):
        mats = g.layers if isinstance(g, LayeredGraph) else (g.adj,)
        for k, m in enumerate(mats):
            c = m.tocsr()
            c.sort_indices()
            out[f"{prefix}/{i}/{k}/indptr"] = c.indptr.astype(np.int64)
            out[f"{prefix}/{i}/{k}/indices"] = c.indices.astype(np.int64)
            out[f"{prefix}/{i}/{k}/data"] = c.data.astype(np.float64)
    return out


def _chain_arrays(prefix: str, chain: DirectedChain) -> dict[str, np.ndarray]:
    return {f"{prefix}/S": chain.S.copy(), f"{prefix}/dst": chain.dst.copy(),
            f"{prefix}/dstate": chain.dstate.copy(), f"{prefix}/beta": chain.beta.copy(),
            f"{prefix}/hist": chain.hist.copy()}  # fmt: skip


def record() -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, g in graphs().items():
        for km in (False, True):
            tag = f"{name}/km{int(km)}"
            for signs in ("travel", "shuffle"):
                out.update(_graph_arrays(f"{tag}/samples/{signs}",
                                         switching_samples(g, 5, seed=11, keep_mutual=km, signs=signs, thin=0.5)))  # fmt: skip
            out.update(_graph_arrays(f"{tag}/independent",
                                     switching_samples(g, 3, seed=12, keep_mutual=km, burn_in=2.0, independent=True)))  # fmt: skip
            out.update(_graph_arrays(f"{tag}/one", [switching(g, seed=13, keep_mutual=km)]))
            out[f"{tag}/tracked"] = switching_census_samples(g, 20, seed=14, keep_mutual=km, thin=0.5)
            chain = DirectedChain(g, km, False, np.random.default_rng(15))
            chain.burn(5.0)
            out[f"{tag}/bits"] = chain.bit_census_samples(20, 0.5, 0.0 if chain.dstate[0] == 0 else 0.5)
            out.update(_chain_arrays(f"{tag}/bitchain", chain))
            # the chain's own steps: accepted counts, tracking switched on mid-chain, reset
            chain = DirectedChain(g, km, False, np.random.default_rng(16))
            acc = [chain.advance(1.0) for _ in range(3)]
            chain.set_tracking(True)
            acc += [chain.advance(1.0) for _ in range(3)]
            out[f"{tag}/cnt_mid"] = chain.cnt.copy()
            out[f"{tag}/acc"] = np.array(acc, dtype=np.int64)
            chain.sample_weights()
            out.update(_chain_arrays(f"{tag}/stepchain", chain))
            chain.reset()
            out[f"{tag}/after_reset"] = chain.census_samples(5, 1.0)
        out.update(_graph_arrays(f"{name}/sign_shuffle", [sign_shuffle(g, seed=17)]))
    for name, lg in layered().items():
        out.update(_graph_arrays(f"{name}/layer", layer_switching_samples(lg, 4, seed=21, thin=0.5)))
        out.update(_graph_arrays(f"{name}/layer_shuffle",
                                 layer_switching_samples(lg, 3, seed=22, signs="shuffle", independent=True)))  # fmt: skip
        out.update(_graph_arrays(f"{name}/layer_one", [layer_switching(lg, seed=23)]))
        out[f"{name}/layer_census"] = layer_census_samples(lg, 10, seed=21, thin=0.5)
        out[f"{name}/layer_census_ind"] = layer_census_samples(lg, 4, seed=24, independent=True)
        out.update(_graph_arrays(f"{name}/zahn", zahn_samples(lg, 4, seed=25, thin=0.5)))
        out.update(_graph_arrays(f"{name}/zahn_ind", zahn_samples(lg, 3, seed=26, independent=True)))
        out.update(_graph_arrays(f"{name}/zahn_one", [zahn_null(lg, seed=27)]))
        out.update(_graph_arrays(f"{name}/sign_shuffle", [sign_shuffle(lg, seed=28)]))
    return out


def check(path: str) -> int:
    ref = dict(np.load(path))
    got = record()
    bad = sorted(k for k in set(ref) | set(got)
                 if k not in ref or k not in got or ref[k].dtype != got[k].dtype
                 or not np.array_equal(ref[k], got[k]))  # fmt: skip
    print(f"{len(got)} arrays compared, {len(bad)} differ")
    for k in bad[:20]:
        print("  differs:", k)
    return 1 if bad else 0


def timings(repeat: int) -> dict[str, float]:
    gs = graphs()
    zhang, dense = gs["zhang"], gs["dense40"]
    big_dense = _dense(120, 0.7, 9)
    lg = _layered((300, 300, 300, 100), 0.05, 4)

    def bits(g: SignedGraph, km: bool, n: int) -> Callable[[], object]:
        def run() -> object:
            c = DirectedChain(g, km, False, np.random.default_rng(0))
            c.burn(10.0)
            return c.bit_census_samples(n, 1.0, 0.0 if c.dstate[0] == 0 else 1.0)
        return run

    cases: dict[str, Callable[[], object]] = {
        "bits zhang150": bits(zhang, False, 3000),
        "bits zhang150 keep_mutual": bits(zhang, True, 1500),
        "bits dense120 (complement)": bits(big_dense, False, 600),
        "bits dense120 keep_mutual": bits(big_dense, True, 400),
        "tracked zhang150": lambda: switching_census_samples(zhang, 150, seed=0),
        "tracked zhang150 keep_mutual": lambda: switching_census_samples(zhang, 150, seed=0, keep_mutual=True),
        "tracked dense40 (complement)": lambda: switching_census_samples(dense, 1000, seed=0),
        "samples zhang150": lambda: list(switching_samples(zhang, 150, seed=0, thin=10.0)),
        "layer_census 300-300-300-100": lambda: layer_census_samples(lg, 100, seed=0),
        "zahn 300-300-300-100": lambda: list(zahn_samples(lg, 30, seed=0, thin=10.0)),
    }
    res: dict[str, float] = {}
    for name, fn in cases.items():
        fn()  # compile / load
        best = np.inf
        for _ in range(repeat):
            t0 = time.process_time()
            fn()
            best = min(best, time.process_time() - t0)
        res[name] = best
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--record")
    ap.add_argument("--check")
    ap.add_argument("--time", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json")
    ap.add_argument("--baseline")
    a = ap.parse_args()
    rc = 0
    if a.record:
        arrs = record()
        np.savez_compressed(a.record, **arrs)  # type: ignore[arg-type]
        print(f"recorded {len(arrs)} arrays in {a.record}")
    if a.check:
        rc = check(a.check)
    if a.time:
        res = timings(a.repeat)
        base = json.loads(Path(a.baseline).read_text()) if a.baseline else {}
        print(f"{'case':34s} {'CPU s':>8s}" + (f" {'before':>8s} {'ratio':>6s}" if base else ""))
        for k, v in res.items():
            line = f"{k:34s} {v:8.3f}"
            if k in base:
                line += f" {base[k]:8.3f} {v / base[k]:6.3f}"
            print(line)
        if a.json:
            Path(a.json).write_text(json.dumps(res, indent=1))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
