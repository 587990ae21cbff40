"""Graph rules for embeddings, attention, gated MLPs, residual streams and tied weights, checked
on hand-built weights whose edges are known (docs/ingest-formats.md, "Graph rules")."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sparsetopo.errors import InputError
from sparsetopo.ingest.extract import ModelGraph, expansion_matrix


def _specs(graph: ModelGraph) -> dict:
    return {s.name: s for s in graph.architecture.layers}


class TokenModel(nn.Module):
    """Token + position embedding, a residual MLP and a tied LM head."""

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(5, 3)
        self.pos = nn.Embedding(4, 3)
        self.fc = nn.Linear(3, 3)
        self.head = nn.Linear(3, 5, bias=False)
        self.head.weight = self.tok.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
        x = x + torch.relu(self.fc(x))
        return self.head(x)


def test_token_embedding_is_a_layer_from_the_vocabulary_and_position_carries_none() -> None:
    model = TokenModel()
    w = torch.zeros(5, 3)
    w[0, 1], w[3, 2], w[4, 0] = 0.5, -2.0, 1.5
    with torch.no_grad():
        model.tok.weight.copy_(w)
    graph = ModelGraph(model)
    spec = _specs(graph)
    assert "pos.weight" not in spec
    emb = spec["tok.weight"]
    assert (emb.src_group, emb.dst_group, emb.n_in, emb.n_out, emb.kind) == (
        "input", "tok", 5, 3, "embedding")
    assert graph.architecture.groups["input"] == 5  # one unit per vocabulary entry
    edges = graph.snapshot().layers["tok.weight"]
    # one-hot token v times W: edge v -> j with weight W[v, j], exactly the nonzeros
    assert list(zip(edges.src.tolist(), edges.dst.tolist(), edges.w.tolist(), strict=True)) == [
        (0, 1, 0.5), (3, 2, -2.0), (4, 0, 1.5)]


def test_residual_stream_is_one_group_and_tied_head_is_marked() -> None:
    graph = ModelGraph(TokenModel())
    spec = _specs(graph)
    assert (spec["fc.weight"].src_group, spec["fc.weight"].dst_group) == ("tok", "tok")
    head = spec["head.weight"]
    assert (head.src_group, head.dst_group, head.tied_to) == ("tok", "head", "tok.weight")
    snap = graph.snapshot()
    # stored once per use: the head's edges are the transposed embedding
    np.testing.assert_array_equal(snap.layers["head.weight"].to_dense(3, 5),
                                  snap.layers["tok.weight"].to_dense(5, 3).T)


class MHABlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(4, 2, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.attn(x, x, x, need_weights=False)[0]


def test_packed_in_proj_is_split_into_q_k_v_and_out_proj_reads_v() -> None:
    model = MHABlock()
    w = torch.arange(1.0, 49.0).reshape(12, 4)
    with torch.no_grad():
        model.attn.in_proj_weight.copy_(w)
    graph = ModelGraph(model)
    spec = _specs(graph)
    q, k, v = (spec[f"attn.in_proj_weight.{r}"] for r in "qkv")
    assert [(s.src_group, s.dst_group, s.role) for s in (q, k, v)] == [
        ("input", "attn.q", "q"), ("input", "attn.k", "k"), ("input", "attn.v", "v")]
    out = spec["attn.out_proj.weight"]
    # attention mixes positions, not features: output feature j is built from value feature j
    assert (out.src_group, out.dst_group, out.role) == ("attn.v", "input", "o")
    snap = graph.snapshot()
    for i, s in enumerate((q, k, v)):
        np.testing.assert_array_equal(snap.layers[s.name].to_dense(4, 4),
                                      w[4 * i: 4 * (i + 1)].numpy().T)


def test_grouped_query_expansion_feeds_every_head_sharing_a_value_feature() -> None:
    # 2 kv heads, 4 query heads, head_dim 2: kv head 0 feeds heads 0, 1; kv head 1 heads 2, 3
    m = expansion_matrix(4, 8, 2)
    expected = np.zeros((4, 8))
    for head in range(4):
        for d in range(2):
            expected[(head // 2) * 2 + d, head * 2 + d] = 1
    np.testing.assert_array_equal(m, expected)


class PackedInOut(nn.Module):
    """GPT-2 style: one (in, 3 * out) matrix through addmm, split into q, k, v, grouped-query
    style value sharing through sdpa."""

    def __init__(self) -> None:
        super().__init__()
        self.c_attn = nn.Parameter(torch.zeros(4, 12))
        self.c_proj = nn.Linear(4, 4, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        qkv = torch.addmm(torch.zeros(12), x.reshape(-1, d), self.c_attn).reshape(b, t, 12)
        q, k, v = qkv.split(4, dim=2)
        q, k, v = (z.reshape(b, t, 2, 2).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v)
        return x + self.c_proj(y.transpose(1, 2).reshape(b, t, d))


def test_in_out_packed_projection_is_split_by_columns() -> None:
    model = PackedInOut()
    w = torch.zeros(4, 12)
    w[1, 0], w[2, 5], w[3, 11] = 1.0, -1.0, 2.0  # one edge each in q, k, v
    with torch.no_grad():
        model.c_attn.copy_(w)
    graph = ModelGraph(model, example_input=torch.randn(1, 3, 4))
    spec = _specs(graph)
    assert [spec[f"c_attn.{r}"].dst_group for r in "qkv"] == ["c_attn.q", "c_attn.k", "c_attn.v"]
    assert spec["c_proj.weight"].src_group == "c_attn.v"
    assert spec["c_proj.weight"].dst_group == "input"
    snap = graph.snapshot()
    got = {r: list(zip(snap.layers[f"c_attn.{r}"].src.tolist(),
                       snap.layers[f"c_attn.{r}"].dst.tolist(), strict=True)) for r in "qkv"}
    assert got == {"q": [(1, 0)], "k": [(2, 1)], "v": [(3, 3)]}


class SwiGLU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gate = nn.Linear(4, 6, bias=False)
        self.up = nn.Linear(4, 6, bias=False)
        self.down = nn.Linear(6, 4, bias=False)
        self.scale = nn.Parameter(torch.ones(4))  # an RMSNorm-like element-wise scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x * self.scale
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def test_gated_mlp_is_one_group_read_by_down() -> None:
    spec = _specs(ModelGraph(SwiGLU()))
    assert spec["gate.weight"].dst_group == spec["up.weight"].dst_group == "gate"
    assert (spec["down.weight"].src_group, spec["down.weight"].dst_group) == ("gate", "input")
    assert [spec[n].role for n in ("gate.weight", "up.weight", "down.weight")] == [
        "gate", "up", "down"]
    assert len(spec) == 3  # the element-wise scale carries no edges


def test_layers_selects_a_subset_and_bad_globs_name_valid_layers() -> None:
    graph = ModelGraph(SwiGLU(), layers=["gate.*", "down.weight"])
    assert [s.name for s in graph.architecture.layers] == ["gate.weight", "down.weight"]
    assert set(graph.snapshot().layers) == {"gate.weight", "down.weight"}
    with pytest.raises(InputError, match=r"'nope\*' matches no layer.*gate.weight"):
        ModelGraph(SwiGLU(), layers=["nope*"])


def test_depthwise_conv_is_block_diagonal() -> None:
    conv = nn.Conv2d(4, 4, 3, groups=4, bias=False)
    model = nn.Sequential(nn.Conv2d(2, 4, 1), conv)
    dense = ModelGraph(model).snapshot().layers["1.weight"].to_dense(4, 4)
    assert np.count_nonzero(dense - np.diag(np.diag(dense))) == 0


class DirectParams(nn.Module):
    """Parameters used directly in forward: x @ W.t() (torch layout) and x @ V ((in, out))."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(5, 4))
        self.v = nn.Parameter(torch.zeros(5, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ self.w.t()) @ self.v


def test_parameters_used_directly_keep_their_orientation() -> None:
    model = DirectParams()
    with torch.no_grad():
        model.w[3, 1] = 2.0  # torch layout: output 3 reads input 1
        model.v[4, 0] = -1.0  # (in, out): input 4 feeds output 0
    graph = ModelGraph(model)
    spec = _specs(graph)
    assert (spec["w"].n_in, spec["w"].n_out, spec["v"].src_group) == (4, 5, "w")
    snap = graph.snapshot()
    assert (snap.layers["w"].src.tolist(), snap.layers["w"].dst.tolist()) == ([1], [3])
    assert (snap.layers["v"].src.tolist(), snap.layers["v"].dst.tolist()) == ([4], [0])
