"""Weight matrices -> sorted edges, and the naming rules shared by every importer; numpy only,
so that CSV and npz imports work without torch (the torch parts are in
:mod:`sparsetopo.ingest.extract`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from sparsetopo.errors import InputError
from sparsetopo.topology import Architecture, LayerEdges, LayerSpec

MAX_NAME_LEN = 200


@dataclass(frozen=True)
class MatrixRecipe:
    """How one layer's (n_in, n_out) matrix is cut from a torch parameter.

    param:  effective parameter name ("fc1.weight", "rnn.weight_hh_l0").
    how:    "out_in" (torch layout, transposed), "in_out" (stored as is), "conv" (kernel
            reduced, see :func:`reduce_conv_kernel`) or "vector" (a 1-D parameter read as one
            source unit feeding every target, i.e. a bias turned into edges).
    rows:   (start, stop) of the output units to keep (one gate of a GRU/LSTM, the q, k or v
            block of a packed attention projection): torch rows for "out_in", columns for
            "in_out"; or None.
    groups: conv ``groups`` (channels connect only within their group).
    expand: for how="expand" (no parameter): (kv_units, units, head_dim) of the constant
            grouped-query expansion, see :func:`expansion_matrix`.
    """

    param: str
    how: str = "out_in"
    rows: tuple[int, int] | None = None
    groups: int = 1
    expand: tuple[int, int, int] | None = None


_F32 = np.finfo(np.float32)


def as_float32_weights(matrix: np.ndarray, where: str = "layer") -> np.ndarray:
    """`matrix` as the float32 weights that will be stored, checked after the cast.

    A finite value that overflows float32 (``|w| > 3.4e38``) or a nonzero value that
    underflows to 0 (``|w| < 1.4e-45``) would be stored as Inf, or as an edge without a sign;
    both raise. Complex and non-numeric matrices raise too.

    Parameters
    ----------
    matrix : array_like
        Any real numeric matrix (float16/32/64, integers, booleans).
    where : str
        Names the file or layer in error messages.

    Returns
    -------
    numpy.ndarray
        float32 (the input itself when it already is float32).

    Raises
    ------
    InputError
        Complex or non-numeric dtype, or values outside float32's range.

    Examples
    --------
    >>> as_float32_weights(np.array([[0.5, 0.0]])).dtype
    dtype('float32')
    """
    arr = np.asarray(matrix)
    if arr.dtype.kind == "c":
        raise InputError(
            f"{where}: complex weights ({arr.dtype}); sparsetopo stores real signed weights. "
            "Save the real part (np.real) or whatever real quantity you mean, explicitly."
        )
    if arr.dtype.kind not in "fiub":
        raise InputError(f"{where}: weights of dtype {arr.dtype} are not numbers.")
    if arr.dtype == np.float32:
        return arr
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        m = arr.astype(np.float32)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:
        finite = np.isfinite(arr)
        overflow = finite & ~np.isfinite(m)
        if overflow.any():
            i, j = (int(v[0]) for v in np.nonzero(overflow.reshape(arr.shape[0], -1)))
            raise InputError(
                f"{where}: weight {float(arr.reshape(arr.shape[0], -1)[i, j])!r} at (src={i}, dst={j}) "
                f"is outside the float32 range (|w| <= {float(_F32.max):.3g}) in which weights "
                "are stored; rescale the weights."
            )
        underflow = (arr != 0) & finite & (m == 0)
        if underflow.any():
            i, j = (int(v[0]) for v in np.nonzero(underflow.reshape(arr.shape[0], -1)))
            raise InputError(
                f"{where}: weight {float(arr.reshape(arr.shape[0], -1)[i, j])!r} at (src={i}, dst={j}) "
                f"is nonzero but below float32's smallest magnitude "
                f"({float(_F32.smallest_subnormal):.2g}), so it would be stored as 0; set "
                f"{int(underflow.sum())} such weight(s) to 0 (remove the edges) or rescale."
            )
    return m


def matrix_edges(
    matrix: np.ndarray, allow_nonfinite: bool = False, where: str = "layer"
) -> tuple[LayerEdges, int]:
    """Nonzero entries of an (n_in, n_out) matrix, sorted by (src, dst), and the number of
    non-finite entries dropped (only when ``allow_nonfinite``; otherwise they raise).

    >>> e, dropped = matrix_edges(np.array([[0.0, 2.0], [np.nan, 0.0]]), allow_nonfinite=True)
    >>> e.src.tolist(), e.dst.tolist(), e.w.tolist(), dropped
    ([0], [1], [2.0], 1)
    """
    m = as_float32_weights(matrix, where)
    dropped = 0
    if not np.isfinite(m).all():
        bad = ~np.isfinite(m)
        dropped = int(bad.sum())
        if not allow_nonfinite:
            i, j = (int(v[0]) for v in np.nonzero(bad))
            raise InputError(
                f"{where}: {dropped} NaN/Inf weight(s), first at (src={i}, dst={j}). "
                "Fix the training run, or pass allow_nonfinite=True (--allow-nonfinite) to "
                "drop them and report the count."
            )
        m = np.where(bad, np.float32(0), m)
    src, dst = np.nonzero(m)  # row-major over logical indices, so sorted by (src, dst)
    return LayerEdges(src, dst, m[src, dst]), dropped


def check_name(name: object, what: str, where: str = "") -> str:
    """Group/layer names must be non-empty printable strings of at most 200 characters.

    Quotes, backticks or Cypher-looking text are fine: names only ever travel as parameters.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(name, str) or not name:
        raise InputError(f"{prefix}{what} name must be a non-empty string, got {name!r}.")
    if len(name) > MAX_NAME_LEN:
        raise InputError(
            f"{prefix}{what} name is {len(name)} characters long ({name[:40]!r}...); "
            f"shorten it to at most {MAX_NAME_LEN}."
        )
    if not name.isprintable():
        raise InputError(
            f"{prefix}{what} name {name!r} contains non-printable characters (newline, tab, "
            "control codes); rename it."
        )
    return name


