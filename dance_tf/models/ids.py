"""The CSE-CIC-IDS2018 MLP over MinMax-scaled flow features (S5, S8).

Architecture (model name ``ids_mlp``; the paper's "two-layer MLP" = two hidden layers)::

    input (N, F) scaled to [0, 1] → Dense(64, ReLU) "hidden1"   index 1
    → Dense(32, ReLU) "hidden2"                                 index 2
    → Dense(classes) "logits"                                   index 3

Table S1 explains the IDS MLP at ℓ = 2, the second hidden representation, the last one
before the logits. The output is logits (no softmax). The classes are ``("benign",
"attack")`` for the paper's binary task or the dataset's labels for a multi-class model.

Scaling: scikit-learn's ``MinMaxScaler`` fitted on the training split only, with
``clip=True`` so that test flows outside the training range stay in [0, 1], DANCE's legal
range (``value_range = (0, 1)``). It is saved beside the model as its fitted minimum and
maximum (``scaler.npz``) and rebuilt on load, so no pickle is involved.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.preprocessing import MinMaxScaler

from dance_tf.data.ids2018 import select_features

MODEL_FILE = "model.keras"
SCALER_FILE = "scaler.npz"
CONFIG_FILE = "config.json"
BINARY_CLASSES = ("benign", "attack")


def build(num_features: int, num_classes: int = 2, *, hidden: tuple[int, int] = (64, 32),
          seed: int = 0) -> keras.Model:
    """The MLP: scaled features (N, F) float32 → logits (N, num_classes)."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input(shape=(num_features,), name="scaled_features")
    h = keras.layers.Dense(hidden[0], activation="relu", kernel_initializer=init,
                           name="hidden1")(inputs)
    h = keras.layers.Dense(hidden[1], activation="relu", kernel_initializer=init,
                           name="hidden2")(h)
    logits = keras.layers.Dense(num_classes, kernel_initializer=init, name="logits")(h)
    return keras.Model(inputs, logits, name="ids_mlp")


def fit_scaler(X_train: np.ndarray) -> MinMaxScaler:
    """MinMaxScaler to [0, 1] with clipping, fitted on the training rows (N, F) only."""
    return MinMaxScaler(feature_range=(0.0, 1.0), clip=True).fit(np.asarray(X_train))


def scaler_from_range(data_min: np.ndarray, data_max: np.ndarray) -> MinMaxScaler:
    """The fitted MinMaxScaler whose training minimum / maximum were these (F,) arrays."""
    return MinMaxScaler(feature_range=(0.0, 1.0), clip=True).fit(
        np.stack([np.asarray(data_min, float), np.asarray(data_max, float)]))


@dataclass
class IDSModel:
    """A trained MLP with its scaler (what :func:`load` returns).

    Attributes: ``model`` (Keras, scaled features (N, F) → logits), ``scaler`` (fitted
    MinMaxScaler), ``feature_names`` (F column names, the order ``transform`` expects),
    ``classes`` (output names), ``config`` (training metadata).
    """

    model: keras.Model
    scaler: MinMaxScaler
    feature_names: list[str]
    classes: tuple[str, ...]
    config: dict

    value_range = (0.0, 1.0)

    def transform(self, X: np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
        """Cleaned features (N, F) or (F,) → float32 scaled to [0, 1], same shape.

        ``names``: the columns of X when they may differ in order from
        ``feature_names`` (e.g. straight from :func:`dance_tf.data.ids2018.load_csv`).
        Raises ValueError naming expected and received widths, or the differing columns.
        """
        X = np.asarray(X, dtype=np.float64)
        single = X.ndim == 1
        X2 = X[None] if single else X
        if names is not None:
            X2 = select_features(X2, names, self.feature_names)
        if X2.ndim != 2 or X2.shape[1] != len(self.feature_names):
            raise ValueError(f"X: expected {len(self.feature_names)} features per flow "
                             f"({self.feature_names[0]!r} ... {self.feature_names[-1]!r}), "
                             f"got shape {X.shape}")
        out = self.scaler.transform(X2).astype(np.float32)
        return out[0] if single else out

    def logits(self, X_scaled: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Logits (N, classes) of scaled features (N, F)."""
        X_scaled = np.asarray(X_scaled, dtype=np.float32)
        return np.concatenate([np.asarray(self.model(X_scaled[i:i + batch_size],
                                                     training=False))
                               for i in range(0, len(X_scaled), batch_size)])

    def save(self, directory: str | os.PathLike) -> None:
        """Write model, scaler and config into ``directory``."""
        os.makedirs(directory, exist_ok=True)
        self.model.save(os.path.join(directory, MODEL_FILE))
        np.savez(os.path.join(directory, SCALER_FILE), data_min=self.scaler.data_min_,
                 data_max=self.scaler.data_max_)
        config = {**self.config, "feature_names": list(self.feature_names),
                  "classes": list(self.classes)}
        with open(os.path.join(directory, CONFIG_FILE), "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)


def load(directory: str | os.PathLike) -> IDSModel:
    """Load what ``scripts/train_ids.py --out DIR`` saved.

    Raises FileNotFoundError naming the missing file.
    """
    for name in (MODEL_FILE, SCALER_FILE, CONFIG_FILE):
        if not os.path.exists(os.path.join(directory, name)):
            raise FileNotFoundError(
                f"{directory}: missing {name} (train with scripts/train_ids.py)")
    model = keras.models.load_model(os.path.join(directory, MODEL_FILE), compile=False)
    with np.load(os.path.join(directory, SCALER_FILE)) as ranges:
        scaler = scaler_from_range(ranges["data_min"], ranges["data_max"])
    with open(os.path.join(directory, CONFIG_FILE), encoding="utf-8") as handle:
        config = json.load(handle)
    return IDSModel(model, scaler, list(config["feature_names"]), tuple(config["classes"]),
                    config)
