"""Reading a ``tf.data.Dataset`` into numpy at the edge, bounded (issue 24: no hangs).

One reader for every entry point that takes a dataset (``dance_tf.explain`` and
``Explainer.__call__`` through :func:`dance_tf.inputs.gather`, ``evaluate_model`` through
``dance_tf.evaluation.card_inputs``). Elements are inputs, batches of inputs, or
``(x, y)`` pairs of either (a 1-tuple ``(x,)`` is x). The reader

- refuses an infinite dataset (``ds.cardinality() == tf.data.INFINITE_CARDINALITY``,
  e.g. ``ds.repeat()``) before reading anything;
- stops a dataset of unknown length (``ds.repeat().filter(...)``) after
  ``MAX_ELEMENTS`` elements, and any dataset once its arrays exceed ``MAX_BYTES``, with an
  error naming the limit (pass ``ds.take(n)`` for fewer);
- refuses ragged data (elements of different shapes, ``tf.RaggedTensor`` / sparse
  elements, dicts) with an ``InputError`` that names the argument and the shapes.
"""

from __future__ import annotations

import numpy as np

from dance_tf.errors import InputError

#: elements read from a dataset of unknown length before it is refused as endless
MAX_ELEMENTS = 100_000
#: bytes of arrays read from any dataset before it is refused (2 GiB)
MAX_BYTES = 2 * 1024**3


def _array(name: str, value) -> np.ndarray:
    if isinstance(value, dict):
        raise InputError(f"{name}: expected dataset elements that are arrays, x or (x, y), "
                         f"got a dict with keys {sorted(value)}; map it to x or (x, y) first")
    arr = np.asarray(value)
    if arr.dtype == object:
        raise InputError(f"{name}: a dataset element is ragged or not an array (a "
                         "tf.RaggedTensor, a sparse tensor or a nested structure); pad the "
                         "inputs to one shape (e.g. ragged.to_tensor()) first")
    return arr


def _split(name: str, element, i: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(x, y or None) of one element."""
    if isinstance(element, tuple):
        if len(element) == 1:
            return _array(name, element[0]), None
        if len(element) != 2:
            raise InputError(f"{name}: expected dataset elements x or (x, y), got a tuple "
                             f"of {len(element)} at element {i}")
        return _array(name, element[0]), _array(name, element[1])
    return _array(name, element), None


def _check_length(name: str, data) -> bool:
    """Refuse an infinite dataset; True when its length is unknown."""
    import tensorflow as tf

    n = int(data.cardinality())
    if n == int(tf.data.INFINITE_CARDINALITY):
        raise InputError(f"{name}: the dataset is infinite (cardinality INFINITE, e.g. "
                         "ds.repeat()); pass a finite one, e.g. ds.take(n)")
    return n == int(tf.data.UNKNOWN_CARDINALITY)


def read(data, name: str = "x", *, max_elements: int | None = None,
         max_bytes: int | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The elements of dataset ``data`` as (xs, ys): lists of numpy arrays (ys empty when
    the elements are not (x, y) pairs). Bounded as the module docstring says."""
    max_elements = MAX_ELEMENTS if max_elements is None else max_elements
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    unknown = _check_length(name, data)
    xs, ys, size = [], [], 0
    for i, element in enumerate(data.as_numpy_iterator()):
        if unknown and i >= max_elements:
            raise InputError(f"{name}: the dataset's length is unknown and it has more than "
                             f"{max_elements:,} elements (the limit "
                             "dance_tf.datasets.MAX_ELEMENTS; it may be endless); pass a "
                             "finite one, e.g. ds.take(n)")
        x, y = _split(name, element, i)
        if (y is None) != (not ys) and xs:
            raise InputError(f"{name}: the dataset mixes (x, y) pairs and plain inputs "
                             f"(element {i})")
        size += x.nbytes + (0 if y is None else y.nbytes)
        if size > max_bytes:
            raise InputError(f"{name}: the dataset holds more than {max_bytes / 2**20:,.0f} "
                             "MiB of arrays (the limit dance_tf.datasets.MAX_BYTES) after "
                             f"{i + 1:,} elements; pass fewer, e.g. ds.take(n)")
        xs.append(x)
        if y is not None:
            ys.append(y)
    if not xs:
        raise InputError(f"{name}: the dataset is empty")
    return xs, ys


def _same_shapes(name: str, parts: list[np.ndarray], skip: int) -> None:
    """All parts share one shape (after the first ``skip`` axes): else a ragged error."""
    shapes = {p.shape[skip:] for p in parts}
    if len(shapes) > 1:
        a, b = sorted(shapes)[:2]
        what = "batches of inputs of" if skip else "elements of"
        raise InputError(f"{name}: the dataset is ragged: {what} different shapes, e.g. "
                         f"{a} and {b}; pad them to one shape or explain them one by one")


def _join(name: str, parts: list[np.ndarray], batched: bool) -> np.ndarray:
    _same_shapes(name, parts, 1 if batched else 0)
    return np.concatenate(parts) if batched else np.stack(parts)


def arrays(data, input_ndim: int | None, name: str = "x"
           ) -> tuple[np.ndarray, np.ndarray | None]:
    """(x, y or None) of a dataset of inputs (rank ``input_ndim``), batches of inputs
    (rank ``input_ndim`` + 1, concatenated) or (x, y) pairs of either. Without
    ``input_ndim``, elements are batches when their labels are (y of the same length),
    else single inputs."""
    xs, ys = read(data, name)
    if len({x.ndim for x in xs}) != 1:
        raise InputError(f"{name}: the dataset mixes single inputs and batches (elements "
                         f"of rank {sorted({x.ndim for x in xs})})")
    if input_ndim is not None:
        batched = xs[0].ndim == input_ndim + 1
    else:
        batched = bool(ys) and ys[0].ndim >= 1 and xs[0].ndim >= 1 and len(ys[0]) == len(
            xs[0])
    if batched and any(y.ndim < 1 or len(y) != len(x) for x, y in zip(xs, ys)):
        raise InputError(f"{name}: a dataset batch holds a different number of x and y")
    x = _join(name, xs, batched)
    return x, (_join(name, ys, batched) if ys else None)
