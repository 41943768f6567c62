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

The packaged model (:func:`load_default`): trained once, with progress, on the packaged
CSE-CIC-IDS2018 sample (:mod:`dance_tf.data.samples`; the paper's four classes, binary
target) and cached as ``ids_mlp/`` in the model cache folder
(:func:`dance_tf.models.train_cache.model_dir`). ``DANCE_TF_TRAIN_STEPS=N`` caps training at N
steps (tests) and caches under another name (``ids_mlp-stepsN``).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from sklearn.preprocessing import MinMaxScaler

from dance_tf.data import ids2018
from dance_tf.data.ids2018 import select_features
from dance_tf.models.train_cache import cache_dir, load_model, train_once, train_steps_override
from dance_tf.progress import progress

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
    model = load_model(os.path.join(directory, MODEL_FILE))
    with np.load(os.path.join(directory, SCALER_FILE)) as ranges:
        scaler = scaler_from_range(ranges["data_min"], ranges["data_max"])
    with open(os.path.join(directory, CONFIG_FILE), encoding="utf-8") as handle:
        config = json.load(handle)
    return IDSModel(model, scaler, list(config["feature_names"]), tuple(config["classes"]),
                    config)


# --------------------------------------------------------------------------- training
SPLIT_FILE = "split.npz"


def load_default(log=print) -> IDSModel:
    """The MLP trained on the packaged CSE-CIC-IDS2018 sample: loaded from
    :func:`default_dir`, or trained there first (about a minute on a CPU, with progress;
    an interrupted training leaves nothing behind)."""
    from dance_tf.data import samples

    name = "ids2018_sample.csv"

    def train(folder):
        train_files([samples.path(name)], folder, max_steps=train_steps_override(), log=log,
                    names=[samples.PREFIX + name])

    directory = train_once(default_dir(), CONFIG_FILE, train,
                           "IDS MLP on the packaged CSE-CIC-IDS2018 sample", log)
    return load(directory)


def default_dir() -> Path:
    """The packaged model's cache folder: ``<model cache>/ids_mlp`` (``ids_mlp-stepsN``
    under ``DANCE_TF_TRAIN_STEPS=N``)."""
    return cache_dir("ids_mlp")


def stratify_key(labels: list[str]) -> np.ndarray:
    """Labels for stratification; a label with < 2 rows joins the most frequent label of
    its binary class (benign / attack), since a stratum needs two rows to be split."""
    counts = Counter(labels)
    binary = ids2018.binary_target(labels)
    largest: dict = {}
    for lab, b in zip(labels, binary, strict=True):
        if counts[lab] > counts.get(largest.get(b), 0):
            largest[b] = lab
    return np.asarray([lab if counts[lab] >= 2 else largest[b]
                       for lab, b in zip(labels, binary, strict=True)])


def recall_table(y_true: np.ndarray, y_pred: np.ndarray, groups: list[str]) -> dict:
    """Recall of each group: fraction of its rows predicted as their true class."""
    out = {}
    groups_arr = np.asarray(groups)
    for group in sorted(set(groups)):
        rows = groups_arr == group
        out[group] = {"recall": float(np.mean(y_pred[rows] == y_true[rows])),
                      "count": int(rows.sum())}
    return out


