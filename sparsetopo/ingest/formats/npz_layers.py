"""Per-layer weight matrices in .npz files (the NNSTD paper's format).

* A *directory* of ``weight_l0.npz``, ``weight_l1.npz``, ... is one snapshot; each file is a
  ``scipy.sparse.save_npz`` matrix of shape (n_in + 1, n_out) whose last row is the bias.
* A *single* ``.npz`` written with ``np.savez(f, weight_l0=..., weight_l1=...)`` holding dense
  arrays is one snapshot too; its last rows are biases unless consecutive shapes show there
  are none (``weight_l0.shape[1] == weight_l1.shape[0]``).
* An optional ``layers.json`` beside the files (written by :func:`write_npz_snapshot`) restores
  layer names, groups and kinds.

Groups of a plain chain: ``input``, ``l1``, ``l2``, ...; layer k is ``weight_l{k}`` reading
``input`` (k = 0) or ``l{k}`` and writing ``l{k+1}``. Kept biases become layers
``weight_l{k}.bias`` from a one-unit group ``bias_l{k}``.

>>> import tempfile, pathlib
>>> import scipy.sparse as sp
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> sp.save_npz(d / "weight_l0.npz", sp.csr_matrix(np.array([[1.0, 0], [0, -2], [5, 5]])))
>>> arch, layers, dropped = read_npz_unit(d)
>>> arch.groups, layers["weight_l0"].w.tolist()
({'input': 2, 'l1': 2}, [1.0, -2.0])
"""

from __future__ import annotations

import itertools
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sparsetopo.errors import InputError
from sparsetopo.ingest.matrices import as_float32_weights, check_name, matrix_edges
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec

LAYER_FILE = re.compile(r"^weight_l(\d+)\.npz$")
LAYER_KEY = re.compile(r"^weight_l(\d+)$")
SIDECAR = "layers.json"


def layer_files(directory: Path) -> list[Path]:
    """weight_l*.npz files of a directory, by layer number."""
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := LAYER_FILE.match(p.name))]
    return [p for _, p in sorted(found)]


def is_sparse_file(path: Path) -> bool:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {"indptr", "indices", "data", "shape"} <= set(z.files) or (
                {"row", "col", "data", "shape"} <= set(z.files)
            )
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return False


