"""The model contract (issue 22) on models this project did not write: keras.applications,
keras_hub, subclassed, mixed precision, dict outputs, unbuilt Sequential, token ids.

Every check compares with something computed here independently: logits from the raw
weights (numpy), layer ℓ's ancestry walked over the Keras graph, a bound recomputed with a
sub-model built in the test, or the exact error the contract promises.
"""

import warnings

import keras
import numpy as np
import pytest

import dance_tf
from dance_tf import layers as L
from dance_tf import model_contract as mc
from dance_tf.errors import InputError, LayerError
from dance_tf.explanation import DecoyWarning, check_informative

FAST = dict(value_range=(0.0, 1.0), packing="tiles", patches_per_mask=400,
            return_details=True)
RNG = np.random.default_rng(0)


def _head_model(head):
    keras.utils.set_random_seed(0)
    inp = keras.Input((5,))
    if head == "dense":
        out = keras.layers.Dense(3, activation="softmax", name="fc")(inp)
    else:
        z = keras.layers.Dense(3, name="fc")(inp)
        out = {"layer": lambda t: keras.layers.Softmax()(t),
               "activation": lambda t: keras.layers.Activation("log_softmax")(t),
               "ops_softmax": keras.ops.softmax, "ops_log": keras.ops.log_softmax,
               "ops_sigmoid": keras.ops.sigmoid,
               "sigmoid_layer": lambda t: keras.layers.Activation("sigmoid")(t)}[head](z)
    return keras.Model(inp, out)


@pytest.mark.parametrize("head", ["dense", "layer", "activation", "ops_softmax", "ops_log",
                                  "ops_sigmoid", "sigmoid_layer"])
def test_head_stripped_to_the_affine_logits(head):
    model = _head_model(head)
    c = mc.contract(model)
    w, b = model.get_layer("fc").get_weights()
    x = RNG.normal(size=(4, 5)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(c.logits(x)), x @ w + b, rtol=1e-5, atol=1e-5)
    assert c.head in ("softmax", "log_softmax", "sigmoid")
    assert c.explained == f"logits (final {c.head} stripped)"


def test_no_head_is_explained_as_is():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    c = mc.contract(model)
    assert c.head is None and c.explained == "logits"


def test_dict_and_list_outputs_are_chosen_or_refused():
    inp = keras.Input((5,))
    z = keras.layers.Dense(3, name="fc")(inp)
    model = keras.Model(inp, {"logits": z, "probs": keras.layers.Softmax()(z)})
    with pytest.raises(InputError, match=r"output=<key>.*|keys \['logits', 'probs'\]"):
        mc.contract(model)
    with pytest.raises(InputError, match="not a key"):
        mc.contract(model, output="nope")
    c = mc.contract(model, output="probs")   # the softmax of that output is stripped
    w, b = model.get_layer("fc").get_weights()
    x = RNG.normal(size=(2, 5)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(c.logits(x)), x @ w + b, rtol=1e-5, atol=1e-5)
    pair = keras.Model(inp, [z, keras.layers.Dense(2)(inp)])
    with pytest.raises(InputError, match="2 outputs"):
        mc.contract(pair)
    assert mc.contract(pair, output=1).logits.output.shape[-1] == 2


def test_mixed_precision_logits_are_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
                                  keras.layers.MaxPooling2D(name="p"),
                                  keras.layers.Flatten(), keras.layers.Dense(3)])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    c = mc.contract(model)
    assert str(c.logits.output.dtype) == "float32" and "float16" in c.notes[0]
    f_l, _ = L.layer_model(model, "p", (8, 8, 1))
    assert str(f_l.output.dtype) == "float32"


def test_unbuilt_models_are_built_on_the_input_or_refused():
    dense = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)])
    assert mc.build_on(dense, np.zeros((5, 6), np.float32)) == (6,)   # a batch of 5
    conv = keras.Sequential([keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                             keras.layers.Dense(2)])
    assert mc.build_on(conv, np.zeros((2, 9, 9, 1), np.float32)) == (9, 9, 1)
    flat = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(InputError, match="could be one input .* or a batch"):
        mc.build_on(flat, np.zeros((4, 6), np.float32))
    fresh = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)])
    with pytest.warns(UserWarning):
        maps = dance_tf.explain(fresh, RNG.random((3, 6), dtype=np.float32))
    assert maps.shape == (3, 6)                      # three inputs, not one of (3, 6)


def test_subclassed_model_needs_f_l_and_works_with_it():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.c1 = keras.layers.Conv2D(3, 3, padding="same", name="c1")
            self.flat = keras.layers.Flatten()
            self.fc = keras.layers.Dense(2)

        def call(self, x):
            return self.fc(self.flat(self.c1(x)))

    keras.utils.set_random_seed(0)
    net = Net()
    x = RNG.random((8, 8, 1), dtype=np.float32)
    with pytest.raises(LayerError, match="subclassed"):
        dance_tf.explain(net, x, value_range=(0.0, 1.0))
    f_l = keras.Sequential([keras.Input((8, 8, 1)), net.c1])
    r = dance_tf.explain(net, x, layer=f_l, **FAST)
    _check_certificates(r, x, lambda z: np.asarray(net.c1(z)))


