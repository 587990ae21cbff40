"""CSV and npz imports need no torch: torch is the optional [train] extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys, pathlib, tempfile
    sys.modules["torch"] = None  # every `import torch` now raises ImportError
    import numpy as np, scipy.sparse as sp
    from sparsetopo.ingest.importers import read_inputs
    import sparsetopo.cli.main  # the CLI, ingest included, loads without torch
    d = pathlib.Path(tempfile.mkdtemp())
    (d / "e_1.csv").write_text("Id,Source,Target,Weight\\n0,0,1,0.5\\n1,1,0,-2\\n")
    print(sum(s.n_edges for s in read_inputs([d / "e_1.csv"]).snapshots()))
    n = d / "npz"
    n.mkdir()
    sp.save_npz(n / "weight_l0.npz", sp.csr_matrix(np.array([[1.0, 0], [0, 2.0], [0.5, 0]])))
    plan = read_inputs([n], layers=["weight_l0"])
    print(sum(s.n_edges for s in plan.snapshots()))
    try:
        read_inputs([d / "missing.pt"], fmt="pt")
    except Exception as exc:
        print(type(exc).__name__)
    print("torch" in sys.modules and sys.modules["torch"] is not None)
""")


def test_csv_and_npz_import_without_torch():
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    # 2 CSV edges; 2 npz edges (the last row is the bias, dropped); torch never imported
    assert res.stdout.split() == ["2", "2", "InputError", "False"]