def select_layers(
    architecture: Architecture,
    recipes: Mapping[str, MatrixRecipe],
    patterns: Iterable[str] | str,
) -> tuple[Architecture, dict[str, MatrixRecipe]]:
    """The layers whose name (or parameter name) matches one of the glob `patterns`, with the
    groups they use. InputError naming valid layers when a pattern matches nothing.

    >>> arch = Architecture({"input": 2, "a": 2, "b": 2}, (
    ...     LayerSpec("a.weight", "input", "a", 2, 2), LayerSpec("b.weight", "a", "b", 2, 2)))
    >>> sub, _ = select_layers(arch, {"a.weight": MatrixRecipe("a.weight"),
    ...                               "b.weight": MatrixRecipe("b.weight")}, ["b.*"])
    >>> [s.name for s in sub.layers], sub.groups
    (['b.weight'], {'a': 2, 'b': 2})
    """
    wanted = [patterns] if isinstance(patterns, str) else list(patterns)
    if not wanted or not all(isinstance(p, str) and p for p in wanted):
        raise InputError(f"layers={patterns!r}: give one or more glob patterns on parameter "
                         "names, e.g. layers=['encoder.layer.0.*']")
    names = [s.name for s in architecture.layers]

    def hits(pattern: str, spec: LayerSpec) -> bool:
        param = recipes[spec.name].param if spec.name in recipes else spec.name
        return fnmatch.fnmatchcase(spec.name, pattern) or fnmatch.fnmatchcase(param, pattern)

    for pattern in wanted:
        if not any(hits(pattern, spec) for spec in architecture.layers):
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise InputError(f"layers: {pattern!r} matches no layer; layers are named like: "
                             f"{shown}")
    specs = [s for s in architecture.layers if any(hits(p, s) for p in wanted)]
    used = {s.src_group for s in specs} | {s.dst_group for s in specs}
    groups = {g: n for g, n in architecture.groups.items() if g in used}
    specs = [replace(s, position=i) for i, s in enumerate(specs)]
    return (Architecture(groups=groups, layers=tuple(specs)),
            {s.name: recipes[s.name] for s in specs if s.name in recipes})
