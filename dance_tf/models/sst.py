"""The SST sentence CNN over fixed GloVe embeddings (§4.3.2, S5; Kim 2014).

The Keras model takes the **embedded sentence** as input, float32 (N, T, D), and returns
logits (N, classes); a separate lookup (:class:`dance_tf.data.embedding.EmbeddingTable`)
turns text into that input, so DANCE perturbs word vectors, one word = one patch.

Architecture (model name ``sst_cnn``; the paper's "two-layer CNN" = one convolution
layer + one dense layer, as in Kim 2014)::

    input (N, T, D) → PadToMinLength(width) → Conv1D(filters, width, ReLU)   index 1
    → GlobalMaxPooling1D                                                      index 2
    → Dropout → Dense(classes) logits                                         index 3

Table S1 explains the SST CNN at ℓ = 2: the max-pooled sentence features, the last
representation before the classifier. Kim uses parallel widths 3/4/5; here a single
convolution (default 300 filters of width 3, the best of widths 3/4/5 on SST-2 dev with
the 50-d vectors) keeps the layer indices of Table S1 meaningful: conv = 1, pool = 2,
logits = 3.

Padding policy: the model accepts any length T ≥ 1 (input shape (None, D)).
``PadToMinLength`` appends zero rows only when T is shorter than the filter width, inside
the model, so an explanation of a short sentence still has exactly one row per real word.
Training batches group sentences of equal length (no padding at all for T ≥ width), so
the logits of a sentence do not depend on what it was batched with.

The packaged model (:func:`load_default`): trained once, with progress, on the packaged
SST-2 sentences and GloVe 50-d vectors (:mod:`dance_tf.data.samples`) and cached as
``sst_cnn/`` in the model cache folder (:func:`dance_tf.models.train_cache.model_dir`).
``DANCE_TF_TRAIN_STEPS=N`` caps training at N steps (tests) and caches under another name
(``sst_cnn-stepsN``), so a quick model never stands in for the real one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dance_tf.data.embedding import EmbeddingTable
from dance_tf.models.train_cache import cache_dir, load_model, train_once, train_steps_override
from dance_tf.progress import progress

MODEL_FILE = "model.keras"
WORDS_FILE = "words.txt"
VECTORS_FILE = "vectors.npy"
CONFIG_FILE = "config.json"
BINARY_CLASSES = ("negative", "positive")
FINE_CLASSES = ("very negative", "negative", "neutral", "positive", "very positive")


@keras.saving.register_keras_serializable(package="dance_tf")
class PadToMinLength(keras.layers.Layer):
    """Append zero rows along the time axis up to ``min_length``: (N, T, D) → (N, max(T, L), D)."""

    def __init__(self, min_length: int, **kwargs):
        super().__init__(**kwargs)
        self.min_length = int(min_length)

    def call(self, inputs):
        missing = tf.maximum(self.min_length - tf.shape(inputs)[1], 0)
        return tf.pad(inputs, [[0, 0], [0, missing], [0, 0]])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "min_length": self.min_length}


def build(dim: int, num_classes: int = 2, *, filters: int = 300, width: int = 3,
          dropout: float = 0.5, seed: int = 0) -> keras.Model:
    """The sentence CNN: embedded tokens (N, T, D) float32 → logits (N, num_classes)."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input(shape=(None, dim), name="embedded_tokens")
    h = PadToMinLength(width, name="pad")(inputs)
    h = keras.layers.Conv1D(filters, width, activation="relu", kernel_initializer=init,
                            name="conv")(h)
    h = keras.layers.GlobalMaxPooling1D(name="pool")(h)
    h = keras.layers.Dropout(dropout, seed=seed, name="dropout")(h)
    logits = keras.layers.Dense(num_classes, kernel_initializer=init, name="logits")(h)
    return keras.Model(inputs, logits, name="sst_cnn")


