"""One contract for every base method: each registered method, a user callable and a
declared numpy method go through the same checks — numpy, tensor and tf.data in; maps of
the input's shape out; graph-safe where declared; the same map under DANCE whichever way
the batch arrives, and equal to DANCE with the options hard-wired in a callable.
"""

import functools

import numpy as np
import pytest
import tensorflow as tf

import dance_tf
from dance_tf import saliency
from dance_tf.model_contract import logits_model
from dance_tf.saliency.registry import METHODS
from tests.conftest import small_cnn

#: small options so that every method runs fast
OPTIONS = {
    "gradient": {},
    "integrated_gradients": {"steps": 4},
    "smoothgrad": {"samples": 3, "seed": 2},
    "expected_gradients": {"samples": 3, "baseline_range": (0.0, 1.0)},
    "vargrad": {"samples": 3},
    "smoothgrad_range": {"samples": 3},
    "ig_uniform": {"steps": 3, "baseline_range": (0.0, 1.0)},
    "gradcam": {"layer": "conv2"},
}


def user_gradient(model, inputs, targets):
    """A user callable written with TensorFlow ops (graph-safe, but not declared)."""
    x = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.gather(model(x), tf.convert_to_tensor(targets), axis=1, batch_dims=1)
    return tape.gradient(out, x)


@saliency.numpy_method
def numpy_times_input(model, inputs, targets):
    """A user callable written with numpy (declared): x² per feature."""
    return np.square(np.asarray(inputs, np.float32))


CASES = [(name, OPTIONS[name]) for name in METHODS] + [
    (user_gradient, {}), (numpy_times_input, {})]


@pytest.fixture(scope="module")
def model():
    return small_cnn()


@pytest.fixture(scope="module")
def xs():
    return np.random.default_rng(30).random((2, 12, 12, 1)).astype(np.float32)


def test_every_registered_method_has_contract_options():
    assert set(OPTIONS) == set(METHODS)


@pytest.mark.parametrize("method,opts", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_base_method_contract(model, xs, method, opts):
    base = saliency.get(method, **opts)
    logits, _ = logits_model(model, xs.shape[1:])
    t = np.array([1, 2])
    maps = base(model, xs, t)
    assert isinstance(maps, np.ndarray) and maps.shape == xs.shape
    assert np.all(np.isfinite(maps))
    if base.graph_safe is not False:   # tensors in, tensors out, and inside a tf.function
        as_tensor = base.fn(logits, tf.constant(xs), tf.constant(t), **base.options)
        assert tf.is_tensor(as_tensor)
        np.testing.assert_allclose(np.asarray(as_tensor), maps, rtol=1e-5, atol=1e-7)
        graph = tf.function(lambda a, b: base.fn(logits, a, b, **base.options))
        np.testing.assert_allclose(graph(tf.constant(xs), tf.constant(t)).numpy(), maps,
                                   rtol=1e-4, atol=1e-6)
    assert base.graph_safe is (True if isinstance(method, str) else
                               False if method is numpy_times_input else None)


@pytest.mark.parametrize("method,opts", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_method_under_dance_takes_any_batch_and_matches_hard_wired_options(model, xs, method,
                                                                           opts):
    e = dance_tf.Explainer(model, base=saliency.get(method, **opts), value_range=(0, 1),
                           patches_per_mask=50)
    t = [1, 2]
    singles = np.stack([e.explain(x, target=c) for x, c in zip(xs, t)])
    assert singles.shape == xs.shape and np.all(np.isfinite(singles))
    # a batch changes float32 rounding (oneDNN picks kernels by batch shape; with
    # TF_ENABLE_ONEDNN_OPTS=0 they agree to 1e-5): allow 0.1 % of the map's scale, far
    # below what a wrong input, target or option gives
    tol = dict(rtol=1e-3, atol=1e-3 * np.abs(singles).max())
    for batch in (xs, tf.constant(xs), tf.data.Dataset.from_tensor_slices(xs).batch(1)):
        np.testing.assert_allclose(e(batch, t), singles, **tol)
    if isinstance(method, str) and opts:   # options reach the method, not the explainer
        fn = saliency.get(method).fn
        wired = functools.wraps(fn)(functools.partial(fn, **opts))
        hard = dance_tf.Explainer(model, method=wired, value_range=(0, 1),
                                  patches_per_mask=50)
        np.testing.assert_allclose(hard(xs, t), singles, **tol)


@pytest.mark.parametrize("method", sorted(set(OPTIONS) - {"integrated_gradients"}))
def test_an_overflow_a_compiled_graph_hides_is_an_error_not_a_zero_map(method):
    """x·1e30 overflows float32 (the eager model gives NaN logits); in a compiled graph
    a ReLU fused into the convolution can turn that NaN into 0, and the map into zeros.
    Called eagerly, every method checks a zero map against an eager forward pass.
    (Integrated gradients is left out: its path through small α·x gives a non-zero map
    there, which this check cannot see.)"""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Rescaling(1e30),
                              keras.layers.Conv2D(4, 3, activation="relu", name="conv2"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    huge = np.full((1, 8, 8, 1), 1e10, np.float32)
    assert not np.isfinite(model(huge).numpy()).all()
    opts = {k: ((0.0, 1e10) if k == "baseline_range" else v)
            for k, v in OPTIONS[method].items()}
    for x in (huge, tf.constant(huge)):
        with pytest.raises(dance_tf.InputError, match="non-finite"):
            saliency.get(method, **opts)(model, x, [0])


def test_extra_methods_run_under_dance():
    import keras

    keras.utils.set_random_seed(12)
    model = keras.Sequential([keras.Input((6, 6, 2)),
                              keras.layers.Conv2D(3, 3, padding="same", activation="relu",
                                                  name="c1"),
                              keras.layers.MaxPooling2D(name="p1"), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    x = np.random.default_rng(13).random((6, 6, 2)).astype("float32")
    runs = {"expected_gradients": {"samples": 2, "baseline_range": (0.0, 1.0)},
            "vargrad": {"samples": 2}, "smoothgrad_range": {"samples": 2},
            "ig_uniform": {"steps": 2, "baseline_range": (0.0, 1.0)},
            "gradcam": {"layer": "c1"}}
    for name, opts in runs.items():
        e = dance_tf.explain(model, x, method=name, value_range=(0.0, 1.0),
                             patches_per_mask=8, **opts)
        assert e.shape == x.shape and np.all(np.isfinite(e)) and np.all(e >= 0), name
