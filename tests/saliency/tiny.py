"""A tiny 8×8×1 tanh CNN (3 classes) for the base-method checks (seconds per test)."""

import keras
import numpy as np


def tiny_cnn(seed: int = 0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(3, 3, padding="same", activation="tanh", name="conv1"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(3, name="logits"),
    ], name="tiny_cnn")


def tiny_inputs(n: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 8, 8, 1)).astype(np.float32) * 0.8 + 0.1


#: few decoys: 2×2 = 4 masks of one 4×4 patch each
FEW_DECOYS = {"value_range": (0.0, 1.0), "patch_size": 4, "stride": 4}