def length_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator
                   ) -> list[np.ndarray]:
    """Shuffled batches of indices whose sentences all have the same length."""
    lengths = np.asarray(lengths)
    batches = []
    for length in np.unique(lengths):
        idx = rng.permutation(np.flatnonzero(lengths == length))
        batches.extend(idx[i:i + batch_size] for i in range(0, len(idx), batch_size))
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def predict_logits(model: keras.Model, embedded: Sequence[np.ndarray], batch_size: int = 256
                   ) -> np.ndarray:
    """Logits (N, classes) of sentences given as (T_i, D) arrays, each at its own length."""
    lengths = [len(e) for e in embedded]
    out = np.zeros((len(embedded), model.output_shape[-1]), dtype=np.float32)
    for length in sorted(set(lengths)):
        idx = [i for i, n in enumerate(lengths) if n == length]
        for start in range(0, len(idx), batch_size):
            chunk = idx[start:start + batch_size]
            batch = np.stack([embedded[i] for i in chunk])
            out[chunk] = np.asarray(model(batch, training=False))
    return out


def fit(model: keras.Model, train: Sequence[np.ndarray], train_labels: np.ndarray,
        val: Sequence[np.ndarray], val_labels: np.ndarray, *, epochs: int = 15,
        batch_size: int = 50, learning_rate: float = 1e-3, max_steps: int | None = None,
        seed: int = 0, log=print, show_progress: bool = True) -> dict:
    """Train with Adam on length-grouped batches; keep the weights of the best val epoch.

    train / val: embedded sentences (T_i, D) float32; labels: int (N,). ``val`` selects the
    epoch (early stopping), so report accuracy on a set that is neither. Progress: a bar
    over the training steps (plain lines when stderr is not a terminal). Returns a dict
    with ``val_accuracy`` (of the kept weights), ``epoch`` and the per-epoch ``history``.
    """
    rng = np.random.default_rng(seed)
    optimizer = keras.optimizers.Adam(learning_rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    dim = model.input_shape[-1]

    @tf.function(input_signature=[tf.TensorSpec((None, None, dim), tf.float32),
                                  tf.TensorSpec((None,), tf.int64)], reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    best = {"val_accuracy": -1.0, "epoch": 0, "history": []}
    best_weights = model.get_weights()
    steps = 0
    train_labels = np.asarray(train_labels, dtype=np.int64)
    per_epoch = len(length_batches([len(t) for t in train], batch_size,
                                   np.random.default_rng(0)))
    total = epochs * per_epoch if max_steps is None else min(epochs * per_epoch, max_steps)
    bar = progress(total, desc="SST CNN training", unit="step", enabled=show_progress)
    for epoch in range(1, epochs + 1):
        losses = []
        for batch in length_batches([len(t) for t in train], batch_size, rng):
            x = np.stack([train[i] for i in batch])
            losses.append(float(step(tf.constant(x), tf.constant(train_labels[batch]))))
            steps += 1
            bar.update(1)
            if max_steps is not None and steps >= max_steps:
                break
        accuracy = float(np.mean(predict_logits(model, val).argmax(-1) == val_labels))
        best["history"].append({"epoch": epoch, "loss": float(np.mean(losses)),
                                "val_accuracy": accuracy})
        bar.set_postfix_str(f"epoch {epoch}: loss {np.mean(losses):.3f}, "
                            f"val acc {accuracy:.3f}")
        if accuracy > best["val_accuracy"]:
            best.update(val_accuracy=accuracy, epoch=epoch)
            best_weights = model.get_weights()
        if max_steps is not None and steps >= max_steps:
            break
    bar.close()
    log(f"SST CNN: best epoch {best['epoch']}, val accuracy {best['val_accuracy']:.4f}")
    model.set_weights(best_weights)
    return best


@dataclass
class SSTModel:
    """A trained sentence CNN with its vocabulary (what :func:`load` returns).

    Attributes: ``model`` (Keras, embedded tokens (N, T, D) → logits), ``table``
    (the embedding lookup), ``classes`` (class names), ``config`` (training metadata).
    """

    model: keras.Model
    table: EmbeddingTable
    classes: tuple[str, ...]
    config: dict

    @property
    def value_range(self) -> tuple[np.ndarray, np.ndarray]:
        """DANCE's [x_min, x_max]: per-dimension range of the embedding table, (D,) each."""
        return self.table.value_range

    def tokens(self, sentence: str | Sequence[str]) -> list[str]:
        """Tokens of a raw (tokenised on the fly) or already tokenised sentence."""
        return self.table.tokens(sentence)

    def embed_one(self, sentence: str | Sequence[str]) -> np.ndarray:
        """One sentence → float32 (T, D), T = its number of tokens (no padding)."""
        return self.table.embed_one(sentence)

    def embed(self, sentences: Sequence[str | Sequence[str]], length: int | None = None
              ) -> np.ndarray:
        """Sentences → float32 (N, T, D), zero rows after the end of shorter sentences.

        Zero padding can change the max-pooled features of the shorter sentences; for
        exact per-sentence logits use :meth:`logits`, which groups sentences by length.
        """
        return self.table.embed(sentences, length)

    def logits(self, sentences: Sequence[str | Sequence[str]]) -> np.ndarray:
        """Logits (N, classes), every sentence evaluated at its own length."""
        return predict_logits(self.model, [self.embed_one(s) for s in sentences])

    def save(self, directory: str | os.PathLike) -> None:
        """Write model, vocabulary, vectors and config into ``directory``."""
        os.makedirs(directory, exist_ok=True)
        self.model.save(os.path.join(directory, MODEL_FILE))
        with open(os.path.join(directory, WORDS_FILE), "w", encoding="utf-8") as handle:
            handle.write("\n".join(self.table.words) + "\n")
        np.save(os.path.join(directory, VECTORS_FILE), self.table.vectors)
        config = {**self.config, "classes": list(self.classes)}
        with open(os.path.join(directory, CONFIG_FILE), "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)


def load(directory: str | os.PathLike) -> SSTModel:
    """Load what ``scripts/train_sst.py --out DIR`` saved.

    Raises FileNotFoundError naming the missing file.
    """
    paths = {n: os.path.join(directory, n) for n in (MODEL_FILE, WORDS_FILE, VECTORS_FILE,
                                                      CONFIG_FILE)}
    for name, path in paths.items():
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"{directory}: missing {name} (train with scripts/train_sst.py)")
    model = load_model(paths[MODEL_FILE])
    with open(paths[WORDS_FILE], encoding="utf-8") as handle:
        words = handle.read().split("\n")[:-1]
    vectors = np.load(paths[VECTORS_FILE])
    with open(paths[CONFIG_FILE], encoding="utf-8") as handle:
        config = json.load(handle)
    return SSTModel(model, EmbeddingTable(words, vectors), tuple(config["classes"]), config)


# --------------------------------------------------------------------------- training
def restrict_vocabulary(words, vectors, sentences, max_words):
    """Keep the first ``max_words`` GloVe rows plus every word the sentences use."""
    if max_words is None:
        return words, vectors
    table = EmbeddingTable(words, vectors)
    keep = set(range(min(max_words, len(words))))
    for tokens in sentences:
        keep.update(r for r in map(table.lookup, tokens) if r is not None)
    rows = sorted(keep)
    return [words[r] for r in rows], vectors[rows]


def load_default(log=print) -> SSTModel:
    """The SST CNN trained on the packaged SST-2 sentences and GloVe 50-d vectors: loaded
    from :func:`default_dir`, or trained there first (a few minutes on a CPU, with
    progress; an interrupted training leaves nothing behind)."""
    from dance_tf.data import samples

    files = {"glove": "glove.6B.50d.sst.txt", "train": "stsa.binary.train",
             "dev": "stsa.binary.dev"}
    paths = {key: samples.path(name) for key, name in files.items()}

    def train(folder):
        train_files(paths["glove"], paths["train"], paths["dev"], folder,
                    max_steps=train_steps_override(), log=log,
                    names={key: samples.PREFIX + name for key, name in files.items()})

    directory = train_once(default_dir(), CONFIG_FILE, train,
                           "SST sentence CNN on the packaged SST-2 sentences and GloVe "
                           "50-d vectors", log)
    return load(directory)


def default_dir() -> Path:
    """The packaged model's cache folder: ``<model cache>/sst_cnn`` (``sst_cnn-stepsN``
    under ``DANCE_TF_TRAIN_STEPS=N``)."""
    return cache_dir("sst_cnn")


def train_files(glove_path, train_path, dev_path, out, *, epochs: int = 15,
                val_fraction: float = 0.1, max_steps: int | None = None,
                batch_size: int = 50, filters: int = 300, width: int = 3,
                dropout: float = 0.5, learning_rate: float = 1e-3,
                max_words: int | None = None, seed: int = 0, log=print,
                names: dict | None = None) -> dict:
    """Train the sentence CNN from files and save it into ``out`` (§4.3.2, S5).

    glove_path: GloVe text file (any dimension); train_path / dev_path: ``stsa.*`` files.
    The epoch is chosen on a seeded held-out ``val_fraction`` of the training file, so the
    dev accuracy is measured on sentences that played no part in training or selection.
    names: how the config records the three files (default their paths). Returns the
    config written to ``out/config.json``.
    """
    from dance_tf.data import glove, sst

    keras.utils.set_random_seed(seed)
    start = time.time()
    train_sentences, train_labels = sst.load(train_path)
    dev_sentences, dev_labels = sst.load(dev_path)
    words, vectors = glove.load(glove_path)
    words, vectors = restrict_vocabulary(words, vectors, train_sentences + dev_sentences,
                                         max_words)
    table = EmbeddingTable(words, vectors)
    num_classes = int(max(train_labels.max(), dev_labels.max())) + 1
    classes = BINARY_CLASSES if num_classes == 2 else FINE_CLASSES
    if num_classes > len(classes):
        raise ValueError(f"{train_path}: labels go up to {num_classes - 1}; expected 0/1 or "
                         "0..4")

    def embed_all(sentences):
        out_x, kept = [], []
        for i, tokens in enumerate(sentences):
            try:
                out_x.append(table.embed_one(tokens))
                kept.append(i)
            except ValueError:  # only unknown words: nothing to learn from
                continue
        return out_x, np.asarray(kept)

    train_x, train_kept = embed_all(train_sentences)
    dev_x, dev_kept = embed_all(dev_sentences)
    oov = sum(table.lookup(t) is None for s in train_sentences for t in s)
    total = sum(len(s) for s in train_sentences)
    log(f"vocabulary {len(words)} x {table.dim}; train {len(train_x)} sentences "
        f"({oov / total:.1%} OOV tokens), dev {len(dev_x)}")
    train_y = train_labels[train_kept]
    order = np.random.default_rng(seed).permutation(len(train_x))
    n_val = int(round(val_fraction * len(train_x)))
    val_idx, fit_idx = (order[:n_val], order[n_val:]) if n_val else (order, order)
    model = build(table.dim, num_classes, filters=filters, width=width, dropout=dropout,
                  seed=seed)
    result = fit(model, [train_x[i] for i in fit_idx], train_y[fit_idx],
                 [train_x[i] for i in val_idx], train_y[val_idx], epochs=epochs,
                 batch_size=batch_size, learning_rate=learning_rate, max_steps=max_steps,
                 seed=seed, log=log)
    predicted = predict_logits(model, dev_x).argmax(-1)
    # accuracy over every dev line; a sentence that could not be embedded counts as wrong
    dev_accuracy = float(np.sum(predicted == dev_labels[dev_kept])) / len(dev_sentences)
    names = names or {}
    config = {
        "task": "sst", "glove": names.get("glove", str(glove_path)),
        "train": names.get("train", str(train_path)), "dev": names.get("dev", str(dev_path)),
        "dim": table.dim, "filters": filters, "width": width, "dropout": dropout,
        "epochs": epochs, "max_steps": max_steps, "best_epoch": result["epoch"],
        "val_accuracy": result["val_accuracy"], "val_fraction": val_fraction,
        "dev_accuracy": dev_accuracy, "history": result["history"], "seed": seed,
        "seconds": round(time.time() - start, 1),
    }
    SSTModel(model, table, classes[:num_classes], config).save(out)
    log(f"SST CNN: dev accuracy {dev_accuracy:.4f} (epoch {result['epoch']})")
    return config
