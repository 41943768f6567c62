"""Shared by the decoy tests: F_ℓ computed with the model's own layers, three small models
(a CNN, an MLP, a text CNN) with an input and settings each, and the decoys' directions."""

import keras
import numpy as np


def prefix(model, upto):
    """F_ℓ by calling the model's layers one after the other, up to ``upto``."""

    def f(x):
        h = keras.ops.convert_to_tensor(x)
        for layer in model.layers:
            h = layer(h, training=False)
            if layer.name == upto:
                return np.asarray(h)
        raise AssertionError(upto)

    return f


def tiny_cnn():
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((10, 10, 3)),
        keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="c1"),
        keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="c2"),
        keras.layers.Flatten(), keras.layers.Dense(4, name="logits")])


def mlp():
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((12,)), keras.layers.Dense(16, activation="relu", name="d1"),
        keras.layers.Dense(16, activation="relu", name="d2"), keras.layers.Dense(3)])


def text_cnn():
    keras.utils.set_random_seed(2)
    return keras.Sequential([
        keras.Input((7, 6)), keras.layers.Conv1D(8, 2, activation="relu", name="conv"),
        keras.layers.Conv1D(8, 2, activation="relu", name="conv2"),
        keras.layers.GlobalMaxPooling1D(), keras.layers.Dense(2)])


CASES = {
    # name: (model builder, layer, input, value range, explainer options)
    "cnn": (tiny_cnn, "c2",
            np.random.default_rng(0).random((10, 10, 3), dtype=np.float32) * 0.9 + 0.05,
            (0.0, 1.0), {"patch_size": 3, "patches_per_mask": 16}),
    "mlp": (mlp, "d2", np.random.default_rng(1).random(12, dtype=np.float32), (0.0, 1.0), {}),
    "text": (text_cnn, "conv2",
             np.random.default_rng(2).normal(size=(7, 6)).astype(np.float32), (-3.0, 3.0), {}),
}


def signs_and_masks(r):
    """The direction s of each decoy (+1 for the first n, −1 for the others) and its mask."""
    n = len(r.masks)
    return np.r_[np.ones(n), -np.ones(n)], np.concatenate([r.masks, r.masks])
