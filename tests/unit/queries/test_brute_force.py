"""The brute-force FFL reference of the query tests classifies as documented."""

from __future__ import annotations

import numpy as np

from tests.support.brute import brute_ffls

N = 6


def test_brute_force_reference_is_sane():
    # a 3-node graph with one balanced and one unbalanced FFL classifies as documented
    m = np.zeros((N, N), dtype=np.int8)
    m[0, 1] = m[1, 2] = m[0, 2] = 1  # 030T balanced
    m[3, 4] = m[4, 5] = 1
    m[3, 5] = -1
    m[5, 3] = 1  # k->i reverse: 120C
    got = sorted(brute_ffls(m))
    assert (0, 1, 2, "030T", 1) in got and (3, 4, 5, "120C", -1) in got
    assert [g[3] for g in got].count("030T") == 1