class _EpochProgress(keras.callbacks.Callback):
    """Advance a progress bar once per epoch, with the loss and accuracy as its note."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.bar.update(1)
        self.bar.set_postfix_str(f"loss {logs.get('loss', float('nan')):.4f}, "
                                 f"acc {logs.get('accuracy', float('nan')):.3f}")


def train_files(csv_paths: Sequence, out, *, classes="paper", target: str = "binary",
                timestamp: str = "drop", identifiers: str = "drop",
                hidden: tuple[int, int] = (64, 32), test_size: float = 0.25,
                epochs: int = 150, max_steps: int | None = None, batch_size: int = 32,
                learning_rate: float = 1e-3, seed: int = 0, log=print,
                names: list[str] | None = None) -> dict:
    """Train the MLP from CICFlowMeter CSVs and save it into ``out`` (S5, S8).

    Cleans the CSVs (:mod:`dance_tf.data.ids2018`), keeps ``classes`` ("paper": Benign,
    DoS attacks-Hulk, SSH-Bruteforce, Infilteration; "all"; or a list of labels), splits
    train/test stratified by label with ``seed``, fits the MinMaxScaler on the training
    split only, trains on the binary benign/attack target (the paper's) or the labels
    (``target="multiclass"``) with a progress bar over epochs, and reports test accuracy
    and per-class / per-label recall. Writes model.keras, scaler.npz, config.json and
    split.npz (the held-out rows). names: how the config records the CSVs. Returns the
    config.
    """
    from sklearn.model_selection import train_test_split

    keras.utils.set_random_seed(seed)
    start = time.time()
    kept = {"paper": ids2018.PAPER_CLASSES, "all": None}.get(classes, classes) \
        if isinstance(classes, str) else list(classes)
    X, labels, feature_names = ids2018.load_csvs(list(csv_paths), classes=kept,
                                                 timestamp=timestamp,
                                                 identifiers=identifiers)
    if target == "binary":
        y = ids2018.binary_target(labels)
        class_names = BINARY_CLASSES
    elif target == "multiclass":
        class_names = tuple(sorted(set(labels)))
        y = np.asarray([class_names.index(lab) for lab in labels], dtype=np.int64)
    else:
        raise ValueError(f"target: expected 'binary' or 'multiclass', got {target!r}")
    train_rows, test_rows = train_test_split(np.arange(len(y)), test_size=test_size,
                                             random_state=seed, stratify=stratify_key(labels))
    scaler = fit_scaler(X[train_rows])
    X_train = scaler.transform(X[train_rows]).astype(np.float32)
    X_test = scaler.transform(X[test_rows]).astype(np.float32)
    log(f"{len(y)} flows x {len(feature_names)} features; train {len(train_rows)}, "
        f"test {len(test_rows)}; classes {class_names}")
    model = build(len(feature_names), len(class_names), hidden=tuple(hidden), seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    steps_per_epoch = int(np.ceil(len(train_rows) / batch_size))
    if max_steps is not None:
        epochs = max(1, min(epochs, int(np.ceil(max_steps / steps_per_epoch))))
    bar = progress(epochs, desc="IDS MLP training", unit="epoch")
    model.fit(X_train, y[train_rows], batch_size=batch_size, epochs=epochs, shuffle=True,
              verbose=0, callbacks=[_EpochProgress(bar)])
    bar.close()
    predicted = np.asarray(model.predict(X_test, verbose=0)).argmax(-1)
    y_test = y[test_rows]
    test_labels = [labels[i] for i in test_rows]
    accuracy = float(np.mean(predicted == y_test))
    config = {
        "task": "ids", "csv": names or [str(p) for p in csv_paths],
        "classes_kept": classes if isinstance(classes, str) else list(classes),
        "target": target, "timestamp": timestamp, "identifiers": identifiers,
        "test_size": test_size, "epochs": epochs, "hidden": list(hidden), "seed": seed,
        "test_accuracy": accuracy,
        "recall_per_class": recall_table(y_test, predicted, [class_names[c] for c in y_test]),
        "recall_per_label": recall_table(y_test, predicted, test_labels),
        "seconds": round(time.time() - start, 1),
        "feature_mean_scaled": X_train.mean(axis=0).tolist(),
    }
    IDSModel(model, scaler, feature_names, class_names, config).save(out)
    np.savez(os.path.join(out, SPLIT_FILE), test_X=X[test_rows], test_y=y_test,
             test_labels=np.asarray(test_labels), train_rows=train_rows, test_rows=test_rows)
    log(f"IDS MLP: test accuracy {accuracy:.4f}")
    return config
