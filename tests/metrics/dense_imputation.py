"""The imputation of ROAD written pixel by pixel and solved densely (metric tests)."""

import numpy as np


def dense_impute(image, removed):
    """Every removed pixel = the weighted mean (1/6 edges, 1/12 corners, over the
    neighbours inside the image) of its 8 neighbours: a dense system, np.linalg.solve."""
    h, w, c = image.shape
    unknown = [(r, q) for r in range(h) for q in range(w) if removed[r, q]]
    pos = {p: i for i, p in enumerate(unknown)}
    a = np.zeros((len(unknown), len(unknown)))
    b = np.zeros((len(unknown), c))
    for i, (r, q) in enumerate(unknown):
        for dr in (-1, 0, 1):
            for dq in (-1, 0, 1):
                if (dr, dq) == (0, 0) or not (0 <= r + dr < h and 0 <= q + dq < w):
                    continue
                wt = 1 / 12 if dr and dq else 1 / 6
                a[i, i] += wt
                if (r + dr, q + dq) in pos:
                    a[i, pos[(r + dr, q + dq)]] -= wt
                else:
                    b[i] += wt * image[r + dr, q + dq]
    out = image.astype(np.float64).copy()
    for (r, q), v in zip(unknown, np.linalg.solve(a, b)):
        out[r, q] = v
    return out
