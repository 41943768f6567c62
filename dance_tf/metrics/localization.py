"""Weak object localisation from saliency maps (S12; Fong & Vedaldi 2017, Dabkowski & Gal 2017).

A map is reduced to pixel scores, thresholded (value, energy or mean thresholding, α = 0.25
in Table S3), and the tightest box around the kept pixels is compared with the ground-truth
box(es) by intersection over union; a box with IoU > 0.5 is correct.

Boxes are ``(x_min, y_min, x_max, y_max)`` in pixel indices of the map, both ends
inclusive (the ImageNet / PASCAL VOC convention, 0-based here): a one-pixel box at
column 3, row 5 is ``(3, 5, 3, 5)`` with area 1.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dance_tf.metrics.sanity import pixel_map

THRESHOLDS = ("value", "energy", "mean")


def _pixel_map(saliency) -> np.ndarray:
    """One (H, W) or (H, W, C) map → Σ_c |map| (H, W), float64."""
    s = np.asarray(saliency)
    if s.ndim not in (2, 3):
        raise ValueError(f"saliency: expected one (H, W) or (H, W, C) map, got shape {s.shape}")
    return pixel_map(s[None], np.float64)[0]


def threshold_mask(saliency, method: str = "value", alpha: float = 0.25) -> np.ndarray:
    """Boolean (H, W) mask of the pixels a thresholding strategy keeps.

    saliency: one (H, W) map, or (H, W, C) reduced to Σ_c |map|; magnitudes are used.
    method: "value" keeps s ≥ α·max(s); "energy" keeps the fewest highest pixels whose sum
    reaches α of the total (so α = 0.25 keeps the top quarter of the energy); "mean" keeps
    s ≥ α·mean(s). An all-zero map keeps every pixel.
    """
    if method not in THRESHOLDS:
        raise ValueError(f"method: expected one of {THRESHOLDS}, got {method!r}")
    if not alpha > 0:
        raise ValueError(f"alpha: expected a positive level, got {alpha}")
    s = _pixel_map(saliency)
    if not np.any(s > 0):
        return np.ones(s.shape, dtype=bool)
    if method == "value":
        return s >= alpha * s.max()
    if method == "mean":
        return s >= alpha * s.mean()
    flat = s.ravel()
    order = np.argsort(-flat, kind="stable")
    cum = np.cumsum(flat[order])
    n_keep = int(np.searchsorted(cum, min(alpha, 1.0) * cum[-1] * (1 - 1e-12))) + 1
    mask = np.zeros(flat.size, dtype=bool)
    mask[order[:n_keep]] = True
    return mask.reshape(s.shape)


def mask_to_box(mask, largest_component: bool = False) -> np.ndarray:
    """Tightest inclusive box (x_min, y_min, x_max, y_max) around the True pixels.

    largest_component: box only the largest 8-connected component (as CAM-style
    localisation does) instead of all kept pixels. Returns int64 (4,).
    """
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        raise ValueError("mask: no pixel is kept")
    if largest_component:
        labels, count = ndimage.label(m, structure=np.ones((3, 3)))
        if count > 1:
            sizes = ndimage.sum(m, labels, index=np.arange(1, count + 1))
            m = labels == (int(np.argmax(sizes)) + 1)
    rows = np.flatnonzero(m.any(axis=1))
    cols = np.flatnonzero(m.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1], rows[-1]], dtype=np.int64)


def saliency_box(saliency, method: str = "value", alpha: float = 0.25,
                 largest_component: bool = False) -> np.ndarray:
    """Box (x_min, y_min, x_max, y_max) from one map by thresholding (S12)."""
    return mask_to_box(threshold_mask(saliency, method, alpha), largest_component)


def box_iou(box_a, box_b) -> np.ndarray:
    """IoU of inclusive pixel boxes (..., 4) × (..., 4) → (...,) float64, broadcasting."""
    a = np.asarray(box_a, dtype=np.float64)
    b = np.asarray(box_b, dtype=np.float64)
    iw = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + 1
    ih = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + 1
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = (a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1)
    area_b = (b[..., 2] - b[..., 0] + 1) * (b[..., 3] - b[..., 1] + 1)
    return inter / (area_a + area_b - inter)


def localization_iou(saliency, gt_boxes, method: str = "value", alpha: float = 0.25,
                     largest_component: bool = False) -> np.ndarray:
    """Best IoU between each map's box and that image's ground-truth boxes.

    saliency: (N, H, W) or (N, H, W, C) maps at the resolution the boxes refer to;
    gt_boxes: a sequence of N arrays, each (B_i, 4) or (4,), in the map's pixel indices
    (rescale ImageNet boxes to the resized image first). Returns (N,) float64.
    """
    maps = np.asarray(saliency)
    if len(gt_boxes) != len(maps):
        raise ValueError(f"gt_boxes: expected {len(maps)} entries, got {len(gt_boxes)}")
    out = []
    for s, gt in zip(maps, gt_boxes):
        box = saliency_box(s, method, alpha, largest_component)
        gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
        out.append(float(np.max(box_iou(box[None], gt))))
    return np.asarray(out)


def localization_accuracy(saliency, gt_boxes, method: str = "value", alpha: float = 0.25,
                          iou_threshold: float = 0.5, largest_component: bool = False
                          ) -> float:
    """Fraction of images whose box has IoU > ``iou_threshold`` with a ground-truth box."""
    iou = localization_iou(saliency, gt_boxes, method, alpha, largest_component)
    return float(np.mean(iou > iou_threshold))
