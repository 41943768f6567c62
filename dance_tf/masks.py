"""Swappable patches and decoy masks (§3.3, S1.1).

A patch is a P-wide window over the feature axes of one input — P×P pixels with all their
channels for an image (H, W, C), P consecutive words with their whole embedding rows for a
sentence (T, D), P consecutive features for a tabular row (F,) — sliding with ``stride``.
There are ∏ ((size − P) // stride + 1) windows (the paper's (√d − P + stride)² / stride²).

Windows are packed into masks:

* ``packing="paper"``: m windows per mask in raster order, n = ceil(#windows / m) masks
  (S1.1; m = 100 for ImageNet, 1 for text and tabular). Every window is in one mask.
* ``packing="tiles"``: compact tiles. The window grid is cut into blocks of about
  b = ⌈m^(1/k)⌉ windows per axis (balanced, so no thin edge tiles), one block per mask:
  each decoy perturbs one square region of about (b + P − 1)^k input positions. About the
  paper's count for the same m, but where a raster mask is a strip as wide as the input, a
  tile is as compact as a mask of m windows can be. For text and tabular (k = 1) it is
  the paper's raster runs, balanced. Measured on digits (5 seeds, BENCHMARKS.md): where
  few decoys must cover many windows, tiles keep or improve fidelity SF — at 96², 72 tile
  decoys score 0.51 ± 0.04 better than the paper's 178; at 64², 72 agree with 78 — but 9
  tiles of a 32² input score 0.26 ± 0.05 worse than 9 strips. So a large m with tiles is
  the way to few decoys on large images (vgg_16 at 224², m = 500: 2n = 200).
* ``packing="auto"``: the paper's packing when it makes at most ``target_decoys`` decoys
  (2n), else compact tiles as large as needed to stay within it: the fewest windows per
  tile side b with ∏ ⌈n_a / b⌉ ≤ target / 2 masks. Small inputs (digits, text, tabular
  rows) keep the paper's masks; a 224² image gets 10 × 10 tiles of 23² windows (2n = 200,
  the same masks as ``tiles`` with m = 500) instead of 2n = 986. On ImageNet (§7 of
  reproduction/PREREGISTRATION.md; numbers in REPRODUCTION.md, "Packing on large images")
  ``target_decoys=50`` (the masks of tiles m = 2000) was confirmed non-inferior to the
  paper's packing for DANCE-SmoothGrad-10, while the DANCE-gradient scored worse under
  tiles; the methods disagree, so the registered rule keeps ``paper`` the default.
* ``packing="receptive_field"``: windows whose layer-ℓ receptive fields cannot overlap share
  a mask. Windows on a lattice of spacing q (in windows) with q · stride ≥ R + P − 1, R the
  receptive-field extent of layer ℓ, touch disjoint sets of layer-ℓ units, so the decoy loss
  of such a mask is the sum of independent per-window losses: the decoys are the ones each
  window would get alone, at the cost of one. n = q^k masks for k feature axes, however
  large the input (for vgg_16 at 224², ℓ = pool1, P = 3: R = 6, q = 8, n = 64).
  It never makes more masks than the paper's packing with the same m: where the lattice
  would (small inputs: the digits CNN at 32², R = 4, q = 6 gives 36 masks of 25 windows
  against the paper's 9 of 100), the paper's packing is used: more decoys cost time and
  moved fidelity SF on digits, and shrinking q to fit the count instead would make masks
  that tile the whole input (q = P). Measured on digits, lattice masks agree with raster
  masks at 64² but score ~6 % worse SF at 32² (equal count) and 96² (BENCHMARKS.md,
  packing): a lattice decoy moves the whole input, so every decoy moves every gradient.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from dance_tf.features import feature_axes

PACKINGS = ("paper", "tiles", "receptive_field", "auto")
#: ``packing="auto"``: at most this many decoys 2n unless asked otherwise (issue 26, §7 of
#: reproduction/PREREGISTRATION.md: tiles m = 500 at 224², the size of the study's runs)
TARGET_DECOYS = 200


def default_patch(input_shape: tuple[int, ...]) -> tuple[int, int]:
    """The paper's (P, m) for an input of this shape (Table S1): images 3 and 100, else 1, 1."""
    return (3, 100) if len(input_shape) >= 3 else (1, 1)


