"""Base-method options are checked where they enter (issue 24): each case below was silent
or a raw TensorFlow error before (run against the unmodified code: every test failed)."""

import numpy as np
import pytest

import dance_tf
from dance_tf import saliency
from dance_tf.errors import DanceError, InputError, LayerError
from tests.saliency.tiny import FEW_DECOYS, tiny_cnn, tiny_inputs


@pytest.fixture(scope="module")
def model():
    return tiny_cnn()


@pytest.mark.parametrize("method, options, name", [
    ("smoothgrad", {"noise": float("inf")}, "noise"),     # was a finite meaningless map
    ("smoothgrad", {"noise": -0.1}, "noise"),
    ("vargrad", {"noise": 1e300}, "noise"),              # was FloatingPointError (σ = inf)
    ("smoothgrad", {"samples": 2.5}, "samples"),          # was silently 2
    ("vargrad", {"samples": True}, "samples"),            # a bool is not a count
    ("smoothgrad_range", {"seed": 2**31}, "seed"),        # int32 stateless seeds
    ("integrated_gradients", {"steps": float("nan")}, "steps"),   # was a raw int() error
    ("ig_uniform", {"steps": 0}, "steps"),
    ("expected_gradients", {"samples": "25"}, "samples"),
    ("integrated_gradients", {"batch_size": 0.5}, "batch_size"),
    ("gradcam", {"resize": "yes"}, "resize"),
    ("gradcam", {"layer": 1.5}, "layer"),
    ("integrated_gradients", {"baseline": np.full((8, 8, 1), np.nan)}, "baseline"),
    ("ig_uniform", {"baseline_range": (1.0, 0.0)}, "baseline_range"),
])
def test_bad_numbers_are_refused_by_get_and_by_the_function(model, method, options, name):
    with pytest.raises((DanceError, TypeError), match=name):
        saliency.get(method, **options)
    fn = saliency.registry.resolve_method(method)[1]
    with pytest.raises((DanceError, TypeError), match=name):
        fn(model, tiny_inputs(), [0, 1], **options)


def test_integral_floats_are_counts_and_give_the_int_result(model):
    xs = tiny_inputs()
    a = saliency.smoothgrad(model, xs, [0, 1], samples=3.0, noise=0.1)
    b = saliency.smoothgrad(model, xs, [0, 1], samples=3, noise=0.1)
    np.testing.assert_array_equal(a, b)


def test_wrong_baseline_shape_names_baseline_and_both_shapes(model):
    with pytest.raises(InputError, match=r"baseline.*\(5, 5\).*\(2, 8, 8, 1\)"):
        saliency.integrated_gradients(model, tiny_inputs(), [0, 1], baseline=np.zeros((5, 5)))


def test_input_without_batch_axis_is_named_not_the_targets(model):
    x = tiny_inputs(1)[0]
    with pytest.raises(InputError, match=r"x: .*lacks the batch axis"):
        saliency.gradient(model, x, [0])


def test_gradcam_layer_typo_under_dance_is_a_layer_error_naming_the_conv_layers(model):
    # was TensorFlow's StagingError (not a ValueError: ``except ValueError`` missed it)
    with pytest.raises(LayerError, match=r"'conv_1'.*\['conv1'\]"):
        dance_tf.Explainer(model, method="gradcam", method_options={"layer": "conv_1"},
                           **FEW_DECOYS)(tiny_inputs(1)[0])


def test_get_copies_array_options(model):
    """A baseline changed in place after ``get`` does not change the bound method: its
    map equals IG from the original baseline (computed by hand: the sum over the path)."""
    xs = tiny_inputs(1)
    baseline = np.full((1, 8, 8, 1), 0.5, np.float32)
    method = saliency.get("integrated_gradients", steps=4, baseline=baseline)
    baseline[:] = 0.0
    got = method(model, xs, [1])
    alphas = (np.arange(4) + 0.5) / 4
    grads = sum(saliency.gradient(model, 0.5 + a * (xs - 0.5), [1]) for a in alphas)
    np.testing.assert_allclose(got, (xs - 0.5) * grads / 4, rtol=1e-4, atol=1e-6)


def test_value_range_changed_in_place_changes_nothing(model):
    """The explainer keeps a copy of ``value_range``: before, batch maps kept the old range
    and single maps used the new one after the caller changed the arrays in place."""
    x = tiny_inputs(1)[0]
    lo, hi = np.zeros((8, 8, 1), np.float32), np.ones((8, 8, 1), np.float32)
    ex = dance_tf.Explainer(model, value_range=(lo, hi), patch_size=4, stride=4)
    single, batch = ex(x), ex(np.stack([x, x]))
    hi[:] = 2.0
    lo[:] = -1.0
    np.testing.assert_array_equal(ex(x), single)
    np.testing.assert_array_equal(ex(np.stack([x, x])), batch)
