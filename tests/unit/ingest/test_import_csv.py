"""Edge-list CSV import, checked against the Zhang et al. fixture read with the csv module."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.support.extras import requires

requires("torch")

from sparsetopo.errors import InputError
from sparsetopo.ingest.importers import read_inputs, step_from_name, write_csv_snapshot

HEADER = "Id,Source,Target,Weight\n"


def _rows(path: Path) -> list[tuple[int, int, float]]:
    with path.open(newline="") as fh:
        return [
            (int(r["Source"]), int(r["Target"]), float(r["Weight"])) for r in csv.DictReader(fh)
        ]


@pytest.mark.slow  # ~3 s: reads 41 edge lists
def test_zhang_directory(zhang_dir: Path) -> None:
    plan = read_inputs([zhang_dir])
    files = sorted(
        zhang_dir.glob("edge_list_weighted_*.csv"), key=lambda p: int(p.stem.split("_")[-1])
    )
    assert plan.format == "csv" and len(plan) == len(files) == 41
    assert [i.step for i in plan.items] == [int(p.stem.split("_")[-1]) for p in files]
    n = 1 + max(max(s, d) for p in files for s, d, _ in _rows(p))
    assert n == 150
    spec = plan.architecture.layers[0]
    assert plan.architecture.groups == {"hidden": 150}
    assert (spec.name, spec.kind, spec.src_group, spec.dst_group, spec.n_in) == (
        "W_rec",
        "recurrent",
        "hidden",
        "hidden",
        150,
    )
    for item, path in [
        (plan.items[0], files[0]),
        (plan.items[7], files[7]),
        (plan.items[-1], files[-1]),
    ]:
        snap = plan.load(item)
        rows = sorted(r for r in _rows(path) if r[2] != 0)
        e = snap.layers["W_rec"]
        assert snap.step == item.step and len(e) == len(rows)
        assert e.src.tolist() == [r[0] for r in rows] and e.dst.tolist() == [r[1] for r in rows]
        np.testing.assert_array_equal(e.w, np.array([r[2] for r in rows], dtype=np.float32))
    assert plan.load(plan.items[0]).n_edges == 22500  # dense at epoch 0


def test_n_is_stable_across_files(tmp_path: Path) -> None:
    (tmp_path / "a_1.csv").write_text(HEADER + "0,0,1,0.5\n")
    (tmp_path / "a_2.csv").write_text(HEADER + "0,4,2,-0.5\n")
    plan = read_inputs([tmp_path / "a_1.csv", tmp_path / "a_2.csv"])
    assert plan.architecture.groups == {"hidden": 5}
    assert read_inputs([tmp_path], n=9).architecture.layers[0].n_out == 9
    with pytest.raises(InputError, match="n >= 5"):
        read_inputs([tmp_path], n=3)


def test_steps_from_names_order_and_explicit(tmp_path: Path) -> None:
    assert step_from_name("ckpt_epoch12.pt") == 12
    for name in ("x_10.csv", "x_9.csv", "x_100.csv"):
        (tmp_path / name).write_text(HEADER + "0,0,1,1.0\n")
    assert [i.step for i in read_inputs([tmp_path]).items] == [9, 10, 100]
    plan = read_inputs([tmp_path / "x_100.csv", tmp_path / "x_9.csv"], steps=[3, 4])
    assert [(i.step, Path(i.source).name) for i in plan.items] == [(3, "x_100.csv"), (4, "x_9.csv")]
    (tmp_path / "final.csv").write_text(HEADER + "0,0,1,1.0\n")
    with pytest.warns(UserWarning, match="order given"):
        plan = read_inputs([tmp_path / "x_10.csv", tmp_path / "final.csv"])
    assert [i.step for i in plan.items] == [0, 1]
    with pytest.raises(InputError, match="one step per snapshot"):
        read_inputs([tmp_path / "x_10.csv"], steps=[1, 2])


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        ("", "empty"),
        ("Id,Source,Weight\n0,1,0.5\n", "missing column"),
        (HEADER + "0,1.5,2,0.5\n", "integers"),
        (HEADER + "0,x,2,0.5\n", "integers"),
        (HEADER + "0,-1,2,0.5\n", "negative"),
        (HEADER + "0,1,2,abc\n", "not a number"),
        (HEADER + "0,1,2,nan\n", "allow_nonfinite"),
        (HEADER + "0,1,2,inf\n", "allow_nonfinite"),
        (HEADER + "0,1,2,0.5\n1,1,2,0.7\n", "Remove the duplicates"),
        ('Id,Source,Target,Weight\n0,1,"2,0.5\n', "CSV"),
    ],
)
def test_bad_csv_raises_with_file_name_and_hint(tmp_path: Path, body: str, hint: str) -> None:
    path = tmp_path / "bad_3.csv"
    path.write_text(body)
    with pytest.raises(InputError) as err:
        read_inputs([path])
    assert "bad_3.csv" in str(err.value) and hint in str(err.value)


def test_nonfinite_dropped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "e_1.csv"
    path.write_text(HEADER + "0,0,1,nan\n1,1,0,0.5\n2,2,2,-inf\n")
    with pytest.warns(UserWarning, match="2 NaN/Inf"):
        plan = read_inputs([path], allow_nonfinite=True)
    assert plan.dropped_nonfinite == 2 and plan.dropped_by_source == {str(path): 2}
    e = plan.load(plan.items[0]).layers["W_rec"]
    assert e.src.tolist() == [1] and e.w.tolist() == [0.5]


def test_round_trip_through_exporter(zhang_dir: Path, tmp_path: Path) -> None:
    src = zhang_dir / "edge_list_weighted_35.csv"
    plan = read_inputs([src])
    snap = plan.load(plan.items[0])
    out = write_csv_snapshot(snap, plan.architecture, tmp_path / "copy_35.csv")
    again = read_inputs([out], n=150)
    snap2 = again.load(again.items[0])
    assert again.architecture == plan.architecture and snap2.step == 35
    for a in ("src", "dst", "w"):
        np.testing.assert_array_equal(
            getattr(snap2.layers["W_rec"], a), getattr(snap.layers["W_rec"], a)
        )


def test_mixed_or_unknown_inputs(tmp_path: Path, zhang_dir: Path) -> None:
    shutil.copy(zhang_dir / "edge_list_weighted_5.csv", tmp_path / "e_5.csv")
    (tmp_path / "notes_1.txt").write_text("x")
    with pytest.raises(InputError, match=r"notes_1\.txt"):
        read_inputs([tmp_path / "notes_1.txt"])
    with pytest.raises(InputError, match=r"missing_7\.csv"):
        read_inputs([tmp_path / "missing_7.csv"])
    with pytest.raises(InputError, match="twice"):
        read_inputs([tmp_path / "e_5.csv", zhang_dir / "edge_list_weighted_5.csv"])
