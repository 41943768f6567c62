"""Noisy linear imputation of removed pixels (Rong et al. 2022, ROAD, §4 and App. C).

Each removed pixel takes the weighted mean of its 8 neighbours — weight 1/6 for the four
edge neighbours, 1/12 for the four corner neighbours, renormalised over the neighbours
that lie inside the image — where neighbours that are themselves removed are unknowns too.
The equations of all removed pixels form one sparse linear system

    (Σ_{j ∈ N(i)} w_ij) v_i − Σ_{j ∈ N(i), removed} w_ij v_j = Σ_{j ∈ N(i), kept} w_ij x_j

solved with a sparse LU factorisation (scipy.sparse), one right-hand side per channel;
then Gaussian noise of standard deviation ``noise`` (input units) is added to the imputed
pixels only. The system is non-singular whenever at least one pixel is kept.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as splinalg

from dance_tf import validate
from dance_tf.errors import InputError

#: (row offset, column offset, weight) of the 8 neighbours (Rong et al. 2022)
NEIGHBOURS = tuple((dr, dc, 1 / 12 if dr and dc else 1 / 6)
                   for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)


def imputation_system(removed: np.ndarray, image: np.ndarray):
    """The sparse system A v = b of one (H, W) removal mask and its (H, W, C) image.

    Returns (A (R, R) CSC, b (R, C), index (R,) flat pixel index of each unknown), R the
    number of removed pixels, in row-major order.
    """
    h, w = removed.shape
    index = np.flatnonzero(removed.ravel())
    var = np.full(h * w, -1, dtype=np.int64)
    var[index] = np.arange(len(index))
    rows, cols = np.divmod(index, w)
    flat = image.reshape(h * w, -1).astype(np.float64)
    diag = np.zeros(len(index))
    b = np.zeros((len(index), flat.shape[1]))
    a_rows, a_cols, a_vals = [], [], []
    for dr, dc, weight in NEIGHBOURS:
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        eq = np.flatnonzero(inside)
        nb = r[inside] * w + c[inside]
        diag[eq] += weight
        unknown = var[nb] >= 0
        a_rows.append(eq[unknown])
        a_cols.append(var[nb[unknown]])
        a_vals.append(np.full(int(unknown.sum()), -weight))
        b[eq[~unknown]] += weight * flat[nb[~unknown]]
    a_rows.append(np.arange(len(index)))
    a_cols.append(np.arange(len(index)))
    a_vals.append(diag)
    a = sparse.coo_matrix((np.concatenate(a_vals), (np.concatenate(a_rows),
                                                    np.concatenate(a_cols))),
                          shape=(len(index), len(index))).tocsc()
    return a, b, index


def noisy_linear_impute(image, removed, noise: float = 0.01,
                        rng: np.random.Generator | None = None) -> np.ndarray:
    """Impute the removed pixels of one image (Rong et al. 2022).

    image: (H, W, C) or (H, W); removed: (H, W) bool, one mask for every channel, or
    (H, W, C) bool, one mask per channel; noise: standard deviation of the Gaussian noise
    added to the imputed pixels (input units, ≥ 0; 0 gives the plain linear imputation);
    rng: the noise's generator (required when noise > 0). Returns a float64 copy of the
    image's shape.
    """
    img = validate.finite_array("image", image, dtype=np.float64)
    mask = np.asarray(removed)
    if mask.dtype != bool:
        raise TypeError(f"removed: expected a boolean mask, got an array of {mask.dtype}")
    noise = validate.number("noise", noise, **validate.NONNEG)
    squeeze = img.ndim == 2
    if squeeze:
        img = img[..., None]
    if img.ndim != 3 or mask.shape not in (img.shape[:2], img.shape):
        raise InputError(f"removed: expected (H, W) or (H, W, C) masks of an image "
                         f"{img.shape}, got {mask.shape}")
    if noise > 0 and rng is None:
        raise InputError("rng: a generator is needed for noise > 0")
    out = img.copy()
    groups = [(mask, slice(None))] if mask.ndim == 2 else \
        [(mask[..., c], slice(c, c + 1)) for c in range(img.shape[2])]
    for m, channels in groups:
        if not m.any():
            continue
        if m.all():
            raise InputError("removed: every pixel is removed; nothing to impute from")
        a, b, index = imputation_system(m, img[..., channels])
        values = splinalg.splu(a).solve(b)
        if noise > 0:
            values = values + noise * rng.standard_normal(values.shape)
        part = out[..., channels].reshape(-1, values.shape[1])
        part[index] = values
        out[..., channels] = part.reshape(out[..., channels].shape)
    return out[..., 0] if squeeze else out