def window_starts(size: int, patch: int, stride: int) -> np.ndarray:
    """Start offsets of P-wide windows along one axis: 0, stride, ... ≤ size − P."""
    return np.arange(0, size - patch + 1, stride)


def windows(input_shape: tuple[int, ...], patch: int, stride: int) -> np.ndarray:
    """All window start corners over the feature axes, raster order: (#windows, k) ints."""
    k = feature_axes(input_shape)
    _check(input_shape, patch, stride, 1)
    starts = [window_starts(input_shape[a], patch, stride) for a in range(k)]
    return np.array(list(itertools.product(*starts)), dtype=np.int64).reshape(-1, k)


def count_masks(input_shape: tuple[int, ...], patch: int, stride: int, per_mask: int) -> int:
    """n = ceil(#windows / m) for the paper's packing (S1.1); the decoys are 2n."""
    return math.ceil(len(windows(input_shape, patch, stride)) / per_mask)


def _check(input_shape, patch, stride, per_mask) -> None:
    k = feature_axes(input_shape)
    if isinstance(patch, bool) or not isinstance(patch, (int, np.integer)) or patch < 1:
        raise ValueError(f"patch_size: expected an integer ≥ 1, got {patch!r}")
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride: expected an integer ≥ 1, got {stride!r}")
    if (isinstance(per_mask, bool) or not isinstance(per_mask, (int, np.integer))
            or per_mask < 1):
        raise ValueError(f"patches_per_mask: expected an integer m ≥ 1, got {per_mask!r}")
    too_big = [input_shape[a] for a in range(k) if patch > input_shape[a]]
    if too_big:
        raise ValueError(f"patch_size: {patch} is larger than the input's feature axes "
                         f"{tuple(input_shape[:k])}")


def paint(input_shape, corners: np.ndarray, patch: int) -> np.ndarray:
    """One mask (*input_shape) from its window corners (m, k)."""
    k = feature_axes(input_shape)
    grid = np.zeros(input_shape[:k], dtype=np.float32)
    for c in corners:
        grid[tuple(slice(s, s + patch) for s in c)] = 1.0
    extra = len(input_shape) - k
    return np.broadcast_to(grid.reshape(grid.shape + (1,) * extra), input_shape)


def window_groups(input_shape: tuple[int, ...], patch_size: int, stride: int = 1,
                  patches_per_mask: int = 1, packing: str = "paper",
                  receptive_field: int | None = None,
                  target_decoys: int = TARGET_DECOYS) -> list[np.ndarray]:
    """Which windows share each mask: a list of (m_i, k) corner arrays, one per mask.
    ``target_decoys``: the most decoys (2n) ``packing="auto"`` makes."""
    input_shape = tuple(int(s) for s in input_shape)
    _check(input_shape, patch_size, stride, patches_per_mask)
    if packing not in PACKINGS:
        raise ValueError(f"packing: expected one of {PACKINGS}, got {packing!r}")
    corners = windows(input_shape, patch_size, stride)
    if packing == "paper":
        return raster_groups(corners, patches_per_mask)
    if packing == "tiles":
        return tile_groups(corners, stride, patches_per_mask)
    if packing == "auto":
        return auto_groups(corners, stride, patches_per_mask, target_decoys)
    if receptive_field is None or receptive_field < 1:
        raise ValueError("receptive_field: packing='receptive_field' needs the layer-ℓ "
                         "receptive-field extent R ≥ 1")
    lattice = lattice_groups(corners, patch_size, stride, receptive_field)
    paper = raster_groups(corners, patches_per_mask)
    # independence would cost more decoys than the paper's m: keep the paper's packing
    return paper if len(lattice) > len(paper) else lattice


