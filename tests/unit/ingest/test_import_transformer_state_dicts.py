"""The graph rules applied to state-dict files (issue 21): hand-built state dicts whose right
edges are known, the rules that need the model refused in one line before anything is read
further, and tiny Hugging Face models importing exactly as their live ModelGraph."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from sparsetopo.errors import InputError
from sparsetopo.ingest.importers import read_inputs

E, VOCAB, FF = 4, 5, 6


def rand(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(*shape, generator=g)
    return t * (torch.rand(*shape, generator=g) < 0.6)  # sparse: zeros are no edges


def save(tmp_path: Path, state: dict, name: str = "model.pt") -> Path:
    path = tmp_path / name
    torch.save(state, path)
    return path


def layers_of(path: Path):
    plan = read_inputs([path])
    snap = plan.load(plan.items[0])
    return plan.architecture, snap


def dense(snap, arch, name: str) -> np.ndarray:
    spec = arch.layer(name)
    return snap.layers[name].to_dense(spec.n_in, spec.n_out)


def mha_encoder_state() -> OrderedDict:
    """nn.Embedding -> one nn.TransformerEncoderLayer -> Linear head, by hand."""
    return OrderedDict([
        ("emb.weight", rand(VOCAB, E, seed=1)),
        ("enc.layers.0.self_attn.in_proj_weight", rand(3 * E, E, seed=2)),
        ("enc.layers.0.self_attn.in_proj_bias", rand(3 * E, seed=3)),
        ("enc.layers.0.self_attn.out_proj.weight", rand(E, E, seed=4)),
        ("enc.layers.0.self_attn.out_proj.bias", rand(E, seed=5)),
        ("enc.layers.0.linear1.weight", rand(FF, E, seed=6)),
        ("enc.layers.0.linear2.weight", rand(E, FF, seed=7)),
        ("enc.layers.0.norm1.weight", torch.ones(E)),
        ("enc.layers.0.norm1.bias", torch.zeros(E)),
        ("head.weight", rand(3, E, seed=8)),
    ])


def test_packed_in_proj_weight_is_split_and_out_proj_reads_v(tmp_path):
    state = mha_encoder_state()
    arch, snap = layers_of(save(tmp_path, state))
    packed = state["enc.layers.0.self_attn.in_proj_weight"].numpy()
    stream = "emb"
    table = {s.name: (s.src_group, s.dst_group, s.kind, s.role) for s in arch.layers}
    assert table == {
        "emb.weight": ("input", "emb", "embedding", None),
        "enc.layers.0.self_attn.in_proj_weight.q": (stream, "enc.layers.0.self_attn.q",
                                                    "attention", "q"),
        "enc.layers.0.self_attn.in_proj_weight.k": (stream, "enc.layers.0.self_attn.k",
                                                    "attention", "k"),
        "enc.layers.0.self_attn.in_proj_weight.v": (stream, "enc.layers.0.self_attn.v",
                                                    "attention", "v"),
        "enc.layers.0.self_attn.out_proj.weight": ("enc.layers.0.self_attn.v", stream,
                                                   "attention", "o"),
        "enc.layers.0.linear1.weight": (stream, "enc.layers.0.linear1", "linear", None),
        "enc.layers.0.linear2.weight": ("enc.layers.0.linear1", stream, "linear", None),
        "head.weight": (stream, "head", "linear", None),
    }
    assert arch.groups == {"input": VOCAB, "emb": E, "enc.layers.0.self_attn.q": E,
                           "enc.layers.0.self_attn.k": E, "enc.layers.0.self_attn.v": E,
                           "enc.layers.0.linear1": FF, "head": 3}
    # rows q | k | v of the packed (3E, E) torch-layout matrix, transposed to (in, out)
    for index, role in enumerate("qkv"):
        np.testing.assert_array_equal(
            dense(snap, arch, f"enc.layers.0.self_attn.in_proj_weight.{role}"),
            packed[index * E:(index + 1) * E].T)
    # an embedding row is the fan-out of one token: stored as is, not transposed
    np.testing.assert_array_equal(dense(snap, arch, "emb.weight"), state["emb.weight"].numpy())
    assert sum(len(e) for e in snap.layers.values()) == sum(
        int((state[k] != 0).sum()) for k in ("emb.weight",
                                             "enc.layers.0.self_attn.in_proj_weight",
                                             "enc.layers.0.self_attn.out_proj.weight",
                                             "enc.layers.0.linear1.weight",
                                             "enc.layers.0.linear2.weight", "head.weight"))


def gpt2_state(tied: bool = True) -> OrderedDict:
    wte = rand(VOCAB, E, seed=10)
    state = OrderedDict([
        ("transformer.wte.weight", wte),
        ("transformer.wpe.weight", rand(8, E, seed=11)),
        ("transformer.h.0.ln_1.weight", torch.ones(E)),
        ("transformer.h.0.attn.c_attn.weight", rand(E, 3 * E, seed=12)),  # Conv1D: (in, out)
        ("transformer.h.0.attn.c_attn.bias", rand(3 * E, seed=13)),
        ("transformer.h.0.attn.c_proj.weight", rand(E, E, seed=14)),
        ("transformer.h.0.mlp.c_fc.weight", rand(E, FF, seed=15)),
        ("transformer.h.0.mlp.c_proj.weight", rand(FF, E, seed=16)),
        ("transformer.ln_f.weight", torch.ones(E)),
        ("lm_head.weight", wte if tied else rand(VOCAB, E, seed=17)),
    ])
    return state


def test_gpt2_conv1d_layout_position_embedding_and_tied_head(tmp_path):
    state = gpt2_state()
    arch, snap = layers_of(save(tmp_path, state))
    c_attn = state["transformer.h.0.attn.c_attn.weight"].numpy()
    names = [s.name for s in arch.layers]
    assert "transformer.wpe.weight" not in names  # positions carry no edges
    for index, role in enumerate("qkv"):
        name = f"transformer.h.0.attn.c_attn.weight.{role}"
        spec = arch.layer(name)
        assert (spec.src_group, spec.dst_group, spec.role) == (
            "transformer.wte", f"transformer.h.0.attn.c_attn.{role}", role)
        # (in, out) layout: columns are the outputs, nothing transposed
        np.testing.assert_array_equal(dense(snap, arch, name),
                                      c_attn[:, index * E:(index + 1) * E])
    o = arch.layer("transformer.h.0.attn.c_proj.weight")
    assert (o.src_group, o.dst_group, o.role) == ("transformer.h.0.attn.c_attn.v",
                                                  "transformer.wte", "o")
    fc, proj = arch.layer("transformer.h.0.mlp.c_fc.weight"), arch.layer(
        "transformer.h.0.mlp.c_proj.weight")
    assert (fc.src_group, fc.dst_group, fc.n_in, fc.n_out) == (
        "transformer.wte", "transformer.h.0.mlp.c_fc", E, FF)
    assert (proj.src_group, proj.dst_group) == ("transformer.h.0.mlp.c_fc", "transformer.wte")
    np.testing.assert_array_equal(dense(snap, arch, "transformer.h.0.mlp.c_fc.weight"),
                                  state["transformer.h.0.mlp.c_fc.weight"].numpy())
    head = arch.layer("lm_head.weight")
    assert (head.src_group, head.dst_group, head.tied_to) == (
        "transformer.wte", "lm_head", "transformer.wte.weight")
    # stored once per use: token -> stream as is, stream -> logit transposed
    np.testing.assert_array_equal(dense(snap, arch, "lm_head.weight"),
                                  state["transformer.wte.weight"].numpy().T)
    untied = layers_of(save(tmp_path, gpt2_state(tied=False), "untied.pt"))[0]
    assert untied.layer("lm_head.weight").tied_to is None


def test_gated_mlp_and_separate_projections(tmp_path):
    pre = "model.layers.0."
    state = OrderedDict([
        ("lm_head.weight", rand(VOCAB, E, seed=20)),  # safetensors order: before everything
        ("model.embed_tokens.weight", rand(VOCAB, E, seed=21)),
        (pre + "input_layernorm.weight", torch.ones(E)),
        (pre + "mlp.down_proj.weight", rand(E, FF, seed=22)),
        (pre + "mlp.gate_proj.weight", rand(FF, E, seed=23)),
        (pre + "mlp.up_proj.weight", rand(FF, E, seed=24)),
        (pre + "self_attn.k_proj.weight", rand(E, E, seed=25)),
        (pre + "self_attn.o_proj.weight", rand(E, E, seed=26)),
        (pre + "self_attn.q_proj.weight", rand(E, E, seed=27)),
        (pre + "self_attn.v_proj.weight", rand(E, E, seed=28)),
        ("model.norm.weight", torch.ones(E)),
    ])
    arch, snap = layers_of(save(tmp_path, state))
    stream = "model.embed_tokens"
    got = {s.name: (s.src_group, s.dst_group, s.role) for s in arch.layers}
    assert got == {
        "model.embed_tokens.weight": ("input", stream, None),
        pre + "self_attn.q_proj.weight": (stream, pre + "self_attn.q_proj", "q"),
        pre + "self_attn.k_proj.weight": (stream, pre + "self_attn.k_proj", "k"),
        pre + "self_attn.v_proj.weight": (stream, pre + "self_attn.v_proj", "v"),
        pre + "self_attn.o_proj.weight": (pre + "self_attn.v_proj", stream, "o"),
        # gate and up write one group (the product is unit by unit), down reads it
        pre + "mlp.gate_proj.weight": (stream, pre + "mlp.gate_proj", "gate"),
        pre + "mlp.up_proj.weight": (stream, pre + "mlp.gate_proj", "up"),
        pre + "mlp.down_proj.weight": (pre + "mlp.gate_proj", stream, "down"),
        "lm_head.weight": (stream, "lm_head", None),
    }
    np.testing.assert_array_equal(dense(snap, arch, pre + "mlp.up_proj.weight"),
                                  state[pre + "mlp.up_proj.weight"].numpy().T)


@pytest.mark.parametrize(("change", "says"), [
    # grouped-query attention: v narrower than q; the head count is not in the file
    ({"model.layers.0.self_attn.v_proj.weight": (E // 2, E),
      "model.layers.0.self_attn.k_proj.weight": (E // 2, E)}, "grouped-query attention"),
    # an MLP as wide as the stream: which matrix reads the stream cannot be told
    ({"model.layers.0.mlp.down_proj.weight": (E, E), "model.layers.0.mlp.gate_proj.weight":
      (E, E), "model.layers.0.mlp.up_proj.weight": (E, E)}, "cannot be told from shapes"),
    # an embedding whose name does not say token or position
    ({"model.extra_emb.weight": (7, E)}, "looks like an embedding"),
    # two attentions in one block: cross-attention reads another stream
    ({"model.layers.0.cross.q_proj.weight": (E, E)}, "more than one attention"),
])
def test_what_names_and_shapes_cannot_tell_is_one_line(tmp_path, change, says):
    pre = "model.layers.0."
    shapes = {"model.embed_tokens.weight": (VOCAB, E),
              pre + "self_attn.q_proj.weight": (E, E), pre + "self_attn.k_proj.weight": (E, E),
              pre + "self_attn.v_proj.weight": (E, E), pre + "self_attn.o_proj.weight": (E, E),
              pre + "mlp.gate_proj.weight": (FF, E), pre + "mlp.up_proj.weight": (FF, E),
              pre + "mlp.down_proj.weight": (E, FF)}
    shapes.update(change)
    path = save(tmp_path, {k: torch.ones(*s) for k, s in shapes.items()})
    with pytest.raises(InputError) as info:
        read_inputs([path])
    text = str(info.value)
    assert says in text and str(path) in text and "\n" not in text
    assert "Recorder" in text and "mapping" in text
    named = [k for k in change if k in text] or [k for k in shapes if k in text]
    assert named, text  # names the parameter


def test_safetensors_applies_the_same_rules(tmp_path):
    requires("safetensors")
    from safetensors.torch import save_file

    state = gpt2_state(tied=False)
    save_file({k: v.contiguous() for k, v in state.items()}, tmp_path / "model.safetensors")
    st = read_inputs([tmp_path / "model.safetensors"]).architecture
    pt = read_inputs([save(tmp_path, state)]).architecture
    assert st == pt


@pytest.mark.slow
def test_hugging_face_state_dicts_import_as_their_live_graph(tmp_path):
    transformers = requires("transformers")
    from sparsetopo.ingest.extract import ModelGraph

    warnings.simplefilter("ignore")
    models = {
        "bert": transformers.BertModel(transformers.BertConfig(
            hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
            vocab_size=11, max_position_embeddings=16)),
        "gpt2": transformers.GPT2LMHeadModel(transformers.GPT2Config(
            n_embd=8, n_layer=2, n_head=2, vocab_size=11, n_positions=16)),
        "llama": transformers.LlamaForCausalLM(transformers.LlamaConfig(
            hidden_size=8, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
            intermediate_size=16, vocab_size=11)),
        "vit": transformers.ViTModel(transformers.ViTConfig(
            hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
            image_size=8, patch_size=4)),
    }
    for name, model in models.items():
        live = ModelGraph(model).architecture
        path = save(tmp_path, model.state_dict(), f"{name}.pt")
        assert read_inputs([path]).architecture == live, name
