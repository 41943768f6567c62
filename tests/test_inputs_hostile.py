"""Hostile inputs to the explainer (issue 13): each either works or fails loudly.

The silent cases (1, 2, 7, 8 of the issue) returned a wrong answer without an error before;
each test here states the wrong answer it guards against.
"""

import keras
import numpy as np
import pytest

import dance_tf
from tests.conftest import small_cnn


@pytest.fixture(scope="module")
def model():
    return small_cnn()


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).random((12, 12, 1)).astype(np.float32) * 0.8 + 0.1


# 1. NaN / inf in value_range or deviation_bound used to pass every check (NaN > x is False)
@pytest.mark.parametrize("rng", [(np.nan, 1.0), (0.0, np.inf), (-np.inf, 1.0)])
def test_non_finite_value_range_is_refused(model, x, rng):
    with pytest.raises(ValueError, match="value_range"):
        dance_tf.explain(model, x, value_range=rng)


def test_nan_in_one_bound_is_refused(model, x):
    hi = np.ones_like(x)
    hi[3, 4, 0] = np.nan
    with pytest.raises(ValueError, match=r"value_range.*index \(3, 4, 0\)"):
        dance_tf.explain(model, x, value_range=(0.0, hi))


@pytest.mark.parametrize("bound", [np.nan, np.inf, -0.1])
def test_bad_deviation_bound_is_refused(model, x, bound):
    with pytest.raises(ValueError, match="deviation_bound"):
        dance_tf.explain(model, x, value_range=(0, 1), deviation_bound=bound)


# 2. no certified / no moved decoy: a zero map came back with no warning
def test_no_decoy_information_warns_and_flags(model, x):
    with pytest.warns(dance_tf.DecoyWarning):
        r = dance_tf.explain(model, x, value_range=(0, 1), epsilon=1e-30,
                             return_details=True)
    assert not r.informative and np.all(r.objective == 0)


def test_adam_with_no_certified_decoy_warns(model, x):
    with pytest.warns(dance_tf.DecoyWarning, match="certified"):
        r = dance_tf.explain(model, x, value_range=(0, 1), epsilon=1e-30, solver="adam",
                             init_noise=0.3, max_steps=1, return_details=True)
    assert not r.informative


def test_huge_inputs_work_or_fail_loudly(model, x):
    """x · 1e37 stays finite in this ReLU net: the decoys scale with it (a ReLU net is
    positively homogeneous, so the map is that of x); 1e10 overflows float32 inside
    a network that scales it by 1e30: an error, never a zero map."""
    r = dance_tf.explain(model, x * np.float32(1e37), value_range=(0.0, 1e37),
                         return_details=True)
    small = dance_tf.explain(model, x, value_range=(0.0, 1.0), return_details=True)
    assert r.informative and r.certified.all()
    # the same decoys up to rounding: one bisection step (1/2⁸ of a bracket) may differ
    np.testing.assert_allclose(r.objective / 1e37, small.objective, rtol=1e-2)
    keras.utils.set_random_seed(0)
    scaled = keras.Sequential([keras.Input((6,)), keras.layers.Rescaling(1e30),
                               keras.layers.Dense(4, activation="relu", name="d1"),
                               keras.layers.Dense(2)])
    # (in a compiled graph, a ReLU fused into the MatMul may turn the overflow's NaN into 0
    # on some CPUs: a zero map, which is then checked eagerly)
    huge = np.full(6, 1e10, np.float32)
    with pytest.raises(ValueError, match="non-finite"):
        dance_tf.explain(scaled, huge, value_range=(0.0, 1e10), layer="d1")
    ex = dance_tf.Explainer(scaled, value_range=(0.0, 1e10), layer="d1")
    fine = np.full(6, 1e-3, np.float32)
    for call in (lambda: ex(np.stack([fine, huge])), lambda: ex.base_map(huge),
                 lambda: ex.base_map(np.stack([fine, huge]), [0, 1])):
        with pytest.raises(ValueError, match="non-finite"):
            call()


