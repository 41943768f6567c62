"""The embedded default classifier: a small CNN on the scikit-learn digits (32×32×1).

conv1 (3×3, 16, ReLU) → pool1 → conv2 (3×3, 32, ReLU) → pool2 → fc1 (64, ReLU) → logits.
Table S1-style index: ℓ = 2 is ``pool1`` (the default layer, as for ResNet in the paper).
Trained once (seeded) and cached as ``digits_cnn.keras`` in the model cache folder
(:func:`dance_tf.models.train_cache.model_dir`).
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from dance_tf.data import digits as digits_data
from dance_tf.models import train_cache

FILE_NAME = "digits_cnn.keras"


def build(size: int = digits_data.SIZE) -> keras.Model:
    """The untrained CNN; outputs logits for (N, size, size, 1) inputs."""
    return keras.Sequential([
        keras.Input((size, size, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(name="pool2"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(64, activation="relu", name="fc1"),
        keras.layers.Dense(10, name="logits"),
    ], name="digits_cnn")


def train(epochs: int = 12, seed: int = 0, verbose: int = 0, size: int = digits_data.SIZE):
    """Train on the seeded split (digits resized to size×size); returns (model, test
    accuracy)."""
    keras.utils.set_random_seed(seed)
    x_tr, y_tr, x_te, y_te = digits_data.load(size=size, seed=seed)
    model = build(size)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=verbose, shuffle=True)
    acc = float(np.mean(np.argmax(model.predict(x_te, verbose=0), -1) == y_te))
    return model, acc


def load(path: str | os.PathLike | None = None, train_if_missing: bool = True,
         progress=print, size: int = digits_data.SIZE) -> keras.Model:
    """Load the cached digits CNN, training and caching it first if needed (~20 s CPU).

    ``size`` other than 32 gives the same CNN trained on the digits resized to size×size
    (cached as ``digits_cnn_<size>.keras``; the benchmarks use 96 for larger inputs)."""
    name = FILE_NAME if size == digits_data.SIZE else f"digits_cnn_{size}.keras"
    cached = not path
    path = Path(path) if path else train_cache.model_dir() / name
    if path.exists():
        repair = ("delete it and the digits CNN is trained again" if cached
                  else train_cache.REPAIR)
        return train_cache.load_model(path, repair)
    if not train_if_missing:
        raise FileNotFoundError(f"{path}: no trained digits model")
    progress(f"training the digits CNN once (cached at {path}) ...")
    model, acc = train(verbose=2, size=size)
    progress(f"digits CNN test accuracy: {acc:.3f}")
    train_cache.save_model(model, path)
    return model
