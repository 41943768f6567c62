"""dance_tf.metrics.road: ROAD's orders and fractions on a linear model, against the
imputation's dense solve; its noise seeded per input; its options and inputs checked."""

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.metrics import road, road_curves
from tests.metrics.dense_imputation import dense_impute
from tests.metrics.linear_models import linear_model


def test_road_orders_and_fractions_on_a_linear_model():
    rng = np.random.default_rng(2)
    w = rng.normal(size=(4 * 4 * 1, 2))
    x = rng.normal(size=(1, 4, 4, 1)).astype(np.float32)
    pix = rng.permutation(16).astype(np.float64).reshape(1, 4, 4)     # distinct ranks
    model = linear_model(w, (4, 4, 1))
    curves = road_curves(model, x, pix, np.array([1]), fractions=(0.25, 0.5), noise=0.0,
                         output="logit")
    for j, count in enumerate((4, 8)):                                # round(p · 16)
        morf = pix[0] >= 16 - count                                   # the highest values
        lerf = pix[0] < count
        for removed, got in ((morf, curves.morf[0, j]), (lerf, curves.lerf[0, j])):
            img = dense_impute(x[0].astype(np.float64), removed)
            assert got == pytest.approx(img.ravel() @ w[:, 1], rel=1e-5, abs=1e-5)
    gap = road(model, x, pix, np.array([1]), fractions=(0.25, 0.5), noise=0.0,
               output="logit")
    assert gap[0] == pytest.approx((curves.lerf - curves.morf).mean(), rel=1e-6)
    morf = road(model, x, pix, np.array([1]), order="morf", fractions=(0.25, 0.5),
                noise=0.0, output="logit")
    assert morf[0] == pytest.approx(curves.morf.mean(), rel=1e-6)


def test_road_noise_is_seeded_per_input_not_per_batch():
    rng = np.random.default_rng(4)
    model = linear_model(rng.normal(size=(36, 3)), (6, 6))
    x = rng.normal(size=(3, 6, 6)).astype(np.float32)
    maps = rng.normal(size=(3, 6, 6))
    a = road(model, x, maps, np.array([0, 1, 2]), batch_size=1, seed=5)
    np.testing.assert_allclose(a, road(model, x, maps, np.array([0, 1, 2]), batch_size=7,
                                       seed=5), rtol=1e-6)
    assert not np.allclose(a, road(model, x, maps, np.array([0, 1, 2]), seed=6))


@pytest.mark.parametrize("kwargs, match", [
    ({"fractions": (0.5, 1.0)}, "fractions"), ({"fractions": ()}, "fractions"),
    ({"fractions": (0.0,)}, "fractions"), ({"noise": -0.1}, "noise"),
    ({"order": "both"}, "order"), ({"batch_size": 0}, "batch_size"),
])
def test_road_options_are_validated(kwargs, match):
    model = linear_model(np.ones((16, 2)), (4, 4))
    with pytest.raises(InputError, match=match):
        road(model, np.ones((1, 4, 4)), np.ones((1, 4, 4)), np.array([0]), **kwargs)


def test_road_needs_images():
    model = linear_model(np.ones((4, 2)), (4,))
    with pytest.raises(InputError, match="x"):
        road(model, np.ones((1, 4)), np.ones((1, 4)), np.array([0]))