def raster_groups(corners: np.ndarray, per_mask: int) -> list[np.ndarray]:
    """The paper's packing (S1.1): consecutive groups of m windows in raster order."""
    return [corners[i:i + per_mask] for i in range(0, len(corners), per_mask)]


def tile_side(per_mask: int, axes: int) -> int:
    """b = the smallest integer with b^k ≥ m: windows per axis of a tile of ~m windows."""
    b = 1
    while b ** axes < per_mask:
        b += 1
    return b


def tile_groups(corners: np.ndarray, stride: int, per_mask: int,
                side: int | None = None) -> list[np.ndarray]:
    """Compact packing: the window grid cut into ⌈n_a / b⌉ balanced blocks per axis a
    (b = ``side``, by default ``tile_side(m, k)``), one block per mask, in raster order of
    the blocks."""
    index = corners // stride  # window index along each axis, 0 .. n_a − 1
    n_axis = index.max(axis=0) + 1
    b = tile_side(per_mask, corners.shape[1]) if side is None else side
    tiles = -(-n_axis // b)  # ceil
    # balanced: block sizes differ by at most one window
    return _group_by(corners, index * tiles // n_axis)


def auto_groups(corners: np.ndarray, stride: int, per_mask: int,
                target: int) -> list[np.ndarray]:
    """``packing="auto"``: the paper's groups of m when 2n ≤ ``target``, else balanced
    tiles of the smallest side b with ∏ ⌈n_a / b⌉ ≤ ⌊target / 2⌋ masks."""
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or target < 2:
        raise ValueError(f"target_decoys: expected an integer ≥ 2 (two decoys a mask), "
                         f"got {target!r}")
    paper = raster_groups(corners, per_mask)
    if 2 * len(paper) <= target:
        return paper
    n_axis = (corners // stride).max(axis=0) + 1
    side = 1
    while np.prod(-(-n_axis // side)) > target // 2:
        side += 1
    return tile_groups(corners, stride, per_mask, side)


def _group_by(corners: np.ndarray, keys: np.ndarray) -> list[np.ndarray]:
    """Windows with equal key rows (one int key per feature axis) share a mask; masks in
    sorted key order, windows in raster order within each."""
    classes: dict[tuple, list[int]] = {}
    for i, key in enumerate(map(tuple, keys)):
        classes.setdefault(key, []).append(i)
    return [corners[idx] for _, idx in sorted(classes.items())]


def patch_masks(input_shape: tuple[int, ...], patch_size: int, stride: int = 1,
                patches_per_mask: int = 1, packing: str = "paper",
                receptive_field: int | None = None,
                target_decoys: int = TARGET_DECOYS) -> tuple[np.ndarray, list[np.ndarray]]:
    """Decoy masks for one input shape (§3.3, S1.1).

    Returns (masks, groups): masks (n, *input_shape) float32 0/1; groups[i] the window
    corners (j, k) packed in mask i. ``receptive_field`` (R, in input positions) is
    needed for ``packing="receptive_field"``; ``target_decoys`` (2n at most) is read by
    ``packing="auto"``.
    """
    groups = window_groups(input_shape, patch_size, stride, patches_per_mask, packing,
                           receptive_field, target_decoys)
    shape = tuple(int(s) for s in input_shape)
    return np.stack([paint(shape, g, patch_size) for g in groups]), groups


def lattice_groups(corners: np.ndarray, patch: int, stride: int, rf: int) -> list[np.ndarray]:
    """Group windows by residue class mod q, q·stride ≥ R + P − 1 (independent windows)."""
    q = max(1, math.ceil((rf + patch - 1) / stride))
    return _group_by(corners, (corners // stride) % q)


def covered(masks: np.ndarray, corners: np.ndarray, patch: int) -> np.ndarray:
    """For each window, whether some mask contains all of it (a check used in tests)."""
    k = corners.shape[1]
    flat = masks.reshape(masks.shape[0], *masks.shape[1:1 + k], -1)[..., 0]
    hits = []
    for c in corners:
        region = flat[(slice(None),) + tuple(slice(s, s + patch) for s in c)]
        hits.append(bool(np.any(region.reshape(len(flat), -1).min(axis=1) > 0)))
    return np.array(hits)


def corner_table(groups: list[np.ndarray]) -> np.ndarray:
    """Pack the window corners of each mask into one int32 array (n, m_max, k), padded
    with −1: the compact form the compiled pipeline builds masks from."""
    k = groups[0].shape[1]
    width = max(len(g) for g in groups)
    table = np.full((len(groups), width, k), -1, dtype=np.int32)
    for i, g in enumerate(groups):
        table[i, : len(g)] = g
    return table


def masks_from_corners(corners, input_shape, patch: int):
    """In-graph masks (c, *input_shape) float32 0/1 from a corner table (c, m, k) (−1 =
    padding): each corner paints a P-wide window over the k feature axes, broadcast over
    the remaining (channel / embedding) axes. ``input_shape`` may be a dynamic shape."""
    import tensorflow as tf

    corners = tf.convert_to_tensor(corners, tf.int32)
    k = int(corners.shape[-1])
    input_shape = tf.convert_to_tensor(input_shape, tf.int32)
    rank = int(input_shape.shape[0])
    c, width = tf.shape(corners)[0], tf.shape(corners)[1]
    valid = tf.cast(corners[..., 0] >= 0, tf.float32)
    batch = tf.broadcast_to(tf.range(c)[:, None, None], tf.stack([c, width, 1]))
    index = tf.reshape(tf.concat([batch, tf.maximum(corners, 0)], -1), [-1, 1 + k])
    feature_shape = input_shape[:k]
    grid = tf.scatter_nd(index, tf.reshape(valid, [-1]),
                         tf.concat([[c], feature_shape], 0))
    grid = tf.minimum(grid, 1.0)
    # window at corner q covers q..q+P−1: pad P−1 before each axis, max-pool P, stride 1
    padded = tf.pad(grid, [[0, 0]] + [[patch - 1, 0]] * k)[..., None]
    painted = tf.nn.pool(padded, [patch] * k, "MAX", strides=[1] * k, padding="VALID")
    painted = tf.reshape(painted, tf.concat([[c], feature_shape,
                                             tf.ones([rank - k], tf.int32)], 0))
    return tf.broadcast_to(painted, tf.concat([[c], input_shape], 0))


def receptive_field(f_l, input_shape: tuple[int, ...], lo, hi, trials: int = 4,
                    seed: int = 0) -> int:
    """Largest extent (in input positions, over the feature axes) of the input region that
    one layer-ℓ unit depends on.

    The support of ∂(Σ_channels F_ℓ at the central output position)/∂x is measured at
    ``trials`` random inputs in [lo, hi] and united (ReLU paths that are off at one input
    are on at another). Layer outputs without spatial axes (dense layers) see the whole
    input: the largest feature-axis size is returned.
    """
    import tensorflow as tf

    k = feature_axes(input_shape)
    rng = np.random.default_rng(seed)
    lo = np.broadcast_to(np.asarray(lo, np.float32), input_shape)
    hi = np.broadcast_to(np.asarray(hi, np.float32), input_shape)
    out_shape = f_l.output_shape
    spatial_out = len(out_shape) - 2  # (N, *spatial, C)
    if spatial_out < 1 or spatial_out != k:
        return int(max(input_shape[:k]))
    centre = tuple(int(s) // 2 for s in out_shape[1:-1])
    support = np.zeros(input_shape[:k], bool)
    for _ in range(trials):
        x = tf.constant((lo + rng.random(input_shape, dtype=np.float32) * (hi - lo))[None])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f_l(x, training=False)
            unit = tf.reduce_sum(y[(0,) + centre])
        g = tape.gradient(unit, x)
        if g is None:
            return int(max(input_shape[:k]))
        g = np.abs(g.numpy()[0])
        support |= g.reshape(g.shape[:k] + (-1,)).max(axis=-1) > 0
    if not support.any():
        return 1
    extents = [np.ptp(np.nonzero(support.any(axis=tuple(b for b in range(k) if b != a)))[0]) + 1
               for a in range(k)]
    return int(max(extents))