def _load_sparse(path: Path) -> np.ndarray:
    try:
        matrix = sp.load_npz(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(
            f"{path}: not a readable scipy.sparse .npz ({type(exc).__name__}: {exc}); the file "
            "may be truncated. Re-save it with scipy.sparse.save_npz."
        ) from exc
    if matrix.dtype.kind == "c":
        raise InputError(
            f"{path}: complex weights ({matrix.dtype}); sparsetopo stores real signed weights. "
            "Save the real part (np.real) explicitly."
        )
    return as_float32_weights(matrix.toarray(), str(path))


def _load_dense(path: Path) -> list[tuple[str, np.ndarray]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = [(int(m.group(1)), k) for k in z.files if (m := LAYER_KEY.match(k))]
            if not keys:
                raise InputError(
                    f"{path}: holds {', '.join(z.files) or 'no arrays'}, but no weight_l0, "
                    "weight_l1, ... arrays; save them with np.savez(path, weight_l0=...)."
                )
            arrays = [(k, as_float32_weights(z[k], f"{path} ({k})")) for _, k in sorted(keys)]
    except InputError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(
            f"{path}: cannot be read as .npz ({type(exc).__name__}: {exc}); the file may be "
            "truncated or not an npz archive."
        ) from exc
    for name, arr in arrays:
        if arr.ndim != 2:
            raise InputError(f"{path}: {name} has shape {arr.shape}; expected a 2-D matrix.")
    return arrays


def _read_sidecar(directory: Path) -> list[dict] | None:
    path = directory / SIDECAR
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        layers = list(data["layers"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{path}: not a valid layers.json ({exc}); delete it to use default names."
        ) from exc
    return layers


def read_npz_unit(
    path: Path, drop_bias: bool = True, allow_nonfinite: bool = False
) -> tuple[Architecture, dict[str, LayerEdges], int]:
    """One snapshot from a directory of weight_l*.npz or one dense .npz file."""
    if path.is_dir():
        files = layer_files(path)
        if not files:
            raise InputError(f"{path}: no weight_l0.npz, weight_l1.npz, ... files in directory.")
        numbers = [int(LAYER_FILE.match(f.name).group(1)) for f in files]  # type: ignore[union-attr]
        if numbers != list(range(len(files))):
            raise InputError(
                f"{path}: layer files are numbered {numbers}; expected weight_l0 ... "
                f"weight_l{len(files) - 1} without gaps."
            )
        mats = [(f.stem, _load_sparse(f)) for f in files]
        has_bias = True
        sidecar = _read_sidecar(path)
    else:
        mats = _load_dense(path)
        has_bias = _dense_has_bias([m for _, m in mats], path)
        sidecar = _read_sidecar(path.parent) if path.parent.joinpath(SIDECAR).exists() else None
    return _assemble(path, mats, has_bias, drop_bias, allow_nonfinite, sidecar)


def _dense_has_bias(mats: list[np.ndarray], path: Path) -> bool:
    if len(mats) < 2:
        return True
    pairs = list(itertools.pairwise(mats))
    if all(a.shape[1] == b.shape[0] for a, b in pairs):
        return False
    if all(a.shape[1] == b.shape[0] - 1 for a, b in pairs):
        return True
    shapes = ", ".join(str(m.shape) for m in mats)
    raise InputError(
        f"{path}: layer shapes {shapes} do not chain (each n_out must equal the next n_in, or "
        "n_in + 1 with a bias row); pass a mapping or fix the arrays."
    )


def _assemble(
    path: Path,
    mats: list[tuple[str, np.ndarray]],
    has_bias: bool,
    drop_bias: bool,
    allow_nonfinite: bool,
    sidecar: list[dict] | None,
) -> tuple[Architecture, dict[str, LayerEdges], int]:
    if sidecar is not None and len(sidecar) != len(mats):
        raise InputError(
            f"{path}: layers.json lists {len(sidecar)} layers but there are {len(mats)} "
            "weight_l* matrices; delete layers.json or fix it."
        )
    groups: dict[str, int] = {}
    specs: list[LayerSpec] = []
    edges: dict[str, LayerEdges] = {}
    dropped = 0
    prev_out: int | None = None
    for k, (key, full) in enumerate(mats):
        if has_bias and full.shape[0] < 1:
            raise InputError(f"{path}: {key} has no rows; expected (n_in + 1, n_out).")
        matrix, bias = (full[:-1], full[-1:]) if has_bias else (full, None)
        n_in, n_out = int(matrix.shape[0]), int(matrix.shape[1])
        if sidecar is not None:
            meta = sidecar[k]
            name = check_name(meta.get("name"), "layer", str(path))
            src = check_name(meta.get("src_group"), "group", str(path))
            dst = check_name(meta.get("dst_group"), "group", str(path))
            kind, gate = str(meta.get("kind", "linear")), meta.get("gate")
        else:
            if prev_out is not None and prev_out != n_in:
                raise InputError(
                    f"{path}: {key} has {n_in} inputs but the previous layer has {prev_out} "
                    "outputs; layers must chain (n_out of layer k = n_in of layer k+1)."
                )
            name, src, dst, kind, gate = (
                key,
                ("input" if k == 0 else f"l{k}"),
                f"l{k + 1}",
                "linear",
                None,
            )
        for g, n in ((src, n_in), (dst, n_out)):
            if groups.setdefault(g, n) != n:
                raise InputError(
                    f"{path}: group {g!r} has {groups[g]} units in one layer and {n} in {key}."
                )
        specs.append(LayerSpec(name, src, dst, n_in, n_out, kind, gate, len(specs)))
        edges[name], bad = matrix_edges(matrix, allow_nonfinite, f"{path} ({key})")
        dropped += bad
        if bias is not None and not drop_bias:
            bias_group = f"bias_l{k}"
            groups[bias_group] = 1
            bias_name = f"{name}.bias"
            specs.append(LayerSpec(bias_name, bias_group, dst, 1, n_out, kind, None, len(specs)))
            edges[bias_name], bad = matrix_edges(bias, allow_nonfinite, f"{path} ({key} bias)")
            dropped += bad
        prev_out = n_out
    return Architecture(groups=groups, layers=tuple(specs)), edges, dropped


def write_npz_snapshot(
    snapshot: GraphSnapshot, architecture: Architecture, directory: str | Path
) -> list[Path]:
    """Write a snapshot as weight_l{k}.npz files ((n_in + 1) x n_out, last row = bias, taken
    from a ``<layer>.bias`` layer when present, else zeros) plus ``layers.json`` so names,
    groups and kinds survive a round trip. Returns the files written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    main = [s for s in architecture.layers if not _is_bias_layer(s, architecture)]
    main.sort(key=lambda s: s.position)
    written: list[Path] = []
    meta = []
    for k, spec in enumerate(main):
        edges = snapshot.layers.get(spec.name)
        if edges is None:
            raise InputError(f"{out}: snapshot has no edges for layer {spec.name!r}.")
        full = np.zeros((spec.n_in + 1, spec.n_out), dtype=np.float32)
        full[edges.src, edges.dst] = edges.w
        bias = snapshot.layers.get(f"{spec.name}.bias")
        if bias is not None:
            full[spec.n_in, bias.dst] = bias.w
        target = out / f"weight_l{k}.npz"
        sp.save_npz(target, sp.csr_matrix(full))
        written.append(target)
        meta.append(
            {
                "name": spec.name,
                "src_group": spec.src_group,
                "dst_group": spec.dst_group,
                "kind": spec.kind,
                "gate": spec.gate,
            }
        )
    sidecar = out / SIDECAR
    sidecar.write_text(json.dumps({"layers": meta}, indent=1))
    written.append(sidecar)
    return written


def _is_bias_layer(spec: LayerSpec, architecture: Architecture) -> bool:
    if not spec.name.endswith(".bias") or spec.n_in != 1:
        return False
    base = spec.name[: -len(".bias")]
    return any(s.name == base for s in architecture.layers)
