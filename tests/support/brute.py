"""Brute-force references the tests compare the library and the Cypher queries against."""

from __future__ import annotations

import numpy as np


def brute_ffls(m: np.ndarray) -> list[tuple[int, int, int, str, int]]:
    """Every FFL (i, j, k, class, sign product) by enumeration over the edge list."""
    out = []
    src, dst = np.nonzero(m)
    for i, k in zip(src, dst, strict=False):
        if i == k:
            continue
        for j in np.nonzero((m[i] != 0) & (m[:, k] != 0))[0]:
            if j in (i, k):
                continue
            ji, kj, ki = m[j, i] != 0, m[k, j] != 0, m[k, i] != 0
            n_rev = int(ji) + int(kj) + int(ki)
            cls = {0: "030T", 2: "210", 3: "300"}.get(n_rev)
            if cls is None:
                cls = "120U" if ji else ("120D" if kj else "120C")
            out.append((int(i), int(j), int(k), cls, int(m[i, j]) * int(m[j, k]) * int(m[i, k])))
    return out
