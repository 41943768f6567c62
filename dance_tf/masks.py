"""Swappable patches and decoy masks (§3.3, S1.1).

A patch is a P-wide window over the feature axes of one input — P×P pixels with all their
channels for an image (H, W, C), P consecutive words with their whole embedding rows for a
sentence (T, D), P consecutive features for a tabular row (F,) — sliding with ``stride``.
There are ∏ ((size − P) // stride + 1) windows (the paper's (√d − P + stride)² / stride²).

Windows are packed into masks:

* ``packing="paper"``: m windows per mask in raster order, n = ceil(#windows / m) masks
  (S1.1; m = 100 for ImageNet, 1 for text and tabular). Every window is in one mask.
* ``packing="receptive_field"``: windows whose layer-ℓ receptive fields cannot overlap share
  a mask. Windows on a lattice of spacing q (in windows) with q · stride ≥ R + P − 1, R the
  receptive-field extent of layer ℓ, touch disjoint sets of layer-ℓ units, so the decoy loss
  of such a mask is the sum of independent per-window losses: the decoys are the ones each
  window would get alone, at the cost of one. n = q^k masks for k feature axes, however
  large the input (for vgg_16 at 224², ℓ = pool1, P = 3: R = 6, q = 8, n = 64).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from dance_tf.reduce import feature_axes

PACKINGS = ("paper", "receptive_field")


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


def _paint(input_shape, corners: np.ndarray, patch: int) -> np.ndarray:
    k = feature_axes(input_shape)
    grid = np.zeros(input_shape[:k], dtype=np.float32)
    for c in corners:
        grid[tuple(slice(s, s + patch) for s in c)] = 1.0
    extra = len(input_shape) - k
    return np.broadcast_to(grid.reshape(grid.shape + (1,) * extra), input_shape)


def patch_masks(input_shape: tuple[int, ...], patch_size: int, stride: int = 1,
                patches_per_mask: int = 1, packing: str = "paper",
                receptive_field: int | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Decoy masks for one input shape (§3.3, S1.1).

    Returns (masks, groups): masks (n, *input_shape) float32 0/1; groups[i] the window
    corners (j, k) packed in mask i. ``receptive_field`` (R, in input positions) is
    needed for ``packing="receptive_field"``.
    """
    input_shape = tuple(int(s) for s in input_shape)
    _check(input_shape, patch_size, stride, patches_per_mask)
    if packing not in PACKINGS:
        raise ValueError(f"packing: expected one of {PACKINGS}, got {packing!r}")
    corners = windows(input_shape, patch_size, stride)
    if packing == "paper":
        groups = [corners[i:i + patches_per_mask]
                  for i in range(0, len(corners), patches_per_mask)]
    else:
        if receptive_field is None or receptive_field < 1:
            raise ValueError("receptive_field: packing='receptive_field' needs the layer-ℓ "
                             "receptive-field extent R ≥ 1")
        groups = lattice_groups(corners, patch_size, stride, receptive_field)
    masks = np.stack([_paint(input_shape, g, patch_size) for g in groups])
    return masks, groups


def lattice_groups(corners: np.ndarray, patch: int, stride: int, rf: int) -> list[np.ndarray]:
    """Group windows by residue class mod q, q·stride ≥ R + P − 1 (independent windows)."""
    q = max(1, math.ceil((rf + patch - 1) / stride))
    index = corners // stride
    keys = [tuple(row) for row in (index % q)]
    classes: dict[tuple, list[int]] = {}
    for i, key in enumerate(keys):
        classes.setdefault(key, []).append(i)
    return [corners[idx] for _, idx in sorted(classes.items())]


def covered(masks: np.ndarray, corners: np.ndarray, patch: int) -> np.ndarray:
    """For each window, whether some mask contains all of it (a check used in tests)."""
    k = corners.shape[1]
    flat = masks.reshape(masks.shape[0], *masks.shape[1:1 + k], -1)[..., 0]
    hits = []
    for c in corners:
        region = flat[(slice(None),) + tuple(slice(s, s + patch) for s in c)]
        hits.append(bool(np.any(region.reshape(len(flat), -1).min(axis=1) > 0)))
    return np.array(hits)
