"""Sensitivity, paired statistics, attack measures and localisation against hand-worked
values (§4.4 Eq. 7, S12, S14)."""

import numpy as np
import pytest

from dance_tf.metrics import (
    attack_report,
    box_iou,
    center_shift,
    localization_accuracy,
    localization_iou,
    paired_stats,
    rank_correlation,
    saliency_box,
    sensitivity,
    threshold_mask,
    topk_intersection,
)


def test_sensitivity_hand_computed():
    sal_x = np.array([[[3.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
    sal_a = np.array([[[0.0, 4.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
    x = np.zeros((2, 2, 2, 1))
    xa = x.copy()
    xa[0, 0, 0, 0] = 2.0  # ‖x − x̂‖ = 2
    xa[1, :, :, 0] = 0.5  # ‖x − x̂‖ = sqrt(4 · 0.25) = 1
    ss = sensitivity(sal_x, sal_a, x, xa)
    np.testing.assert_allclose(ss, [5.0 / 2.0, 0.0])  # ‖(3, −4)‖ = 5


def test_sensitivity_topk_binarised():
    sal_x = np.array([[4.0, 3.0, 2.0, 1.0]])
    sal_a = np.array([[1.0, 2.0, 3.0, 4.0]])
    x, xa = np.zeros((1, 4)), np.full((1, 4), 0.5)  # ‖x − x̂‖ = 1
    # top-50%: {0, 1} vs {2, 3} → four differing entries, ‖·‖ = 2
    np.testing.assert_allclose(sensitivity(sal_x, sal_a, x, xa, k=0.5), [2.0])


def test_paired_stats_worked_example():
    ours = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    base = ours - np.array([-1.0, -2.0, -3.0, 0.0, -4.0])  # diff = ours − base
    st = paired_stats(ours, base)
    assert st.mean == pytest.approx(-2.0)
    assert st.se == pytest.approx(np.sqrt(2.5 / 5))
    # t = −2/√0.5 = −2.828, ν = 4; p = ½·I_{ν/(ν+t²)}(ν/2, ½) = ½·I_{1/3}(2, ½),
    # I_{1/3}(2, ½) = [4/3 − (2√(2/3) − (2/3)(2/3)^{3/2})] / (4/3) worked by hand
    inc = (4 / 3 - (2 * np.sqrt(2 / 3) - (2 / 3) * (2 / 3) ** 1.5)) / (4 / 3)
    assert st.p == pytest.approx(0.5 * inc, rel=1e-6)
    assert st.p == pytest.approx(0.02371, abs=1e-5)
    assert paired_stats(base, ours).p == pytest.approx(1 - 0.5 * inc, rel=1e-6)


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


def test_paired_stats_constant_and_nonfinite_pairs():
    m, se, p = paired_stats([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])  # unpacks as a triple
    assert (m, se, p) == (-1.0, 0.0, 0.0)
    st = paired_stats([1.0, np.nan, 3.0, 5.0], [0.0, 1.0, np.inf, 2.0])
    assert st.n == 2 and st.dropped == 2 and st.mean == pytest.approx(2.0)
    assert np.isnan(paired_stats([1.0, 1.0], [1.0, 1.0]).p)


def test_fidelity_of_a_softmax_model_uses_its_logits():
    import keras

    from dance_tf.metrics import fidelity

    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    probs = keras.Sequential([base, keras.layers.Softmax()])
    x = np.random.default_rng(0).random((5, 4)).astype(np.float32)
    sal = np.random.default_rng(1).random((5, 4))
    t = np.array([0, 1, 2, 0, 1])
    np.testing.assert_allclose(fidelity(probs, x, sal, t), fidelity(base, x, sal, t),
                               rtol=1e-5)


def test_continuous_fidelity_hand_worked_on_a_linear_model():
    """Logits W·x of a 2×2×1 image: the scaled input μ + Ê(x − μ) is worked by hand."""
    import keras

    from dance_tf.metrics import fidelity_continuous

    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, use_bias=False)])
    w = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [0.0, 0.0]], np.float32)
    model.layers[-1].set_weights([w])
    x = np.array([[[[4.0], [0.0]], [[2.0], [2.0]]]], np.float32)       # μ = 2
    sal = np.array([[[2.0, -1.0], [0.0, 0.5]]], np.float32)            # Ê = 1, .5, 0, .25
    scaled = np.array([2 + 1.0 * 2, 2 + 0.5 * -2, 2 + 0.0 * 0, 2 + 0.25 * 0])  # 4, 1, 2, 2
    logits = scaled @ w                                               # [8, -1]
    expect = -(logits[1] - np.log(np.exp(logits).sum()))
    got = fidelity_continuous(model, x, sal, np.array([1]))
    np.testing.assert_allclose(got, [expect], rtol=1e-5)
    # an all-zero map keeps only the mean: logits of a constant 2 image = [6, 0]
    zero = fidelity_continuous(model, x, np.zeros_like(sal), np.array([0]))
    np.testing.assert_allclose(zero, [np.log1p(np.exp(-6.0))], rtol=1e-5)


def test_top_count_hand_worked_and_shared_by_attacks_and_reports():
    from dance_tf.attacks.topk import topk_count
    from dance_tf.metrics.topk import top_count
    assert top_count(3, 10) == 3
    assert top_count(0.25, 10) == 2          # round(2.5) is 2 (banker's rounding)
    assert top_count(0.01, 10) == 1          # at least one feature
    assert top_count(1.0, 7) == 7
    assert topk_count(None, 10, 10) == 2     # the paper's 1000 of 224², 1.99 of 100
    assert topk_count(5, 3, 3) == 5
    for bad in (0, 11, True, 0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="k"):
            top_count(bad, 10)
