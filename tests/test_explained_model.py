"""The model side of an Explainer (dance_tf.explained_model), against hand computations:
the gradient of a linear model's logit is its weight column, whatever head it ends in."""

import keras
import numpy as np
import pytest

from dance_tf.errors import InputError
from dance_tf.explained_model import ExplainedModel
from dance_tf.saliency.gradient import gradient

RNG = np.random.default_rng(0)


def _linear(activation=None, declared=True):
    keras.utils.set_random_seed(0)
    dense = keras.layers.Dense(3, activation=activation, name="fc")
    if declared:
        return keras.Sequential([keras.Input((5,)), dense]), dense
    return keras.Sequential([dense]), dense


@pytest.mark.parametrize("activation", [None, "softmax"])
def test_base_maps_are_the_weight_columns_of_the_explained_logits(activation):
    model, dense = _linear(activation)
    side = ExplainedModel(model)
    xs = RNG.random((4, 5), dtype=np.float32)
    targets = np.array([0, 2, 1, 2])
    maps = side.base_maps(gradient, {}, xs, targets)
    w = np.asarray(dense.kernel)                      # (5, 3): d logit_c / dx = W[:, c]
    np.testing.assert_allclose(maps, w[:, targets].T, rtol=1e-5, atol=1e-6)
    one = side.base_maps(gradient, {}, xs[1], 2)      # one input → one map
    np.testing.assert_allclose(one, w[:, 2], rtol=1e-5, atol=1e-6)
    # no targets: the predicted class of the logits, computed here from the weights
    pred = np.argmax(xs @ w + np.asarray(dense.bias), axis=1)
    np.testing.assert_allclose(side.base_maps(gradient, {}, xs), w[:, pred].T,
                               rtol=1e-5, atol=1e-6)
    assert side.n_classes(xs[0]) == 3


def test_a_model_without_input_is_built_on_the_first_input():
    model, _ = _linear(declared=False)
    side = ExplainedModel(model)
    assert side.input_shape is None                   # not resolved before an input
    side.resolve(RNG.random((2, 5), dtype=np.float32))
    assert side.input_shape == (5,)


def test_targets_out_of_range_are_refused_with_the_argument_named():
    model, _ = _linear()
    side = ExplainedModel(model)
    with pytest.raises((InputError, ValueError), match="target"):
        side.base_maps(gradient, {}, RNG.random((2, 5), dtype=np.float32), [0, 3])