# 7. a softmax written as keras.ops.softmax was not stripped: probabilities were explained
def _functional(softmax_kind):
    keras.utils.set_random_seed(3)
    inp = keras.Input((12, 12, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inp)
    h = keras.layers.MaxPooling2D(name="pool1")(h)
    h = keras.layers.Flatten()(h)
    logits = keras.layers.Dense(3, name="logits")(h)
    if softmax_kind == "ops":
        out = keras.ops.softmax(logits)
    elif softmax_kind == "lambda":
        out = keras.layers.Lambda(lambda t: keras.ops.softmax(t))(logits)
    else:
        out = logits
    return keras.Model(inp, out), keras.Model(inp, logits)


def test_ops_softmax_is_stripped(x):
    with_softmax, logits_only = _functional("ops")
    got = dance_tf.explain(with_softmax, x, value_range=(0, 1), layer="pool1")
    want = dance_tf.explain(logits_only, x, value_range=(0, 1), layer="pool1")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_softmax_that_cannot_be_stripped_is_refused(x):
    with_softmax, _ = _functional("lambda")
    with pytest.raises(ValueError, match="probabilities"):
        dance_tf.explain(with_softmax, x, value_range=(0, 1), layer="pool1")


# 8. a layer called twice: ℓ resolved to the first call and "certified" decoys broke ε
def test_shared_layer_as_l_is_refused():
    keras.utils.set_random_seed(4)
    inp = keras.Input((6,))
    shared = keras.layers.Dense(6, activation="relu", name="shared")
    h = shared(shared(inp))
    model = keras.Model(inp, keras.layers.Dense(2)(h))
    with pytest.raises(ValueError, match="shared.*called 2 times"):
        dance_tf.explain(model, np.full(6, 0.5, np.float32), value_range=(0, 1),
                         layer="shared")


# the model contract, up front
def test_multi_output_model_is_refused():
    inp = keras.Input((5,))
    h = keras.layers.Dense(4)(inp)
    model = keras.Model(inp, [keras.layers.Dense(2)(h), keras.layers.Dense(3)(h)])
    with pytest.raises(ValueError, match="returns 2 outputs; choose the logits with output="):
        dance_tf.Explainer(model)
    assert dance_tf.Explainer(model, output=1).contract().n_classes == 3


@pytest.mark.parametrize("out_shape", ["flat", "sequence"])
def test_output_not_n_by_classes_is_refused(out_shape):
    inp = keras.Input((6, 3))
    if out_shape == "flat":
        out = keras.layers.Flatten()(keras.layers.Dense(1)(inp))  # (N, 6) is fine ...
        out = keras.ops.sum(out, axis=-1)  # ... (N,) is not
    else:
        out = keras.layers.Dense(4)(inp)  # (N, T, C)
    with pytest.raises(ValueError, match=r"model: expected an output of shape \(N, classes\)"):
        dance_tf.Explainer(keras.Model(inp, out))


# numbers validated where they enter, each message naming the argument
@pytest.mark.parametrize("kwargs, err, name", [
    ({"max_steps": np.nan}, ValueError, "max_steps"),
    ({"memory_budget_mb": np.inf}, ValueError, "memory_budget_mb"),
    ({"seed": None}, TypeError, "seed"),
    ({"seed": -1}, ValueError, "seed"),
    ({"epsilon": "0.1"}, TypeError, "epsilon"),
    ({"epsilon_rel": 0.0}, ValueError, "epsilon_rel"),
    ({"patches_per_mask": 2.5}, ValueError, "patches_per_mask"),
    ({"stride": True}, TypeError, "stride"),
    ({"line_bisect": -1}, ValueError, "line_bisect"),
    ({"decoy_batch_size": 0}, ValueError, "decoy_batch_size"),
    ({"noise_level": np.nan}, ValueError, "noise_level"),
    ({"constant": np.nan}, ValueError, "constant"),
    ({"value_range": (0, 1, 2)}, TypeError, "value_range"),
    ({"solver": "sgd"}, ValueError, "solver"),
])
def test_bad_numbers_name_the_argument(model, kwargs, err, name):
    with pytest.raises(err, match=name):
        dance_tf.Explainer(model, **kwargs)


def test_lambda0_above_the_old_cap_works(model, x):
    """lambda0 > 1e4·2^20 used to fail with a message about lambda_max, a name the user
    never gave; λ's cap now follows λ₀."""
    r = dance_tf.explain(model, x, value_range=(0, 1), solver="adam", lambda0=1e12,
                         max_steps=2, return_details=True)
    assert r.saliency.shape == x.shape


def test_misspelled_option_fails_at_construction_with_a_suggestion(model):
    with pytest.raises(TypeError, match=r"max_step.*did you mean 'max_steps'"):
        dance_tf.Explainer(model, max_step=5)
    with pytest.raises(TypeError, match=r"sampels.*did you mean 'samples'"):
        dance_tf.Explainer(model, method="smoothgrad", sampels=5)


def test_empty_and_zero_length_inputs(model):
    ex = dance_tf.Explainer(model, value_range=(0, 1))
    with pytest.raises(ValueError, match="xs"):
        ex.explain_batch(np.zeros((0, 12, 12, 1), np.float32))
    keras.utils.set_random_seed(0)
    text = keras.Sequential([keras.Input((None, 5)), keras.layers.Conv1D(4, 1, name="c"),
                             keras.layers.GlobalMaxPooling1D(), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="x: .*empty"):
        dance_tf.explain(text, np.zeros((0, 5), np.float32), value_range=(-1, 1))


def test_nan_weight_fails_loudly(x):
    """A model with a NaN weight: the exported model refused it, the live explainer used to
    report certified decoys and a NaN map."""
    model = small_cnn(name="nan_weight")
    w, b = model.get_layer("logits").get_weights()
    w[0, 0] = np.nan
    model.get_layer("logits").set_weights([w, b])
    with pytest.raises(ValueError, match="non-finite"):
        dance_tf.explain(model, x, value_range=(0, 1))


def test_explain_batch_reports_progress_as_plain_lines(model, x, capsys):
    ex = dance_tf.Explainer(model, value_range=(0, 1))
    maps = ex.explain_batch(np.stack([x] * 5))
    err = capsys.readouterr().err
    assert maps.shape == (5,) + x.shape
    assert "DANCE explain_batch: 0/5 input started" in err and "5/5" in err
    assert "\r" not in err


def test_model_built_from_another_models_layers(x):
    """Its layers' ``.output`` belongs to the first model: ℓ used to fail with Keras'
    "not connected to inputs"; F_ℓ must be this model's own call of the layer."""
    base = small_cnn(name="base")
    inp = keras.Input((12, 12, 1))
    h = inp
    for layer in base.layers:
        h = layer(h)
    borrowed = keras.Model(inp, h)
    got = dance_tf.explain(borrowed, x, value_range=(0, 1), layer="pool1")
    want = dance_tf.explain(base, x, value_range=(0, 1), layer="pool1")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_degenerate_maps_are_checked_by_hand():
    """inputs.check_degenerate_maps: only zero or non-finite maps trigger the forward pass;
    non-finite logits name their inputs; a NaN map of a finite model is its own error."""
    from dance_tf.inputs import check_degenerate_maps

    seen = []

    def logits(xs, training=False):       # input 2 overflows; the others are finite
        seen.append(np.asarray(xs)[:, 0].tolist())
        return np.where(np.asarray(xs)[:, :1] == 2.0, np.nan, 1.0) * np.ones((len(xs), 3))

    xs = np.arange(4, dtype=np.float32)[:, None] * np.ones((4, 5), np.float32)
    good = np.ones((4, 5), np.float32)
    check_degenerate_maps(logits, xs, good)
    assert seen == []                                      # nothing suspect: no forward
    zero_ok = good.copy()
    zero_ok[1] = 0.0
    check_degenerate_maps(logits, xs, zero_ok)             # a zero map of a finite model
    assert seen == [[1.0]]
    zero_bad = good.copy()
    zero_bad[[1, 2]] = 0.0
    with pytest.raises(dance_tf.InputError, match=r"non-finite values at input\(s\) \[2\]"):
        check_degenerate_maps(logits, xs, zero_bad)
    nan_map = good.copy()
    nan_map[3, 0] = np.nan
    with pytest.raises(FloatingPointError, match=r"input\(s\) \[3\]"):
        check_degenerate_maps(logits, xs, nan_map)
