"""Tiny linear Keras classifiers whose logits are known in closed form, and the weights W
of the deletion tests (metric tests)."""

import keras
import numpy as np

#: four features, two classes: class 0 w = (1, 2, −1, 0.5), class 1 zero
W = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0], [0.5, 0.0]])


def linear_model(weights, input_shape, softmax: bool = False):
    """logits = flatten(x) @ weights (no bias); weights (prod(input_shape), classes)."""
    w = np.asarray(weights, np.float32)
    model = keras.Sequential([keras.Input(tuple(input_shape)), keras.layers.Flatten(),
                              keras.layers.Dense(w.shape[1], use_bias=False,
                                                 activation="softmax" if softmax else None)])
    model.layers[-1].set_weights([w])
    return model
