"""SavedModel / TF-Hub classifiers wrapped as Keras 3 models (S5): logits, input
gradients and layer ℓ only when the signature returns it."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from dance_tf.layers import layer_model
from dance_tf.models.hub import check_layer, load_classifier


def small_net(multi: bool) -> keras.Model:
    L = keras.layers
    x = keras.Input((16, 16, 3))
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(x)
    p = L.MaxPooling2D(2, name="pool1")(h)
    logits = L.Dense(5, name="fc")(L.Flatten()(p))
    outputs = {"logits": logits, "pool1": p} if multi else logits
    return keras.Model(x, outputs, name="small")


def input_grad(model, x, k=2):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x, training=False)
        if isinstance(out, dict):
            out = out["logits"]
        s = out[:, k]
    return tape.gradient(s, x).numpy()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub")
    multi, single = small_net(True), small_net(False)
    single.set_weights(multi.get_weights())
    multi.export(str(tmp / "multi"), verbose=False)
    single.export(str(tmp / "single"), verbose=False)
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype(np.float32)
    return tmp, multi, x


def test_logits_gradients_and_layer(exported):
    tmp, ref, x = exported
    model = load_classifier(tmp / "multi", input_shape=(16, 16, 3), output_key="logits",
                            preprocessing="slim_rgb")
    np.testing.assert_allclose(model(x).numpy(), ref(x)["logits"].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(input_grad(model, x), input_grad(ref, x), rtol=1e-5, atol=1e-6)
    assert model.saved_model_outputs == ("pool1",) and model.preprocessing == "slim_rgb"
    check_layer(model, "pool1")
    f_l, _ = layer_model(model, "pool1", (16, 16, 3))
    np.testing.assert_allclose(f_l(x).numpy(), ref(x)["pool1"].numpy(), rtol=1e-5, atol=1e-6)


def test_layer_not_returned_is_a_clear_error(exported):
    tmp, ref, x = exported
    model = load_classifier(tmp / "single", input_shape=(16, 16, 3))
    np.testing.assert_allclose(model(x).numpy(), ref(x)["logits"].numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="signature returns only.*without decoys"):
        check_layer(model, "pool1")


def test_bad_handles(exported, tmp_path):
    tmp, _, _ = exported
    with pytest.raises(FileNotFoundError):
        load_classifier(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="saved_model.pb"):
        load_classifier(tmp_path)
    with pytest.raises(ValueError, match="output_key"):
        load_classifier(tmp / "multi", input_shape=(16, 16, 3))
