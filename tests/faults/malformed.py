"""Malformed inputs for the CLI: files, directories, options and query parameters.

Each case builds its inputs in a fresh folder and returns the command line; the test (and
scripts/faults.py) run it and check the exit code, a one-line message naming the file or
parameter and the fix, and that the database is unchanged.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

BASE_RUN = "faults-malformed-base"
HEADER = "Id,Source,Target,Weight\n"


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], list[str]]
    exit_code: int
    needles: tuple[str, ...]  # substrings the message must contain (file / parameter / fix)


def _csv(tmp: Path, body: str, name: str = "w_1.csv") -> str:
    path = tmp / name
    path.write_text(HEADER + body)
    return str(path)


def _ingest(*args: str) -> list[str]:
    return ["ingest", *args, "--run", "faults-malformed-new"]


def _npz_dense(tmp: Path, **arrays: np.ndarray) -> str:
    path = tmp / "snap_1.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return str(path)


def _sparse_dir(tmp: Path, mats: dict[str, np.ndarray]) -> str:
    folder = tmp / "epoch_1"
    folder.mkdir()
    for name, m in mats.items():
        sp.save_npz(folder / f"{name}.npz", sp.csr_matrix(m))
    return str(folder)


def _pt(tmp: Path, state: object, name: str = "ckpt_1.pt") -> str:
    import torch

    path = tmp / name
    torch.save(state, path)
    return str(path)


class _Custom:
    """A pickled object that torch.load(weights_only=True) refuses."""


def _pt_cases() -> list[Case]:
    import torch

    def lin(dtype: torch.dtype, value: complex | float | None = None) -> dict[str, torch.Tensor]:
        w = torch.ones(3, 4, dtype=dtype)
        if value is not None:
            w[1, 2] = value
        return {"fc.weight": w}

    return [
        Case("pt-complex", lambda t: _ingest(_pt(t, lin(torch.complex64, 1 + 2j))), 1,
             ("ckpt_1.pt", "complex")),
        Case("pt-pickled-object", lambda t: _ingest(_pt(t, {"model": _Custom()})), 1,
             ("ckpt_1.pt", "weights_only")),
        Case("pt-truncated", lambda t: _ingest(_truncate(_pt(t, lin(torch.float32)), 0.5)), 1,
             ("ckpt_1.pt", "truncated")),
        Case("pt-no-weights", lambda t: _ingest(_pt(t, {"fc.bias": torch.ones(3)})), 1,
             ("ckpt_1.pt", "no weight matrices")),
        Case("pt-float64-overflow", lambda t: _ingest(_pt(t, lin(torch.float64, 1e39))), 1,
             ("fc.weight", "float32 range")),
        Case("pt-float64-underflow", lambda t: _ingest(_pt(t, lin(torch.float64, 1e-50))), 1,
             ("fc.weight", "smallest magnitude")),
        Case("pt-nan", lambda t: _ingest(_pt(t, lin(torch.float32, float("nan")))), 1,
             ("ckpt_1.pt", "--allow-nonfinite")),
        Case("pt-bidirectional", lambda t: _ingest(_pt(t, torch.nn.GRU(3, 4, bidirectional=True)
                                                       .state_dict())), 1,
             ("ckpt_1.pt", "mapping")),
        Case("pt-not-a-checkpoint", lambda t: _ingest(_text(t, "ckpt_1.pt", "hello")), 1,
             ("ckpt_1.pt", "torch.save")),
    ]


def _truncate(path: str, fraction: float) -> str:
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * fraction)])
    return path


def _text(tmp: Path, name: str, text: str) -> str:
    (tmp / name).write_text(text)
    return str(tmp / name)


def _files(tmp: Path, names: list[str], body: str = "0,0,1,0.5\n") -> list[str]:
    return [_csv(tmp, body, n) for n in names]


def _sidecar(tmp: Path, text: str) -> str:
    folder = _sparse_dir(tmp, {"weight_l0": np.ones((3, 2))})
    (Path(folder) / "layers.json").write_text(text)
    return folder


def cases() -> list[Case]:
    out = [
        # -- CSV files -------------------------------------------------------------------
        Case("csv-empty", lambda t: _ingest(_text(t, "w_1.csv", "")), 1, ("w_1.csv", "empty")),
        Case("csv-wrong-header", lambda t: _ingest(_text(t, "w_1.csv", "a,b\n1,2\n")), 1,
             ("w_1.csv", "Id,Source,Target,Weight")),
        Case("csv-no-weight", lambda t: _ingest(_text(t, "w_1.csv", "Id,Source,Target\n0,0,1\n")),
             1, ("w_1.csv", "Weight")),
        Case("csv-source-text", lambda t: _ingest(_csv(t, "0,a,1,0.5\n")), 1,
             ("w_1.csv", "line 2", "Source")),
        Case("csv-source-negative", lambda t: _ingest(_csv(t, "0,-1,1,0.5\n")), 1,
             ("w_1.csv", "negative")),
        Case("csv-source-fraction", lambda t: _ingest(_csv(t, "0,1.5,1,0.5\n")), 1,
             ("w_1.csv", "Source")),
        Case("csv-target-empty", lambda t: _ingest(_csv(t, "0,1,,0.5\n")), 1,
             ("w_1.csv", "Target")),
        Case("csv-weight-text", lambda t: _ingest(_csv(t, "0,0,1,abc\n")), 1,
             ("w_1.csv", "not a number")),
        Case("csv-weight-nan", lambda t: _ingest(_csv(t, "0,0,1,nan\n")), 1,
             ("w_1.csv", "--allow-nonfinite")),
        Case("csv-weight-inf", lambda t: _ingest(_csv(t, "0,0,1,inf\n")), 1,
             ("w_1.csv", "--allow-nonfinite")),
        Case("csv-weight-overflow", lambda t: _ingest(_csv(t, "0,0,1,1e39\n")), 1,
             ("w_1.csv", "line 2", "float32 range")),
        Case("csv-weight-neg-overflow", lambda t: _ingest(_csv(t, "0,0,1,-1e39\n")), 1,
             ("w_1.csv", "float32 range")),
        Case("csv-weight-underflow", lambda t: _ingest(_csv(t, "0,0,1,1e-50\n")), 1,
             ("w_1.csv", "smallest magnitude", "stored as 0")),
        Case("csv-weight-neg-underflow", lambda t: _ingest(_csv(t, "0,0,1,0.5\n1,1,0,-1e-50\n")),
             1, ("w_1.csv", "line 3", "smallest magnitude")),
        Case("csv-duplicate-edge", lambda t: _ingest(_csv(t, "0,0,1,0.5\n1,0,1,0.7\n")), 1,
             ("w_1.csv", "appears 2 times")),
        Case("csv-truncated", lambda t: _ingest(_csv(t, "0,0,1,0.5\n1,1,")), 1,
             ("w_1.csv", "truncated")),
        Case("csv-index-1e12", lambda t: _ingest(_csv(t, "0,1000000000000,1,0.5\n")), 1,
             ("w_1.csv", "limit", "units per group")),
        Case("csv-index-overflow", lambda t: _ingest(_csv(t, "0,99999999999999999999,1,0.5\n")),
             1, ("w_1.csv", "limit")),
        Case("csv-binary", lambda t: _ingest(_bytes(t, "w_1.csv", b"\x89PNG\x00\x01\xff\xfe")), 1,
             ("w_1.csv",)),
        Case("csv-same-step-twice", lambda t: _ingest(*_files(t, ["w_1.csv", "x_01.csv"])), 1,
             ("step 1 is given twice",)),
        Case("csv-step-in-name-overflow",
             lambda t: _ingest(*_files(t, ["w_99999999999999999999.csv"])), 1,
             ("w_99999999999999999999.csv", "--steps")),
        # -- npz ------------------------------------------------------------------------
        Case("npz-complex", lambda t: _ingest(_npz_dense(t, weight_l0=np.ones((3, 2)) * 1j)), 1,
             ("snap_1.npz", "complex")),
        Case("npz-3d", lambda t: _ingest(_npz_dense(t, weight_l0=np.ones((3, 2, 2)))), 1,
             ("snap_1.npz", "2-D")),
        Case("npz-no-layers", lambda t: _ingest(_npz_dense(t, other=np.ones((3, 2)))), 1,
             ("snap_1.npz", "weight_l0")),
        Case("npz-overflow", lambda t: _ingest(_npz_dense(t, weight_l0=np.full((3, 2), 1e39))), 1,
             ("snap_1.npz", "float32 range")),
        Case("npz-underflow", lambda t: _ingest(_npz_dense(t, weight_l0=np.full((3, 2), 1e-50))),
             1, ("snap_1.npz", "smallest magnitude")),
        Case("npz-truncated",
             lambda t: _ingest(_truncate(_npz_dense(t, weight_l0=np.ones((30, 20))), 0.5)), 1,
             ("snap_1.npz", "truncated")),
        Case("npz-sparse-complex",
             lambda t: _ingest(_sparse_dir(t, {"weight_l0": np.ones((3, 2)) * (1 + 1j)})), 1,
             ("weight_l0.npz", "complex")),
        Case("npz-layer-gap",
             lambda t: _ingest(_sparse_dir(t, {"weight_l0": np.ones((3, 2)),
                                               "weight_l2": np.ones((3, 2))})), 1,
             ("epoch_1", "without gaps")),
        Case("npz-sidecar-bad-json", lambda t: _ingest(_sidecar(t, "{not json")), 1,
             ("layers.json", "delete it")),
        Case("npz-sidecar-count", lambda t: _ingest(_sidecar(t, '{"layers": []}')), 1,
             ("layers.json", "lists 0 layers")),
        Case("npz-no-chain",
             lambda t: _ingest(_npz_dense(t, weight_l0=np.ones((3, 4)), weight_l1=np.ones((7, 2)))),
             1, ("snap_1.npz", "chain")),
        Case("npz-object-array", lambda t: _ingest(_pickled_npz(t)), 1, ("snap_1.npz",)),
        Case("npz-not-zip", lambda t: _ingest(_text(t, "snap_1.npz", "hello")), 1,
             ("snap_1.npz",)),
        # -- paths and formats ------------------------------------------------------------
        Case("path-missing", lambda t: _ingest(str(t / "nope.csv")), 1,
             ("nope.csv", "no such file")),
        Case("dir-empty", lambda t: _ingest(str(t)), 1, ("found no .csv",)),
        Case("dir-mixed", lambda t: _ingest(_mixed(t)), 1, ("several formats", "--format")),
        Case("unknown-extension", lambda t: _ingest(_text(t, "w_1.txt", HEADER)), 1,
             ("w_1.txt", "--format")),
        Case("format-unknown", lambda t: _ingest(_csv(t, "0,0,1,0.5\n"), "--format", "xyz"), 1,
             ("unknown format", "csv, pt, npz")),
        Case("format-wrong", lambda t: _ingest(_csv(t, "0,0,1,0.5\n"), "--format", "npz"), 1,
             ("w_1.csv",)),
        Case("zip-bomb-name", lambda t: _ingest(_zip_not_npz(t)), 1, ("snap_1.npz",)),
        # -- CLI options -------------------------------------------------------------------
        Case("steps-decreasing",
             lambda t: _ingest(*_files(t, ["a_1.csv", "a_2.csv", "a_3.csv"]), "--steps",
                               "10,5,1"), 1, ("--steps 10,5,1", "must increase")),
        Case("steps-overflow",
             lambda t: _ingest(_csv(t, "0,0,1,0.5\n"), "--steps", "99999999999999999999"), 1,
             ("--steps", "out of range")),
        Case("steps-negative", lambda t: _ingest(_csv(t, "0,0,1,0.5\n"), "--steps", "-1"), 1,
             ("--steps", "out of range")),
        Case("steps-text", lambda t: _ingest(_csv(t, "0,0,1,0.5\n"), "--steps", "abc"), 2,
             ("--steps",)),
        Case("steps-count",
             lambda t: _ingest(*_files(t, ["a_1.csv", "a_2.csv"]), "--steps", "1"), 1,
             ("got 1 steps for 2 snapshots",)),
        Case("run-empty", lambda t: ["ingest", _csv(t, "0,0,1,0.5\n"), "--run", ""], 1,
             ("run name is empty",)),
        Case("run-control-chars", lambda t: ["ingest", _csv(t, "0,0,1,0.5\n"), "--run", "a\x01b"],
             1, ("control characters",)),
        Case("run-too-long", lambda t: ["ingest", _csv(t, "0,0,1,0.5\n"), "--run", "r" * 300], 1,
             ("at most 200",)),
        Case("n-too-small", lambda t: _ingest(_csv(t, "0,0,5,0.5\n"), "--n", "2"), 1,
             ("n=2", "n >= 6")),
        Case("n-beyond-limit", lambda t: _ingest(_csv(t, "0,0,5,0.5\n"), "--n", "1000000000000"),
             1, ("limit", "--n")),
        Case("n-zero", lambda t: _ingest(_csv(t, "0,0,5,0.5\n"), "--n", "0"), 1, ("n=0",)),
        Case("n-text", lambda t: _ingest(_csv(t, "0,0,5,0.5\n"), "--n", "many"), 2, ("--n",)),
        # -- against the existing base run --------------------------------------------------
        Case("existing-other-architecture",
             lambda t: ["ingest", _csv(t, "0,0,9,0.5\n", "w_9.csv"), "--run", BASE_RUN], 1,
             ("different architecture", "--replace")),
        Case("existing-other-weights",
             lambda t: ["ingest", _csv(t, "0,0,1,0.75\n1,2,2,-1\n", "w_1.csv"), "--run", BASE_RUN],
             1, ("already has step 1", "--replace")),
        Case("existing-step-before-last",
             lambda t: ["ingest", _csv(t, "0,0,1,0.5\n1,2,2,-1\n", "w_0.csv"), "--run", BASE_RUN],
             1, ("comes before step 2", "--replace")),
        # -- queries -------------------------------------------------------------------------
        Case("query-step-text", lambda t: _edges("step=abc"), 1, ("parameter step", "integer")),
        Case("query-step-fraction", lambda t: _edges("step=1.5"), 1, ("parameter step", "1.5")),
        Case("query-step-null", lambda t: _edges("step=null"), 1, ("parameter step is null",)),
        Case("query-layer-number", lambda t: ["query", "edges_alive", "-p", f"run={BASE_RUN}",
                                              "-p", "step=1", "-p", "layer=5"], 1,
             ("parameter layer", "text", "quote it")),
        Case("query-step-overflow", lambda t: _edges("step=99999999999999999999"), 1,
             ("parameter step", "64-bit")),
        Case("query-unknown-param", lambda t: ["query", "runs", "-p", "foo=1"], 1,
             ("no parameters ['foo']",)),
        Case("query-missing-param", lambda t: ["query", "snapshots"], 1, ("needs parameters",)),
        Case("query-param-no-equals", lambda t: ["query", "snapshots", "-p", "run"], 1,
             ("name=value",)),
        Case("query-unknown-name", lambda t: ["query", "nosuchquery"], 1,
             ("no library query named 'nosuchquery'",)),
        Case("query-param-bad-name", lambda t: ["query", "snapshots", "-p", "1x=2"], 1,
             ("not an identifier",)),
        Case("query-backend-unknown", lambda t: ["query", "snapshots", "-p", f"run={BASE_RUN}",
                                                 "--backend", "fast"], 2, ("fast",)),
        Case("query-backend-without-variant",
             lambda t: ["query", "snapshots", "-p", f"run={BASE_RUN}", "--backend", "plugin"], 1,
             ("query 'snapshots' runs in plain Cypher only", "overlap")),
        Case("cypher-write-without-flag",
             lambda t: ["cypher", "MATCH (r:Run) SET r.hacked = true RETURN count(r)"], 1,
             ("read-only", "--write")),
        Case("cypher-delete-without-flag", lambda t: ["cypher", "MATCH (n) DETACH DELETE n"], 1,
             ("--write",)),
        Case("cypher-param-overflow",
             lambda t: ["cypher", "RETURN $x AS x", "-p", "x=99999999999999999999"], 1,
             ("parameter x", "64-bit")),
        Case("cypher-empty", lambda t: ["cypher", "  "], 1, ("empty",)),
        # -- export / show / delete ----------------------------------------------------------
        Case("export-unwritable", lambda t: ["export", BASE_RUN, "-o", "/proc/none/x.csv", "-f",
                                             "csv"], 1, ("/proc/none/x.csv", "--out")),
        Case("export-format", lambda t: ["export", BASE_RUN, "-o", str(t / "x"), "-f", "xyz"], 2,
             ("'xyz' is not one of",)),
        Case("export-unknown-run", lambda t: ["export", "no-such-run-x", "-o", str(t / "x")], 1,
             ("no run named 'no-such-run-x'",)),
        Case("export-unknown-step",
             lambda t: ["export", BASE_RUN, "-o", str(t / "x"), "--step", "777"], 1,
             ("777",)),
        Case("show-unknown-run", lambda t: ["run", "show", "no-such-run-x"], 1,
             ("no run named 'no-such-run-x'",)),
        Case("delete-unknown-run", lambda t: ["run", "delete", "no-such-run-x", "-y"], 1,
             ("no run named 'no-such-run-x'",)),
    ]
    return out + _pt_cases()


def _edges(param: str) -> list[str]:
    return ["query", "edges_alive", "-p", f"run={BASE_RUN}", "-p", "layer=W_rec", "-p", param]


def _bytes(tmp: Path, name: str, data: bytes) -> str:
    (tmp / name).write_bytes(data)
    return str(tmp / name)


def _mixed(tmp: Path) -> str:
    _csv(tmp, "0,0,1,0.5\n")
    _npz_dense(tmp, weight_l0=np.ones((3, 2)))
    return str(tmp)


def _pickled_npz(tmp: Path) -> str:
    path = tmp / "snap_1.npz"
    np.savez(path, weight_l0=np.array([{"a": 1}], dtype=object))
    return str(path)


def _zip_not_npz(tmp: Path) -> str:
    path = tmp / "snap_1.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("weight_l0.npy", b"not an npy file")
    return str(path)


def build_base_run(ingest: Callable[[list[str]], int], tmp: Path) -> None:
    """The run the 'existing-*' cases collide with: steps 1 and 2 of a 3-unit network."""
    (tmp / "w_1.csv").write_text(HEADER + "0,0,1,0.5\n1,2,2,-1\n")
    (tmp / "w_2.csv").write_text(HEADER + "0,0,1,0.5\n1,2,0,0.25\n")
    code = ingest(["ingest", str(tmp), "--run", BASE_RUN, "--replace"])
    assert code == 0