def test_opaque_savedmodel_layer_is_named(tmp_path):
    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    inner.export(str(tmp_path / "sm"), verbose=False)
    layer = keras.layers.TFSMLayer(str(tmp_path / "sm"), call_endpoint="serve")
    wrapped = keras.Sequential([keras.Input((8, 8, 1)), layer])
    x = RNG.random((8, 8, 1), dtype=np.float32)
    with pytest.raises(LayerError, match="TFSMLayer"):
        dance_tf.explain(wrapped, x, value_range=(0.0, 1.0))
    with pytest.raises(TypeError, match="TFSMLayer"):
        dance_tf.explain(layer, x)


def _check_certificates(r, x, f_l):
    """Every certified decoy: inside the range, equal to x off its mask, and within ε of
    x at layer ℓ — recomputed with the test's own F_ℓ."""
    assert r.certified.any()
    n = len(r.masks)
    ref = f_l(x[None].astype(np.float32))
    for i in np.flatnonzero(r.certified):
        d = r.decoys[i]
        mask = r.masks[i % n] > 0 if len(r.decoys) == 2 * n else r.masks[i] > 0
        np.testing.assert_array_equal(d[~mask], x[~mask])
        dev = np.max(np.abs(f_l(d[None]) - ref))
        assert dev <= r.epsilon * (1 + 1e-4) + 1e-7, (i, dev, r.epsilon)


def test_keras_application_certificates_recomputed():
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=4)
    x = RNG.random((32, 32, 3), dtype=np.float32)
    r = dance_tf.explain(model, x, **FAST)
    assert r.layer == "block_1_project_BN"
    f_l = keras.Model(model.inputs, model.get_layer("block_1_project_BN").output)
    _check_certificates(r, x, lambda z: np.asarray(f_l(z, training=False)))


def test_variable_shape_fcn_is_explained():
    keras.utils.set_random_seed(0)
    inp = keras.Input((None, None, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", name="c1")(inp)
    h = keras.layers.MaxPooling2D(name="p1")(h)
    h = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, name="c2")(h))
    model = keras.Model(inp, keras.layers.Dense(3)(h))
    x = RNG.random((40, 40, 3), dtype=np.float32)
    r = dance_tf.explain(model, x, **FAST)
    assert r.layer == "p1"
    f_l = keras.Model(inp, model.get_layer("p1").output)
    _check_certificates(r, x, lambda z: np.asarray(f_l(z)))


