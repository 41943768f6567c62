"""A user's base method must return maps shaped like its inputs (issue 24): None, (N,)
scores or another shape are refused naming the method and the shapes. Before, None gave
"map is not finite", (N,) was broadcast into a constant map (and ``base_map`` returned it
as is) and a wrong shape gave a raw InvalidArgumentError (checked on the unmodified code)."""

import numpy as np
import pytest
import tensorflow as tf

import dance_tf
from dance_tf import saliency
from dance_tf.errors import InputError
from tests.saliency.tiny import FEW_DECOYS, tiny_cnn, tiny_inputs


def returns_none(model, xs, targets):
    return None


def returns_scores(model, xs, targets):   # (N,): one number per input
    return tf.reduce_sum(xs, axis=[1, 2, 3])


def returns_crop(model, xs, targets):     # (N, 4, 8, 1)
    return xs[:, :4]


CASES = [(returns_none, r"returned None.*\(1, 8, 8, 1\)"),
         (returns_scores, r"shape \(1,\).*\(1, 8, 8, 1\)"),
         (returns_crop, r"shape \(1, 4, 8, 1\).*\(1, 8, 8, 1\)")]


@pytest.fixture(scope="module")
def model():
    return tiny_cnn()


@pytest.mark.parametrize("fn, message", CASES)
def test_base_map_refuses_a_wrong_output(model, fn, message):
    ex = dance_tf.Explainer(model, method=fn, **FEW_DECOYS)
    with pytest.raises(InputError, match=fn.__name__ + ".*" + message):
        ex.base_map(tiny_inputs(1)[0])


@pytest.mark.parametrize("fn, message", CASES)
def test_get_and_call_refuse_a_wrong_output(model, fn, message):
    with pytest.raises(InputError, match=fn.__name__ + ".*" + message):
        saliency.get(fn)(model, tiny_inputs(1), [0])


@pytest.mark.parametrize("fn, message", CASES)
def test_dance_refuses_a_wrong_output_of_a_graph_safe_method(model, fn, message):
    name = f"user_{fn.__name__}"
    saliency.register(name, fn, graph_safe=True, replace=True)
    ex = dance_tf.Explainer(model, method=name, **FEW_DECOYS)
    with pytest.raises(InputError, match=name + ".*returned"):
        ex(tiny_inputs(1)[0])


def test_dance_refuses_a_wrong_output_of_an_unmarked_method(model):
    with pytest.raises(InputError, match="returns_scores"):
        dance_tf.Explainer(model, method=returns_scores, **FEW_DECOYS)(tiny_inputs(1)[0])


def test_a_right_output_passes_unchanged(model):
    xs = tiny_inputs(2)

    def grad(m, x, t):
        return saliency.gradient(m, x, t)

    np.testing.assert_array_equal(saliency.get(grad)(model, xs, [0, 1]),
                                  saliency.gradient(model, xs, [0, 1]))
