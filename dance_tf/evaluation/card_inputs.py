"""The inputs, labels and targets of ``evaluate_model``: numpy, a tensor or a tf.data
dataset of inputs or of (x, y) pairs (single elements or batches), or a list of inputs
of different shapes (sentences of several lengths, for a model with variable axes)."""

from __future__ import annotations

import numpy as np

from dance_tf.errors import InputError


def _dataset_arrays(data, input_ndim: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(x, y or None) of a dataset, read bounded (``dance_tf.datasets``: infinite, endless
    and ragged datasets are refused)."""
    from dance_tf import datasets

    return datasets.arrays(data, input_ndim, name="inputs")


def gather(model, inputs, labels) -> tuple[np.ndarray | list, np.ndarray | None]:
    """(x (N, *S) float32 finite — or a list of N such inputs when their shapes differ —,
    labels (N,) int64 or None). Labels may be class indices or one-hot / score rows
    (argmax); a dataset of (x, y) pairs gives its y as labels (``labels`` must then be
    None)."""
    import tensorflow as tf

    from dance_tf.model_contract import contract, declares_input

    shape = contract(model).input_shape if declares_input(model) else None
    if _ragged(inputs):
        return _ragged_inputs(inputs, shape), None if labels is None else _labels(
            labels, len(inputs))
    if isinstance(inputs, tf.data.Dataset):
        x, y = _dataset_arrays(inputs, None if shape is None else len(shape))
        if y is not None:
            if labels is not None:
                raise InputError("labels: the dataset already holds (x, y) pairs; give "
                                 "labels=None")
            labels = y
    else:
        x = inputs.numpy() if tf.is_tensor(inputs) else np.asarray(inputs)
    if x.dtype.kind not in "fiu":
        raise InputError(f"inputs: expected numbers, got dtype {x.dtype}")
    x = x.astype(np.float32)
    if shape is not None and x.ndim == len(shape):
        x = x[None]
    if x.ndim < 2 or len(x) == 0:
        raise InputError(f"inputs: expected a non-empty batch (N, *S), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError("inputs: contain NaN or Inf")
    return x, None if labels is None else _labels(labels, len(x))


def _ragged(inputs) -> bool:
    """A list / tuple of inputs whose shapes differ (one array each)."""
    if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
        return False
    return len({np.shape(x) for x in inputs}) > 1


def _ragged_inputs(inputs, shape: tuple | None) -> list:
    """Each input of a list of several shapes, float32 and finite; each must match the
    model's declared input (its variable axes take any size)."""
    out = []
    for i, x in enumerate(inputs):
        x = np.asarray(x)
        if x.dtype.kind not in "fiu":
            raise InputError(f"inputs[{i}]: expected numbers, got dtype {x.dtype}")
        if shape is not None and (x.ndim != len(shape) or any(
                d is not None and d != s for d, s in zip(shape, x.shape))):
            raise InputError(f"inputs[{i}]: expected shape {shape} (None: any size), got "
                             f"{x.shape}")
        if not np.all(np.isfinite(x)):
            raise InputError(f"inputs[{i}]: contains NaN or Inf")
        out.append(x.astype(np.float32))
    return out


def _labels(labels, n: int) -> np.ndarray:
    import tensorflow as tf

    y = labels.numpy() if tf.is_tensor(labels) else np.asarray(labels)
    if y.ndim == 2:
        y = np.argmax(y, axis=1)
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"labels: expected {n} class indices (N,) or one-hot rows (N, K), "
                         f"got shape {np.shape(labels)}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise InputError("labels: expected whole class indices")
    if y.dtype.kind not in "fiu" or np.any(y < 0):
        raise InputError("labels: expected class indices ≥ 0")
    return y.astype(np.int64)


def targets(logits, x: np.ndarray, labels: np.ndarray | None, batch_size: int = 64
            ) -> np.ndarray:
    """The class explained for each input: its label, else the predicted class. A label
    beyond the model's classes is an InputError. x: (N, *S) or a list of inputs of
    several shapes (one forward pass each)."""
    if isinstance(x, list):
        outs = [np.asarray(logits(xi[None], training=False)) for xi in x]
    else:
        outs = [np.asarray(logits(x[i:i + batch_size], training=False))
                for i in range(0, len(x), batch_size)]
    scores = np.concatenate(outs)
    if labels is None:
        return np.argmax(scores, axis=1).astype(np.int64)
    if np.any(labels >= scores.shape[1]):
        raise InputError(f"labels: expected class indices < {scores.shape[1]} (the model's "
                         f"classes), got {int(labels.max())}")
    return labels
