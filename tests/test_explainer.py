"""The public API: layer choice, defaults, softmax models, and clear errors for bad input."""

import keras
import numpy as np
import pytest

import dance_tf
from dance_tf.layers import counted_layers, layer_model, resolve_layer
from tests.conftest import small_cnn


@pytest.fixture(scope="module")
def model():
    return small_cnn()


@pytest.fixture
def x():
    return np.random.default_rng(10).random((12, 12, 1)).astype(np.float32)


def test_layer_by_index_name_and_slim_spelling(model):
    assert [lay.name for lay in counted_layers(model)] == ["conv1", "pool1", "conv2", "logits"]
    assert resolve_layer(model, 2).name == "pool1"
    assert resolve_layer(model, None).name == "pool1"  # default ℓ = 2
    assert resolve_layer(model, "small_cnn/pool1").name == "pool1"
    f_l, choice = layer_model(model, 1, (12, 12, 1))
    v = np.random.default_rng(0).random((2, 12, 12, 1)).astype(np.float32)
    np.testing.assert_allclose(f_l(v).numpy(), model.get_layer("conv1")(v).numpy(), rtol=1e-6)


@pytest.mark.parametrize("method", ["gradient", "integrated_gradients", "smoothgrad"])
def test_each_base_method_under_dance(model, x, method):
    opts = {"integrated_gradients": {"steps": 8}, "smoothgrad": {"samples": 4}}.get(method, {})
    sal = dance_tf.explain(model, x, method=method, value_range=(0, 1), patches_per_mask=50,
                           **opts)
    assert sal.shape == x.shape and np.isfinite(sal).all()


def test_softmax_model_is_explained_on_logits(x):
    base = small_cnn(name="base")
    probs = keras.Sequential([base, keras.layers.Softmax(name="softmax")], name="probs")
    a = dance_tf.saliency.gradient(base, x[None], [1])
    ex = dance_tf.Explainer(probs, value_range=(0, 1), patches_per_mask=50)
    r = ex.explain(x, target=1, return_details=True)
    b = dance_tf.Explainer(base, value_range=(0, 1), patches_per_mask=50).explain(x, target=1)
    np.testing.assert_allclose(r.saliency, b, rtol=1e-4, atol=1e-6)
    assert a.shape == (1, 12, 12, 1)
    with pytest.raises(ValueError, match="after the logits"):
        dance_tf.explain(probs, x, layer="softmax", value_range=(0, 1))


@pytest.mark.parametrize("bad,kwargs,err,match", [
    ("batched2", {}, ValueError, "shape"),
    ("rank", {}, ValueError, "shape"),
    ("nan", {}, ValueError, "NaN"),
    ("range", {}, ValueError, "outside value_range"),
    (None, {"layer": "nope"}, ValueError, "layer"),
    (None, {"layer": 9}, ValueError, "layer"),
    (None, {"target": 7}, ValueError, "target"),
    (None, {"patch_size": 20}, ValueError, "patch_size"),
    (None, {"patches_per_mask": 0}, ValueError, "patches_per_mask"),
    (None, {"method": "lrp"}, ValueError, "method"),
    (None, {"aggregation": "median"}, ValueError, "aggregation"),
    (None, {"value_range": (1, 0)}, ValueError, "value_range"),
    ("text", {}, TypeError, "numeric"),
])
def test_bad_input_errors(model, x, bad, kwargs, err, match):
    arg = {"batched2": x[None, None], "rank": x[..., 0], "nan": np.where(x > 0.5, np.nan, x),
           "range": x + 2.0, "text": np.array([["a"]]), None: x}[bad]
    opts = {"value_range": (0, 1), **kwargs}
    with pytest.raises(err, match=match):
        dance_tf.explain(model, arg, **opts)


def test_explain_takes_a_batch_and_the_single_input_method_refuses_one(model, x):
    """dance_tf.explain and Explainer.__call__ take (N, *S); ``Explainer.explain`` is the
    one-input method and still names the extra axis."""
    e = dance_tf.Explainer(model, value_range=(0, 1))
    np.testing.assert_allclose(dance_tf.explain(model, x[None], value_range=(0, 1))[0],
                               e.explain(x), rtol=1e-6, atol=1e-7)
    with pytest.raises(dance_tf.InputError, match="unbatched"):
        e.explain(x[None])


def test_memory_budget_too_small(model, x):
    with pytest.raises(ValueError, match="memory_budget_mb"):
        dance_tf.explain(model, x, value_range=(0, 1), memory_budget_mb=1e-4)


def test_tile_packing_end_to_end(model, x):
    # 12×12, P = 3: 10×10 windows; m = 25 → 5×5-window tiles → 4 masks, 8 decoys, each
    # decoy moving only its tile; the map is the range of the decoys' gradients (Eq. 3),
    # recomputed here with a GradientTape of its own
    import tensorflow as tf

    from dance_tf import masks

    r = dance_tf.explain(model, x, value_range=(0, 1), patches_per_mask=25, packing="tiles",
                         return_details=True, seed=4)
    expected, _ = masks.patch_masks(x.shape, 3, 1, 25, "tiles")
    np.testing.assert_array_equal(r.masks, expected)
    assert r.decoys.shape == (8, 12, 12, 1)
    moved = np.abs(r.decoys - x) > 0
    assert not (moved & (np.concatenate([r.masks, r.masks]) == 0)).any()
    d = tf.constant(r.decoys)
    with tf.GradientTape() as tape:
        tape.watch(d)
        logit = model(d)[:, r.target]
    g = tape.gradient(logit, d).numpy()
    np.testing.assert_allclose(r.saliency, g.max(0) - g.min(0), rtol=1e-4, atol=1e-6)
