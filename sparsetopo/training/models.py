"""Built-in torch models and the rule for which of their weights a strategy sparsifies.

Every model keeps standard layer types (nn.Linear, nn.RNN, nn.GRU, nn.LSTM) so the graph extractor
recognises them. Parameter names, all in PyTorch's (out, in) orientation:

- ``mlp``:   ``fc1.weight``, ``fc2.weight``, ... (hidden layers) and ``readout.weight``.
- ``rnn``:   vanilla tanh RNN ``rnn`` (nn.RNN): ``rnn.weight_ih_l0`` (input),
             ``rnn.weight_hh_l0`` (recurrent), then ``readout.weight``.
- ``gru`` / ``lstm``: same names under ``rnn`` (nn.GRU / nn.LSTM); ``weight_hh_l0`` stacks the
             gate blocks (GRU: r, z, n; LSTM: i, f, g, o), each hidden x hidden.
- ``transformer``: a small pre-norm encoder :class:`TransformerNet`: ``embed`` (nn.Linear of
             the input features), ``blocks.<k>.attn`` (nn.MultiheadAttention, packed
             ``in_proj_weight``), ``blocks.<k>.fc1`` / ``fc2`` (MLP), then ``readout``.
- ``ctrnn``: continuous-time RNN :class:`LeakyRNN` (an nn.RNN subclass) under ``rnn``,
             ``h <- (1 - alpha) h + alpha tanh(W_ih x + W_hh h + b)`` with ``alpha = dt / tau``
             = 0.5; same names as ``rnn``: ``rnn.weight_hh_l0`` is the recurrent matrix.

Sparsity scopes (:func:`sparsifiable`): ``"recurrent"`` = the recurrent matrix only (default for
recurrent models, as in Zhang et al. 2023 and Mackey et al. 2024; for user models also any
square nn.Linear named ``recurrent``); ``"all"`` = every weight matrix
(default for the MLP, as in Zahn et al. 2024). Biases are never sparsified.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from sparsetopo.errors import InputError

MODEL_NAMES = ("mlp", "rnn", "ctrnn", "gru", "lstm", "transformer")
RECURRENT_MODELS = ("rnn", "ctrnn", "gru", "lstm")
SCOPES = ("recurrent", "all")


class MLP(nn.Module):
    """Fully connected network ``fc1 -> ... -> fcN -> readout`` with ReLU (default) or tanh
    (``activation="tanh"``, as in Zahn et al. 2024) hidden units.

    A sequence input (batch, time, features) is flattened to (batch, time * features).
    """

    def __init__(
        self, n_in: int, hidden: int | Sequence[int], n_out: int, activation: str = "relu"
    ) -> None:
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise InputError(f"MLP activation must be 'relu' or 'tanh', got {activation!r}")
        self.activation = activation
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        if not sizes or any(int(h) < 1 for h in sizes):
            raise InputError(f"MLP hidden sizes must be positive integers, got {hidden!r}")
        dims = [n_in, *map(int, sizes)]
        for k in range(len(sizes)):
            self.add_module(f"fc{k + 1}", nn.Linear(dims[k], dims[k + 1]))
        self.n_hidden_layers = len(sizes)
        self.readout = nn.Linear(dims[-1], n_out)

    def hidden_layers(self) -> list[nn.Linear]:
        return [getattr(self, f"fc{k + 1}") for k in range(self.n_hidden_layers)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() > 2:
            x = x.flatten(1)
        act = torch.tanh if self.activation == "tanh" else torch.relu
        for layer in self.hidden_layers():
            x = act(layer(x))
        return self.readout(x)


class RecurrentNet(nn.Module):
    """A one-layer nn.RNN (tanh) / :class:`LeakyRNN` / nn.GRU / nn.LSTM named ``rnn`` with a
    linear ``readout``.

    ``output="last"`` maps the final hidden state to the output (classification, adding problem);
    ``output="all"`` maps every time step (series prediction, navigation).
    """

    def __init__(
        self, cell: str, n_in: int, hidden: int, n_out: int, output: str = "last",
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__()
        self.rnn: nn.RNNBase
        if cell == "rnn":  # nonlinearity "relu": Mackey et al. 2024's path integrator
            self.rnn = nn.RNN(n_in, hidden, batch_first=True,
                              nonlinearity=check_name("nonlinearity", nonlinearity, ("tanh", "relu")))
        elif cell == "gru":
            self.rnn = nn.GRU(n_in, hidden, batch_first=True)
        elif cell == "lstm":
            self.rnn = nn.LSTM(n_in, hidden, batch_first=True)
        elif cell == "ctrnn":
            self.rnn = LeakyRNN(n_in, hidden)
        else:
            raise InputError(f"unknown recurrent cell {cell!r}; use rnn, ctrnn, gru or lstm")
        self.output = _check_output(output)
        self.readout = nn.Linear(hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(x)
        if self.output == "last":
            return self.readout(states[:, -1])
        return self.readout(states)


class LeakyRNN(nn.RNN):
    """Continuous-time (leaky) tanh RNN with nn.RNN's parameters and call signature.

    ``h_t = (1 - alpha) h_{t-1} + alpha tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, h_0 = 0,
    i.e. Euler steps of ``tau dh/dt = -h + tanh(...)`` with ``alpha = dt / tau``. ``alpha = 1``
    is the vanilla RNN. Returns ``(states, h_last[None])`` like nn.RNN (batch_first).
    """

    def __init__(self, n_in: int, hidden: int, alpha: float = 0.5) -> None:
        super().__init__(n_in, hidden, batch_first=True, nonlinearity="tanh")
        if not 0.0 < alpha <= 1.0:
            raise InputError(f"CTRNN alpha = dt / tau must be in (0, 1], got {alpha}")
        self.alpha = alpha
        # torch.fx treats modules from torch.nn as opaque leaves; claiming that namespace on the
        # instance (not the class, so pickling still finds the class) lets graph extraction see
        # this module as an nn.RNN (input, recurrent layers) instead of tracing the time loop.
        self.__dict__["__module__"] = "torch.nn.modules.rnn"

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, hx: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = x.new_zeros(x.shape[0], self.hidden_size) if hx is None else hx[0]
        w_ih, w_hh = cast(torch.Tensor, self.weight_ih_l0), cast(torch.Tensor, self.weight_hh_l0)
        bias = cast(torch.Tensor, self.bias_ih_l0) + cast(torch.Tensor, self.bias_hh_l0)
        drive = x @ w_ih.T + bias
        w_hh_t = w_hh.T
        states = []
        for t in range(x.shape[1]):
            h = (1.0 - self.alpha) * h + self.alpha * torch.tanh(drive[:, t] + h @ w_hh_t)
            states.append(h)
        return torch.stack(states, dim=1), h.unsqueeze(0)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm(x))``, then ``x + fc2(gelu(fc1(norm(x))))``."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 2 * width)
        self.fc2 = nn.Linear(2 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm2(x))))


class TransformerNet(nn.Module):
    """A small transformer encoder for the built-in sequence tasks: input features -> ``embed``
    (width ``hidden`` rounded up to a multiple of 4 heads) plus a learned position vector, two
    :class:`EncoderBlock`, and a ``readout`` of the last step (``output="last"``) or every step.
    A non-sequence input (batch, features) is a sequence of length 1.
    """

    def __init__(self, n_in: int, hidden: int, n_out: int, output: str = "last",
                 blocks: int = 2, heads: int = 4, max_len: int = 1024) -> None:
        super().__init__()
        width = heads * max(1, -(-hidden // heads))
        self.output = _check_output(output)
        self.embed = nn.Linear(n_in, width)
        self.position = nn.Parameter(torch.zeros(1, max_len, width))
        self.blocks = nn.Sequential(*(EncoderBlock(width, heads) for _ in range(blocks)))
        self.norm = nn.LayerNorm(width)
        self.readout = nn.Linear(width, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1, x.shape[-1])  # (batch, features): one step
        h = self.embed(x) + self.position[:, : x.shape[1]]
        h = self.norm(self.blocks(h))
        return self.readout(h[:, -1] if self.output == "last" else h)


def _check_output(output: str) -> str:
    if output not in ("last", "all"):
        raise InputError(f"output must be 'last' or 'all', got {output!r}")
    return output


ModelFactory = Callable[[int, int, int, str], nn.Module]

#: name -> factory(n_in, hidden, n_out, output) -> nn.Module
MODELS: dict[str, ModelFactory] = {
    "mlp": lambda n_in, hidden, n_out, output: MLP(n_in, [hidden, hidden], n_out),
    "rnn": lambda n_in, hidden, n_out, output: RecurrentNet("rnn", n_in, hidden, n_out, output),
    "ctrnn": lambda n_in, hidden, n_out, output: RecurrentNet("ctrnn", n_in, hidden, n_out, output),
    "gru": lambda n_in, hidden, n_out, output: RecurrentNet("gru", n_in, hidden, n_out, output),
    "lstm": lambda n_in, hidden, n_out, output: RecurrentNet("lstm", n_in, hidden, n_out, output),
    "transformer": lambda n_in, hidden, n_out, output: TransformerNet(n_in, hidden, n_out, output),
}


def check_name(kind: str, name: str, valid: Sequence[str]) -> str:
    """Return ``name`` if it is one of ``valid``, else raise an InputError listing them."""
    if name not in valid:
        raise InputError(f"unknown {kind} {name!r}; valid {kind}s are: {', '.join(valid)}")
    return name


def build_model(name: str, n_in: int, hidden: int, n_out: int, output: str = "last") -> nn.Module:
    """Instantiate the built-in model ``name`` (one of :data:`MODEL_NAMES`)."""
    check_name("model", name, MODEL_NAMES)
    if hidden < 1:
        raise InputError(f"hidden size must be a positive integer, got {hidden}")
    if name == "mlp" and output == "all":
        raise InputError(
            "the mlp model cannot produce one output per time step; use rnn, ctrnn, gru or lstm"
        )
    return MODELS[name](n_in, hidden, n_out, output)


@dataclass(frozen=True)
class Target:
    """One weight matrix a strategy sparsifies: ``getattr(module, name)``, labelled ``label``
    (the dotted parameter name without ``_orig``, e.g. ``rnn.weight_hh_l0``).

    ``recurrent`` marks a hidden-to-hidden matrix; ``blocks`` is the number of stacked gate blocks
    (1 for rnn/ctrnn, 3 for GRU, 4 for LSTM).
    """

    module: nn.Module
    name: str
    label: str
    recurrent: bool = False
    blocks: int = 1

    @property
    def shape(self) -> tuple[int, int]:
        w = getattr(self.module, self.name)
        return int(w.shape[0]), int(w.shape[1])

    @property
    def numel(self) -> int:
        rows, cols = self.shape
        return rows * cols


def _is_recurrent_param(module: nn.Module, pname: str) -> bool:
    return isinstance(module, nn.RNNBase) and pname.startswith("weight_hh")


def sparsifiable(model: nn.Module, scope: str | None = None) -> list[Target]:
    """The weight matrices a strategy sparsifies in ``model``.

    scope ``"recurrent"``: hidden-to-hidden matrices (nn.RNN/GRU/LSTM ``weight_hh_l*`` and any
    module attribute named ``recurrent``); ``"all"``: every 2-D weight of nn.Linear and recurrent
    modules. ``None`` picks ``"recurrent"`` when the model has a recurrent matrix, else ``"all"``.
    Works for user models too, as long as they use these layer types.
    """
    all_targets: list[Target] = []
    for mname, module in model.named_modules():
        prefix = f"{mname}." if mname else ""
        if isinstance(module, nn.RNNBase):
            blocks = {"GRU": 3, "LSTM": 4}.get(type(module).__name__, 1)
            for pname in _weight_names(module):
                rec = _is_recurrent_param(module, pname)
                all_targets.append(
                    Target(module, pname, prefix + pname, rec, blocks if rec else 1)
                )
        elif isinstance(module, nn.MultiheadAttention) and module.in_proj_weight is not None:
            all_targets.append(Target(module, "in_proj_weight", prefix + "in_proj_weight"))
        elif isinstance(module, nn.Linear):
            rec = mname.split(".")[-1] == "recurrent" and module.in_features == module.out_features
            all_targets.append(Target(module, "weight", prefix + "weight", rec, 1))
    if scope is None:
        scope = "recurrent" if any(t.recurrent for t in all_targets) else "all"
    check_name("scope", scope, SCOPES)
    chosen = [t for t in all_targets if t.recurrent] if scope == "recurrent" else all_targets
    if not chosen:
        raise InputError(
            f"the model has no weight matrix in scope {scope!r}; use scope 'all' or a model with "
            "nn.Linear / nn.RNN / nn.GRU / nn.LSTM layers"
        )
    return chosen


def _weight_names(module: nn.Module) -> list[str]:
    names = []
    for pname, _ in module.named_parameters(recurse=False):
        base = pname[: -len("_orig")] if pname.endswith("_orig") else pname
        if base.startswith("weight_"):
            names.append(base)
    return names