def test_any_failed_certificate_warns_with_its_count():
    cert = np.array([True] * 6 + [False] * 2)
    with pytest.warns(DecoyWarning, match="2 of 8 decoys failed"):
        check_informative("decoys", cert, np.ones(8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_informative("decoys", np.ones(8, bool), np.ones(8))


# ------------------------------------------------------------------ memory and tabular
def test_variable_shape_memory_estimate_uses_real_shapes():
    """An FCN with input (None, None, 3) at 128²: every layer's real size, summed by
    hand, is what one decoy is charged for (the old estimate took every unknown size as
    the whole input: ~100× too much)."""
    from dance_tf import sizing

    keras.utils.set_random_seed(0)
    inp = keras.Input((None, None, 3))
    h = keras.layers.Conv2D(64, 3, strides=2, padding="same", name="c1")(inp)   # 64²×64
    h = keras.layers.Conv2D(128, 3, strides=2, padding="same", name="c2")(h)    # 32²×128
    h = keras.layers.MaxPooling2D(name="p")(h)                                  # 16²×128
    model = keras.Model(inp, keras.layers.Dense(3)(keras.layers.GlobalMaxPooling2D()(h)))
    f_l, _ = L.layer_model(model, "p", (None, None, 3))
    by_hand = 64 * 64 * 64 + 32 * 32 * 128 + 16 * 16 * 128
    assert sizing.activation_elems(f_l, (128, 128, 3)) == by_hand
    x = RNG.random((128, 128, 3), dtype=np.float32)
    maps = dance_tf.explain(model, x, layer="p", value_range=(0.0, 1.0), packing="tiles",
                            patches_per_mask=2000, memory_budget_mb=64)
    assert maps.shape == x.shape


def test_default_budget_follows_the_device(monkeypatch):
    from dance_tf import sizing

    monkeypatch.setattr(sizing, "_host_available_mb", lambda: 8000.0)
    assert sizing.device_budget_mb() == 8000.0 * sizing.HOST_SHARE
    monkeypatch.setattr(sizing, "_host_available_mb", lambda: 10.0)
    assert sizing.device_budget_mb() == sizing.MIN_BUDGET_MB


def test_tabular_ranges_per_feature():
    data = np.array([[0, 10.0, -1], [1, 30.0, 1], [0, 20.0, 0]], np.float32)
    lo, hi = dance_tf.value_range_from(data)
    np.testing.assert_array_equal(lo, [0, 10, -1])
    np.testing.assert_array_equal(hi, [1, 30, 1])
    keras.utils.set_random_seed(0)
    tab = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                            keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    r = dance_tf.explain(tab, data[0], value_range=(lo, hi), return_details=True)
    assert np.all(r.decoys >= lo - 1e-6) and np.all(r.decoys <= hi + 1e-6)
    with pytest.warns(UserWarning, match="shared by every feature"):
        dance_tf.explain(tab, data[0])


def test_base_methods_differentiate_the_same_logits_as_dance():
    """``saliency.gradient`` on a softmax model differentiates the logits (the contract),
    checked against a gradient of the pre-softmax layer taken here with a tape."""
    import tensorflow as tf

    from dance_tf import saliency

    keras.utils.set_random_seed(0)
    inp = keras.Input((6,))
    z = keras.layers.Dense(3, name="fc")(keras.layers.Dense(5, activation="tanh")(inp))
    model = keras.Model(inp, keras.layers.Softmax()(z))
    pre = keras.Model(inp, z)
    x = RNG.normal(size=(4, 6)).astype(np.float32)
    t = np.array([0, 1, 2, 1])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        chosen = tf.gather(pre(xt), t, axis=1, batch_dims=1)
    expected = tape.gradient(chosen, xt).numpy()
    np.testing.assert_allclose(saliency.gradient(model, x, t), expected, rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(saliency.get("gradient")(model, x, t), expected, rtol=1e-5,
                               atol=1e-7)


def test_mixed_precision_and_dict_output_maps_are_certified():
    """A mixed_float16 CNN and a dict-output CNN explained end to end: every certified
    decoy passes a bound recomputed with a sub-model built here."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        mp = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(4, 3, name="c1"),
                               keras.layers.MaxPooling2D(name="p1"), keras.layers.Flatten(),
                               keras.layers.Dense(3)])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    x = RNG.random((12, 12, 1), dtype=np.float32)
    r = dance_tf.explain(mp, x, **FAST)
    assert r.layer == "p1" and "float16" in r.notes[0] and r.saliency.dtype == np.float32
    f_mp = keras.Model(mp.inputs, mp.get_layer("p1").output)
    _check_certificates(r, x, lambda z: np.asarray(f_mp(z), np.float32))

    keras.utils.set_random_seed(0)
    inp = keras.Input((12, 12, 1))
    h = keras.layers.MaxPooling2D(name="p1")(keras.layers.Conv2D(4, 3, name="c1")(inp))
    z = keras.layers.Dense(3, name="fc")(keras.layers.Flatten()(h))
    dm = keras.Model(inp, {"logits": z, "probs": keras.layers.Softmax()(z)})
    r = dance_tf.explain(dm, x, output="probs", **FAST)
    assert r.explained == "output 'probs': logits (final softmax stripped)"
    f_dm = keras.Model(inp, dm.get_layer("p1").output)
    _check_certificates(r, x, lambda q: np.asarray(f_dm(q)))


def test_variable_length_text_with_a_softmax_head_explains_two_lengths():
    """Sentences of two lengths through a model with input (None, D) and a softmax Dense
    head: the logits model is built once on the model's own variable-length input."""
    keras.utils.set_random_seed(0)
    inp = keras.Input((None, 4))
    h = keras.layers.Conv1D(3, 2, padding="same", name="conv")(inp)
    out = keras.layers.Dense(2, activation="softmax", name="head")(
        keras.layers.GlobalMaxPooling1D()(h))
    model = keras.Model(inp, out)
    ex = dance_tf.Explainer(model, layer="conv", value_range=(-1.0, 1.0))
    f_l = keras.Model(inp, model.get_layer("conv").output)
    for length in (5, 9):
        x = RNG.uniform(-1, 1, (length, 4)).astype(np.float32)
        r = ex(x, return_details=True)
        assert r.saliency.shape == (length, 4)
        assert r.explained.startswith("logits (final softmax")
        _check_certificates(r, x, lambda z: np.asarray(f_l(z)))


def test_a_layer_with_two_outputs_is_refused():
    class Split(keras.layers.Layer):
        def call(self, t):
            return t * 2.0, t * 3.0

        def compute_output_shape(self, s):
            return s, s

    inp = keras.Input((8, 8, 1))
    a, b = Split(name="split")(keras.layers.Conv2D(2, 3, name="c")(inp))
    out = keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Add()([a, b])))
    model = keras.Model(inp, out)
    with pytest.raises(LayerError, match="2 outputs"):
        dance_tf.explain(model, RNG.random((8, 8, 1), dtype=np.float32), layer="split",
                         value_range=(0.0, 1.0))
