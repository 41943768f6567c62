"""dance_tf.metrics.attack_report: top-k intersection, rank correlation, centre shift."""

import numpy as np

from dance_tf.metrics import (
    attack_report,
    center_shift,
    rank_correlation,
    topk_intersection,
)


def test_topk_intersection_and_rank_correlation():
    a = np.arange(16, dtype=float).reshape(1, 4, 4)
    b = a.copy()
    b[0, 3, 3], b[0, 0, 0] = b[0, 0, 0], b[0, 3, 3]  # the top pixel moves to the bottom
    # top-2 of a: {15, 14}; of b: {0→15 position 0, 14} → one shared
    np.testing.assert_allclose(topk_intersection(a, b, k=2), [0.5])
    np.testing.assert_allclose(topk_intersection(a, a, k=0.25), [1.0])
    np.testing.assert_allclose(rank_correlation(a, a), [1.0])
    np.testing.assert_allclose(rank_correlation(a, -a[:, ::-1, ::-1] + 20), [1.0])
    # swapping ranks 1 and 16 of 16: ρ = 1 − 6·(2·15²)/(16·(16² − 1))
    np.testing.assert_allclose(rank_correlation(a, b), [1 - 6 * 450 / (16 * 255)])


def test_center_shift_pixels():
    a = np.zeros((1, 5, 5, 3))
    b = np.zeros((1, 5, 5, 3))
    a[0, 1, 1, 0] = 1.0
    b[0, 4, 5 - 1, 2] = -2.0  # magnitudes, any channel
    np.testing.assert_allclose(center_shift(a, b), [np.hypot(3, 3)])
    rep = attack_report(a, b, k=1)
    assert set(rep) == {"topk_intersection", "rank_correlation", "center_shift"}
