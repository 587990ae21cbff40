"""ModelGraph on feed-forward models: orientation, fx data flow, fallback, mapping, NaN."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch import nn

from sparsetopo.errors import InputError
from sparsetopo.ingest.extract import ModelGraph, matrix_edges


def _expected(weight_out_in: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = weight_out_in.detach().numpy()
    dst, src = np.nonzero(w)  # torch rows are targets
    order = np.lexsort((dst, src))
    return src[order], dst[order], w[dst[order], src[order]]


def test_sequential_stack_edges_match_torch_weights() -> None:
    first, second = nn.Linear(6, 5), nn.Linear(5, 3)
    net = nn.Sequential(first, nn.ReLU(), second)
    with torch.no_grad():
        first.weight[first.weight.abs() < 0.2] = 0.0
    graph = ModelGraph(net)
    arch = graph.architecture
    assert arch.groups == {"input": 6, "0": 5, "2": 3}
    assert [
        (s.name, s.src_group, s.dst_group, s.n_in, s.n_out, s.position) for s in arch.layers
    ] == [
        ("0.weight", "input", "0", 6, 5, 0),
        ("2.weight", "0", "2", 5, 3, 1),
    ]
    snap = graph.snapshot(step=7, epoch=2, metrics={"loss": 0.5})
    assert (snap.step, snap.epoch, snap.metrics) == (7, 2, {"loss": 0.5})
    for name, module in (("0.weight", first), ("2.weight", second)):
        src, dst, w = _expected(module.weight)
        e = snap.layers[name]
        np.testing.assert_array_equal(e.src, src)
        np.testing.assert_array_equal(e.dst, dst)
        np.testing.assert_array_equal(e.w, w)
    assert snap.layers["0.weight"].w.size == int(torch.count_nonzero(first.weight))
    # biases are never edges
    assert snap.n_edges == int(torch.count_nonzero(first.weight)) + 15


def test_capture_is_a_copy_in_n_in_by_n_out_layout() -> None:
    lin = nn.Linear(4, 3)
    graph = ModelGraph(nn.Sequential(lin))
    cap = graph.capture()
    m = cap["0.weight"]
    assert m.shape == (4, 3) and m.dtype == np.float32
    np.testing.assert_array_equal(m, lin.weight.detach().numpy().T)
    with torch.no_grad():
        lin.weight.add_(1.0)
    assert not np.array_equal(m, lin.weight.detach().numpy().T)


class SkipNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.fc2 = nn.Linear(6, 3)
        self.fc_skip = nn.Linear(4, 3)
        self.head = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc2(torch.relu(self.fc1(x))) + self.fc_skip(x)
        return self.head(torch.relu(y))


def test_fx_skip_connection_reads_input() -> None:
    arch = ModelGraph(SkipNet()).architecture
    spec = {s.name: s for s in arch.layers}
    assert spec["fc_skip.weight"].src_group == "input"
    assert spec["fc1.weight"].src_group == "input"
    # the sum makes fc2 and fc_skip write the same units, which the head reads
    assert spec["fc_skip.weight"].dst_group == spec["fc2.weight"].dst_group
    assert spec["head.weight"].src_group == spec["fc2.weight"].dst_group
    assert [s.position for s in arch.layers] == list(range(4))


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 5)
        self.head = nn.Linear(5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(x)
        return self.head(h + torch.relu(self.fc2(h)))


def test_identity_residual_is_one_group() -> None:
    # h + f(h): f writes the very units it reads (the residual stream), so its matrix is a
    # layer from the stream to itself (docs/ingest-formats.md, graph rules)
    spec = {s.name: s for s in ModelGraph(Residual()).architecture.layers}
    assert (spec["fc2.weight"].src_group, spec["fc2.weight"].dst_group) == ("fc1", "fc1")
    assert spec["head.weight"].src_group == "fc1"


class Dynamic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 5)
        self.b = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:  # data-dependent: fx cannot trace this
            return self.b(self.a(x))
        return self.b(self.a(-x))


def test_untraceable_model_falls_back_with_warning() -> None:
    with pytest.warns(UserWarning, match="registration order"):
        arch = ModelGraph(Dynamic()).architecture
    assert [(s.src_group, s.dst_group) for s in arch.layers] == [("input", "a"), ("a", "b")]
    with pytest.warns(UserWarning, match="execution order"):
        ModelGraph(Dynamic(), example_input=torch.randn(2, 4))


class Custom(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(3, 4))
        self.b = nn.Parameter(torch.randn(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w.t() + self.b


def test_custom_parameter_used_as_a_matrix_is_a_layer() -> None:
    spec = {s.name: s for s in ModelGraph(Custom()).architecture.layers}
    assert (spec["w"].src_group, spec["w"].n_in, spec["w"].n_out) == ("input", 4, 3)
    assert "b" not in spec  # a bias: a vector, no edges


class Einsum(Custom):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bi,oi->bo", x, self.w)


def test_unmappable_parameter_use_names_it_and_the_fix() -> None:
    with pytest.raises(InputError, match=r"parameter 'w' is used by 'einsum'.*layers=.*mapping"):
        ModelGraph(Einsum())


def test_mapping_out_in_in_out_and_bias() -> None:
    model = Custom()
    g = ModelGraph(model, mapping={"w": ("input", "out"), "b": ("bias", "out", "custom")})
    spec = {s.name: s for s in g.architecture.layers}
    assert (spec["w"].n_in, spec["w"].n_out, spec["w"].kind) == (4, 3, "custom")
    assert (spec["b"].n_in, spec["b"].n_out) == (1, 3)
    cap = g.capture()
    np.testing.assert_array_equal(cap["w"], model.w.detach().numpy().T)
    np.testing.assert_array_equal(cap["b"][0], model.b.detach().numpy())
    g2 = ModelGraph(model, mapping={"w": {"src": "a", "dst": "b", "layout": "in_out"}})
    assert g2.architecture.layers[0].n_in == 3
    np.testing.assert_array_equal(g2.capture()["w"], model.w.detach().numpy())


def test_mapping_unknown_parameter_lists_parameters() -> None:
    with pytest.raises(InputError) as err:
        ModelGraph(Custom(), mapping={"nope.weight": ("a", "b")})
    assert "nope.weight" in str(err.value) and "w, b" in str(err.value)


def test_mapping_rejects_bad_group_names() -> None:
    with pytest.raises(InputError, match="non-printable"):
        ModelGraph(Custom(), mapping={"w": ("in\nput", "b")})
    with pytest.raises(InputError, match="200"):
        ModelGraph(Custom(), mapping={"w": ("x" * 201, "b")})
    # quotes and Cypher-looking text are fine as data
    g = ModelGraph(Custom(), mapping={"w": ("a'`) DETACH DELETE n //", "b")})
    assert "a'`) DETACH DELETE n //" in g.architecture.groups


def test_nonfinite_weights_raise_or_are_dropped_and_counted() -> None:
    lin = nn.Linear(3, 2)
    net = nn.Sequential(lin)
    with torch.no_grad():
        lin.weight[0, 1] = float("nan")
        lin.weight[1, 2] = float("inf")
    g = ModelGraph(net)
    with pytest.raises(InputError, match="allow_nonfinite"):
        g.snapshot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snap = g.snapshot(allow_nonfinite=True)
    assert g.last_dropped_nonfinite == 2 and snap.metrics["nonfinite_dropped"] == 2
    assert snap.n_edges == 4
    edges, dropped = g.edges(g.capture(), allow_nonfinite=True)
    assert dropped == 2 and len(edges["0.weight"]) == 4


def test_matrix_edges_sorted_by_src_then_dst() -> None:
    m = np.zeros((4, 4), dtype=np.float32)
    m[3, 0], m[0, 3], m[0, 1], m[2, 2] = 1, 2, 3, 4
    e, _ = matrix_edges(np.asfortranarray(m))
    assert list(zip(e.src.tolist(), e.dst.tolist(), strict=True)) == [
        (0, 1),
        (0, 3),
        (2, 2),
        (3, 0),
    ]
