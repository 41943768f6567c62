"""Tiny linear Keras classifiers whose logits are known in closed form (metric tests)."""

import keras
import numpy as np


def linear_model(weights, input_shape, softmax: bool = False):
    """logits = flatten(x) @ weights (no bias); weights (prod(input_shape), classes)."""
    w = np.asarray(weights, np.float32)
    model = keras.Sequential([keras.Input(tuple(input_shape)), keras.layers.Flatten(),
                              keras.layers.Dense(w.shape[1], use_bias=False,
                                                 activation="softmax" if softmax else None)])
    model.layers[-1].set_weights([w])
    return model
