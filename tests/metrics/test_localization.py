"""dance_tf.metrics.localization: thresholds, boxes, IoU and accuracy, by hand."""

import numpy as np
import pytest

from dance_tf.metrics import (
    box_iou,
    localization_accuracy,
    localization_iou,
    saliency_box,
    threshold_mask,
)


def test_thresholds_and_boxes():
    s = np.zeros((6, 8))
    s[1:3, 2:5] = 1.0  # a 2×3 block of ones
    s[5, 7] = 0.2
    assert threshold_mask(s, "value", 0.25).sum() == 6
    assert threshold_mask(s, "mean", 0.25).sum() == 7  # mean = 6.2/48, 0.2 ≥ 0.032
    # energy 0.5 of 6.2 = 3.1 → the four highest ones (ties by position) reach 4 ≥ 3.1
    assert threshold_mask(s, "energy", 0.5).sum() == 4
    np.testing.assert_array_equal(saliency_box(s, "value"), [2, 1, 4, 2])
    np.testing.assert_array_equal(saliency_box(s, "mean"), [2, 1, 7, 5])
    np.testing.assert_array_equal(saliency_box(s, "mean", largest_component=True), [2, 1, 4, 2])


def test_iou_and_accuracy():
    assert box_iou([0, 0, 1, 1], [0, 0, 1, 1]) == pytest.approx(1.0)
    # 2×2 and 2×2 overlapping in a 1×2 strip: 2 / (4 + 4 − 2)
    assert box_iou([0, 0, 1, 1], [1, 0, 2, 1]) == pytest.approx(2 / 6)
    assert box_iou([0, 0, 1, 1], [5, 5, 6, 6]) == 0.0
    maps = np.zeros((2, 6, 8))
    maps[:, 1:3, 2:5] = 1.0
    gts = [np.array([[2, 1, 4, 2]]), np.array([[0, 0, 0, 0], [2, 1, 5, 3]])]
    np.testing.assert_allclose(localization_iou(maps, gts), [1.0, 6 / 12])
    assert localization_accuracy(maps, gts) == 0.5
