"""The annealer raises FFL balance (checked with the analysis layer) while keeping every node's
out-degree and each source's signs; its incremental counts match a brute-force recount."""

import itertools

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from sparsetopo.analysis import balance, graphs
from sparsetopo.training.loop import Trainer
from sparsetopo.training.sparsify.balance_anneal import (
    FFLBookkeeper,
    anneal_balance,
    random_signed_digraph,
)
from sparsetopo.training.sparsify.balanced import BalancedTopology
from sparsetopo.training.sparsify.base import mask_of, orig_of


def brute_ffl(n: int, src: np.ndarray, dst: np.ndarray, sign: np.ndarray) -> tuple[int, int]:
    w = {(int(a), int(b)): int(s) for a, b, s in zip(src, dst, sign, strict=True)}
    total = bal = 0
    for i, j, k in itertools.permutations(range(n), 3):
        if (i, j) in w and (j, k) in w and (i, k) in w:
            total += 1
            bal += w[i, j] * w[j, k] * w[i, k] > 0
    return total, bal


def test_bookkeeping_matches_brute_force_after_swaps() -> None:
    rng = np.random.default_rng(5)
    src, dst, sign = random_signed_digraph(12, 50, rng)
    res = anneal_balance(src, dst, sign, 12, 1.0, rng, max_iters=300)
    book = FFLBookkeeper(12, res.src, res.dst, res.sign)
    assert (book.total, book.balanced) == brute_ffl(12, res.src, res.dst, res.sign)
    assert res.accepted > 0


@pytest.mark.parametrize("dale", [False, True])
def test_annealer_raises_balance_and_preserves_degrees_and_signs(dale: bool) -> None:
    rng = np.random.default_rng(0)
    n, m = 40, 300
    src, dst, sign = random_signed_digraph(n, m, rng, dale=dale)
    res = anneal_balance(src, dst, sign, n, 0.85, rng)

    def ratio(s: np.ndarray, d: np.ndarray, g: np.ndarray) -> float:
        graph = graphs.SignedGraph.from_edges(s, d, g.astype(float), n_nodes=n)
        return float(balance.ffl_balance(graph, mode="pooled").ratio)

    before, after = ratio(src, dst, sign), ratio(res.src, res.dst, res.sign)
    assert before < 0.7
    assert after >= 0.85 and after == pytest.approx(res.ratio)
    assert np.array_equal(np.bincount(res.src, minlength=n), np.bincount(src, minlength=n))
    assert np.array_equal(np.bincount(res.dst, minlength=n), np.bincount(dst, minlength=n))
    for node in range(n):
        assert sorted(res.sign[res.src == node]) == sorted(sign[src == node])
    assert not np.any(res.src == res.dst)
    assert len(set(zip(res.src.tolist(), res.dst.tolist(), strict=True))) == m


@pytest.mark.slow  # ~3 s of training
def test_balanced_strategy_builds_the_annealed_topology() -> None:
    trainer = Trainer("seq-digits", "rnn", "balanced", sparsity=0.85, epochs=1, hidden=20,
                      strategy_options={"target_balance": 0.8})
    strat = trainer.strategy
    assert isinstance(strat, BalancedTopology)
    res = strat.results["rnn.weight_hh_l0"]
    w = (orig_of(trainer.targets[0]) * mask_of(trainer.targets[0])).detach()
    assert int(torch.count_nonzero(w)) == 400 - 340
    # graph edge i->j is torch entry [j, i]; its initial weight carries the annealed sign
    assert torch.equal(torch.sign(w[res.dst, res.src]), torch.tensor(res.sign, dtype=w.dtype))
    assert res.ratio >= 0.8
    trainer.run()
    assert strat.n_edges() == 60
