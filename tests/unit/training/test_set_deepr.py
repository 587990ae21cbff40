"""SET keeps the edge count and removes exactly the weights it should; Deep R never flips a sign."""

import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch import nn

from sparsetopo.training.loop import Trainer
from sparsetopo.training.models import Target, sparsifiable
from sparsetopo.training.sparsify import TrainingPlan, build_strategy
from sparsetopo.training.sparsify.base import mask_of, orig_of
from sparsetopo.training.sparsify.deepr import DeepR
from sparsetopo.training.sparsify.set_evolution import erdos_renyi_density, set_removal


def test_erdos_renyi_density_formula() -> None:
    assert erdos_renyi_density(784, 300, 20) == pytest.approx(20 * 1084 / (784 * 300))
    assert erdos_renyi_density(4, 4, 20) == 1.0


def test_set_removal_hand_example() -> None:
    w = torch.tensor([[0.5, 0.1, -0.2, -0.9, 0.001], [0.3, -0.05, 0.7, -0.4, -0.01]])
    present = torch.ones_like(w, dtype=torch.bool)
    present[0, 4] = False  # absent entries are never "removed"
    present[1, 4] = False
    removed = set_removal(w, present, 0.5)
    # positives 0.5, 0.1, 0.3, 0.7 -> floor(2) smallest: 0.1, 0.3
    # negatives -0.2, -0.9, -0.05, -0.4 -> floor(2) closest to zero: -0.05, -0.2
    expected = torch.zeros_like(present)
    expected[0, 1] = expected[1, 0] = expected[1, 1] = expected[0, 2] = True
    assert torch.equal(removed, expected)


def test_set_initial_counts() -> None:
    torch.manual_seed(0)
    lin = nn.Linear(50, 40)
    t = Target(lin, "weight", "fc.weight")
    strat = build_strategy("set", 0.0, options={"eps": 5})
    strat.attach([t], TrainingPlan(epochs=3, steps_per_epoch=1, lr=1e-3))
    assert strat.n_edges() == round(5 * 90 / 2000 * 2000)  # eps (n_in + n_out) edges
    strat2 = build_strategy("set", 0.95)
    strat2.attach([Target(nn.Linear(50, 40), "weight", "x")], TrainingPlan(3, 1, 1e-3))
    assert strat2.n_edges() == 100


def test_set_evolution_is_exact_and_count_preserving() -> None:
    torch.manual_seed(1)
    lin = nn.Linear(30, 30)
    t = Target(lin, "weight", "fc.weight")
    strat = build_strategy("set", 0.8, options={"zeta": 0.3})
    strat.attach([t], TrainingPlan(epochs=5, steps_per_epoch=1, lr=1e-3))
    n0 = strat.n_edges()
    for epoch in range(1, 5):
        w = orig_of(t).detach().clone()
        before = mask_of(t).bool().clone()
        n_pos = int((before & (w >= 0)).sum())
        n_neg = int((before & (w < 0)).sum())
        strat.on_epoch_end(epoch)
        after = mask_of(t).bool()
        removed = before & ~after
        grown = after & ~before
        assert strat.n_edges() == n0
        assert int(removed.sum()) == int(0.3 * n_pos) + int(0.3 * n_neg)
        assert torch.equal(removed, set_removal(w, before, 0.3))
        # every removed positive is smaller than every kept positive; likewise negatives
        kept = before & ~removed
        assert w[removed & (w >= 0)].max() <= w[kept & (w >= 0)].min()
        assert w[removed & (w < 0)].min() >= w[kept & (w < 0)].max()
        assert not (grown & before).any()
        assert orig_of(t).detach()[grown].abs().max() < 0.1
    strat.on_epoch_end(5)  # last epoch: no evolution
    assert strat.n_edges() == n0


def test_deepr_never_flips_a_sign_and_keeps_the_count() -> None:
    trainer = Trainer(
        "seq-digits", "rnn", "deepr", sparsity=0.8, epochs=1, hidden=16, seed=3, lr=0.02,
        strategy_options={"alpha": 0.05, "temperature": 1e-4},
    )
    strat = trainer.strategy
    assert isinstance(strat, DeepR)
    target = trainer.targets[0]
    signs = strat.signs[target.label].clone()
    n0 = strat.n_edges()
    seen: list[int] = []
    original = strat.after_step

    def checked(step: int) -> None:
        original(step)
        w = orig_of(target).detach() * mask_of(target)
        nz = w != 0
        assert torch.equal(torch.sign(w[nz]), signs[nz]), step
        assert strat.n_edges() == n0
        seen.append(step)

    strat.after_step = checked  # type: ignore[method-assign]
    trainer.run()
    assert len(seen) == trainer.steps_per_epoch
    assert strat.rewired > 0  # the test exercised rewiring, not just a frozen mask
    assert torch.equal(strat.signs[target.label], signs)


def test_sparsifiable_scopes() -> None:
    from sparsetopo.training.models import build_model

    gru = build_model("gru", 3, 8, 2)
    rec = sparsifiable(gru)
    assert [t.label for t in rec] == ["rnn.weight_hh_l0"] and rec[0].blocks == 3
    assert {t.label for t in sparsifiable(gru, "all")} == {
        "rnn.weight_ih_l0", "rnn.weight_hh_l0", "readout.weight"}
    ct = build_model("ctrnn", 3, 8, 2)
    assert [t.label for t in sparsifiable(ct)] == ["rnn.weight_hh_l0"]
    mlp = build_model("mlp", 3, 8, 2)
    assert [t.label for t in sparsifiable(mlp)] == ["fc1.weight", "fc2.weight", "readout.weight"]


def test_extractor_sees_the_recurrent_matrix_of_every_builtin_model() -> None:
    extract = pytest.importorskip("sparsetopo.ingest.extract")
    from sparsetopo.training.models import build_model

    for name in ("rnn", "ctrnn", "gru", "lstm"):
        model = build_model(name, 3, 8, 2)
        targets = sparsifiable(model)
        build_strategy("set", 0.5).attach(targets, TrainingPlan(1, 1, 1e-3))
        graph = extract.ModelGraph(model)
        kinds = {s.kind for s in graph.architecture.layers}
        assert "recurrent" in kinds, name
        rec = [s for s in graph.architecture.layers if s.kind == "recurrent"]
        assert all(s.src_group == s.dst_group for s in rec)
        # the extractor reads the masked matrix: half of 64 entries per gate block
        snap = graph.snapshot(step=0)
        assert sum(len(snap.layers[s.name]) for s in rec) == len(rec) * 32, name
