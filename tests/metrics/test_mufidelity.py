"""dance_tf.metrics.mufidelity: exact on a linear model, by hand (Bhatt et al. 2020)."""

import warnings

import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.metrics import mufidelity
from dance_tf.metrics.mufidelity import pearson_rows, random_subsets
from tests.metrics.linear_models import linear_model

RNG = np.random.default_rng(3)
W = RNG.normal(size=(2 * 3 * 2, 3))
X = RNG.normal(size=(2, 3, 2, 2)).astype(np.float32)
T = np.array([0, 2])
GXI = W[:, T].T.reshape(2, 3, 2, 2) * X            # gradient × input of class T


def test_gradient_times_input_on_a_linear_model_gives_exactly_one_on_logits():
    model = linear_model(W, (3, 2, 2))
    got = mufidelity(model, X, GXI, T, output="logit", subsets=30, subset_size=4)
    np.testing.assert_allclose(got, [1.0, 1.0], atol=1e-6)
    # a constant added to every feature keeps it (|S| is fixed); the negated map gives −1
    np.testing.assert_allclose(mufidelity(model, X, GXI + 5.0, T, output="logit",
                                          subset_size=4), 1.0, atol=1e-6)
    np.testing.assert_allclose(mufidelity(model, X, -GXI, T, output="logit"), -1.0, atol=1e-6)


def test_on_probabilities_the_score_is_below_one_and_a_baseline_changes_the_drop():
    model = linear_model(W, (3, 2, 2))
    prob = mufidelity(model, X, GXI, T, subset_size=0.5)
    assert np.all(prob < 1 - 1e-4) and np.all(prob > 0)
    # with baseline b the logit drop is Σ_S w_i (x_i − b): the map w∘(x − b) is exact
    b = 0.7
    shifted = W[:, T].T.reshape(2, 3, 2, 2) * (X - b)
    np.testing.assert_allclose(mufidelity(model, X, shifted, T, baseline=b, output="logit"),
                               1.0, atol=1e-6)
    assert np.all(mufidelity(model, X, GXI, T, baseline=b, output="logit") < 1 - 1e-3)


def test_helpers_by_hand():
    np.testing.assert_allclose(pearson_rows(np.array([[1.0, 2, 3]]), np.array([[2.0, 4, 7]])),
                               [np.corrcoef([1, 2, 3], [2, 4, 7])[0, 1]])
    s = random_subsets(2, 10, 7, 3, np.random.default_rng(0))
    assert s.shape == (2, 7, 10) and np.all(s.sum(axis=2) == 3)


def test_seed_and_batch_size():
    model = linear_model(W, (3, 2, 2))
    maps = RNG.normal(size=(2, 3, 2))                  # per pixel
    a = mufidelity(model, X, maps, T, seed=1, batch_size=5)
    np.testing.assert_allclose(a, mufidelity(model, X, maps, T, seed=1, batch_size=64))
    assert not np.allclose(a, mufidelity(model, X, maps, T, seed=2))


def test_a_zero_map_is_nan_with_a_warning_and_options_are_validated():
    model = linear_model(W, (3, 2, 2))
    with pytest.warns(RuntimeWarning, match="mufidelity"):
        got = mufidelity(model, X, np.zeros((2, 3, 2)), T)
    assert np.all(np.isnan(got))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mufidelity(model, X, GXI, T, output="logit")
    for kwargs, match in [({"subsets": 1}, "subsets"), ({"subset_size": 12}, "subset_size"),
                          ({"subset_size": 1.0}, "subset_size"),
                          ({"subset_size": 0.0}, "subset_size"), ({"seed": -1}, "seed"),
                          ({"baseline": np.inf}, "baseline")]:
        with pytest.raises(InputError, match=match):
            mufidelity(model, X, GXI, T, **kwargs)
