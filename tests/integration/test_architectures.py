"""Every architecture of issue 21 recorded through the Recorder into the real server: the stored
edges of each layer are the nonzeros of its source matrix, every matrix of the model is
recorded (except those the graph rules give no edges), and analyze stores FFL balance."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from sparsetopo.api.store import Store
from sparsetopo.graphstore.reader import read_snapshot
from sparsetopo.ingest.recorder import Recorder

pytestmark = pytest.mark.torch
transformers = pytest.importorskip("transformers")
torchvision = pytest.importorskip("torchvision")

#: parameters the graph rules give no edges (docs/ingest-formats.md): positions, token types,
#: class tokens; norms and biases are vectors and never matrices.
NO_EDGES = ("position_embeddings", "token_type_embeddings", "wpe.weight", "cls_token")


class EncoderClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(30, 16)
        layer = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(16, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(self.emb(ids)).mean(1))


class LSTMLanguageModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(30, 12)
        self.lstm = nn.LSTM(12, 16, num_layers=2, batch_first=True)
        self.out = nn.Linear(16, 30)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.out(self.lstm(self.emb(ids))[0])


def _hf(name: str) -> nn.Module:
    t = transformers
    small = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 64}
    if name == "bert":
        return t.BertModel(t.BertConfig(vocab_size=40, max_position_embeddings=32, **small))
    if name == "gpt2":
        return t.GPT2LMHeadModel(t.GPT2Config(vocab_size=40, n_embd=32, n_layer=2, n_head=4,
                                              n_positions=32, bos_token_id=0, eos_token_id=0))
    if name == "llama":  # grouped-query attention: 2 kv heads for 4 query heads
        return t.LlamaForCausalLM(t.LlamaConfig(vocab_size=40, num_key_value_heads=2, **small))
    return t.ViTModel(t.ViTConfig(image_size=16, patch_size=4, **small))


MODELS: dict[str, Callable[[], nn.Module]] = {
    "resnet18": lambda: torchvision.models.resnet18(num_classes=10),
    "mobilenet_v3": lambda: torchvision.models.mobilenet_v3_small(num_classes=10),
    "encoder": EncoderClassifier,
    "lstm_lm": LSTMLanguageModel,
    "bert": lambda: _hf("bert"),
    "gpt2": lambda: _hf("gpt2"),
    "llama": lambda: _hf("llama"),
    "vit": lambda: _hf("vit"),
}


def _prune_global(model: nn.Module, amount: float) -> None:
    """Global magnitude pruning of every matrix (in place, so tied weights stay tied)."""
    mats = [p for p in model.parameters() if p.dim() >= 2]
    scores = torch.cat([p.detach().abs().flatten() for p in mats])
    threshold = torch.quantile(scores[torch.randperm(len(scores))[:1_000_000]], amount)
    with torch.no_grad():
        for p in mats:
            p.mul_((p.abs() > threshold).to(p.dtype))


def _prune_each(model: nn.Module, amount: float) -> None:
    """Magnitude pruning of each matrix on its own (in place): every layer keeps edges."""
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.mul_((p.abs() > torch.quantile(p.abs().flatten(), amount)).to(p.dtype))


#: ResNet-18 is pruned per matrix, harder: at 90% global it keeps ~0.7M channel edges (minutes
#: of analysis at defaults on a loaded 2-core machine); 99.5% of each matrix keeps ~55k, with at
#: least 20 in every one of its 21 layers, so each layer, branch and downsample chain is recorded
#: and analysed all the same. (MobileNetV3 per matrix analyses slower: its cost is in the number
#: of chains, not edges.)
SPARSER = {"resnet18": 0.995}
#: MobileNetV3 is pruned globally at 97%, not 90%: ~45k of its ~1.5M weights' 151k channel edges
#: (13 of its 54 matrices keep none, 10 at 90% already), a third of the recording and deletion
GLOBAL = {"mobilenet_v3": 0.97}


def _nonzeros(p: torch.Tensor) -> int:
    """Edges of one matrix, computed from the parameter: (out, in) pairs with a nonzero weight,
    for a conv kernel the (out, in) pairs with any nonzero tap."""
    t = p.detach()
    return int((t.reshape(t.shape[0], t.shape[1], -1) != 0).any(-1).sum()) if t.dim() > 2 \
        else int((t != 0).sum())


@pytest.fixture(scope="module")
def recorded(driver):
    """Each model pruned and recorded once (snapshot 0) for every test of this module:
    name -> (model, run name, the Recorder's model graph). The runs go at the module's end."""
    from sparsetopo.graphstore.runs import delete_run

    cache: dict[str, tuple[nn.Module, str, object]] = {}

    def record(name: str):
        if name not in cache:
            torch.manual_seed(0)
            model = MODELS[name]()
            if name in SPARSER:
                _prune_each(model, SPARSER[name])
            else:
                _prune_global(model, GLOBAL.get(name, 0.9))
            example = {"encoder": torch.randint(0, 30, (2, 6))}.get(name)
            run = f"test-arch-{name}-{uuid.uuid4().hex[:8]}"
            with Recorder(model, run=run, example_input=example, close_timeout=900) as rec:
                rec.snapshot(0)
            cache[name] = (model, run, rec.graph)
        return cache[name]

    yield record
    for _, run, _ in cache.values():
        delete_run(driver, run)


@pytest.mark.parametrize("name", list(MODELS))
def test_architecture_recorded_edge_for_edge(name, driver, recorded):
    model, run_name, graph = recorded(name)
    stored = read_snapshot(driver, run_name, step=0)
    recipes = graph._recipes
    per_param: dict[str, int] = {}
    uses: dict[str, set] = {}
    for spec in graph.architecture.layers:
        recipe = recipes[spec.name]
        edges = stored.layers[spec.name]
        if recipe.how == "expand":  # grouped-query expansion: one edge per head feature
            assert name == "llama" and len(edges) == spec.n_out
            continue
        per_param[recipe.param] = per_param.get(recipe.param, 0) + len(edges)
        uses.setdefault(recipe.param, set()).add(spec.tied_to or spec.name.rsplit(".", 1)[0])
    params = dict(model.named_parameters(remove_duplicate=False))
    for fqn, total in per_param.items():
        # q, k, v blocks of one packed matrix add up to it; a tied matrix is stored per use
        assert total == _nonzeros(params[fqn]) * len(uses[fqn]), fqn
    missing = [fqn for fqn, p in model.named_parameters()
               if p.dim() >= 2 and fqn not in per_param and not any(k in fqn for k in NO_EDGES)]
    assert not missing
    if name == "llama":
        assert any(s.role == "expand" for s in graph.architecture.layers)
    if name == "gpt2":
        assert next(s for s in graph.architecture.layers if s.name == "lm_head.weight").tied_to


@pytest.mark.parametrize("name", list(MODELS))
def test_architecture_analyze_stores_ffl_balance(name, driver, recorded):
    _, run_name, _ = recorded(name)
    store = Store(driver)
    store.analyze(run_name)  # at defaults
    history = store.history(run_name)
    # FFL balance is stored for every architecture; it is a ratio over the FFLs, so it is
    # undefined (NaN) exactly when the model graph has none (a transformer's residual stream
    # has no group-skipping edge, so its model graph can hold no FFL)
    total = history["ffl_total"].to_numpy(dtype=float)
    balance = history["ffl_balance"].to_numpy(dtype=float)
    assert np.isfinite(total).all() and (total >= 0).all()
    assert (np.isfinite(balance) == (total > 0)).all()
    assert ((balance[total > 0] >= 0) & (balance[total > 0] <= 1)).all()
    if name == "resnet18":  # branching: residual FFLs, one chain per path, every layer's row
        assert total[0] > 0
        parts = store.parts(run_name)
        chains = parts[parts["kind"] == "chain"]
        assert "chain:layer2.0.downsample.0.weight" in set(chains["part"])
        assert set(store.motifs(run_name)["part"]) == set(chains["part"])
        assert len(store.history(run_name, by="layer")) == 21
