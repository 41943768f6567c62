"""Read a legacy (pre-zip) PyTorch ``state_dict`` file into numpy arrays, without torch.

``torch.save`` before PyTorch 1.6 (and ``_use_new_zipfile_serialization=False`` after)
writes, one after the other: three small pickles (a magic number, the protocol version
1001, a dict describing the writer's byte order and type sizes), the object itself pickled
with *persistent ids* ``('storage', StorageType, key, location, numel[, view])`` standing
for the raw storages, a pickled list of storage keys, and then per key, in that order, an
int64 little-endian element count and the storage's raw little-endian bytes. Tensors are
rebuilt by ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``.

The pickles are read by :mod:`dance_tf.models.torch_pickle`, a pickle machine that runs
only what a state_dict needs on objects made fresh for each file: the globals
``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` (replaced by a stand-in that
records the view) and the storage types ``torch.FloatStorage`` / ``torch.LongStorage``
(dtype markers, never called). Any other global is refused with :class:`RefusedGlobal` at
the moment the pickle names it, before any call it could make runs. Every other malformed
file (truncated, garbled, nested too deep, a storage declared twice with different types,
...) raises ``ValueError`` whose message starts with the file path and stays short.
"""

from __future__ import annotations

import io
import os
import struct

import numpy as np

from dance_tf.models import torch_pickle
from dance_tf.models.torch_pickle_machine import (
    STORAGE_DTYPES,
    RefusedGlobal,
    TensorView,
    show,
)

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
MAX_MESSAGE = 400  # characters of the underlying error kept in a ValueError
MAX_DIMS = 64  # numpy's limit


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a legacy PyTorch ``state_dict`` file: ``{name: numpy array}``.

    Float tensors come back as float32, ``num_batches_tracked`` counters as int64; every
    array is a fresh C-contiguous copy in PyTorch's logical shape (OIHW for convolutions).

    Raises
    ------
    FileNotFoundError
        no file at ``path``.
    RefusedGlobal (a ``pickle.UnpicklingError`` and a ``ValueError``)
        the pickle names a class or function outside the allow-list; nothing ran.
    ValueError
        not a legacy PyTorch file, truncated, or inconsistent; the message starts with
        the file path.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such PyTorch weights file")
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return _parse(io.BytesIO(data), len(data))
    except RefusedGlobal as err:
        raise RefusedGlobal(f"{path}: {err}") from None
    except Exception as err:  # noqa: BLE001 -- any failure on an untrusted file is its fault
        text = str(err) or type(err).__name__
        if len(text) > MAX_MESSAGE:
            text = text[:MAX_MESSAGE - 3] + "..."
        raise ValueError(f"{path}: not a readable legacy PyTorch file (truncated or "
                         f"corrupt?): {text}") from err


def _parse(handle: io.BytesIO, total: int) -> dict[str, np.ndarray]:
    if handle.getbuffer()[:2] == b"PK":
        raise ValueError("a zip-format PyTorch file (torch >= 1.6 default); only the legacy "
                         "format is supported")
    magic = torch_pickle.load(handle, "magic number")
    if magic != MAGIC_NUMBER:
        raise ValueError(f"magic number {show(magic)} is not PyTorch's legacy {MAGIC_NUMBER:#x}")
    protocol = torch_pickle.load(handle, "protocol version")
    if protocol != PROTOCOL_VERSION:
        raise ValueError(f"protocol version {show(protocol)}, expected {PROTOCOL_VERSION}")
    info = torch_pickle.load(handle, "system info")
    if type(info) is not dict or info.get("little_endian") is not True:
        raise ValueError(f"written on a big-endian machine or without system info: "
                         f"{show(info)}")
    state = torch_pickle.load(handle, "state dict")
    if not isinstance(state, dict):  # dict or OrderedDict (the machine makes no others)
        raise ValueError(f"the pickled object is a {type(state).__name__}, not a state_dict")
    keys = torch_pickle.load(handle, "list of storage keys")
    if type(keys) is not list or not all(type(k) is str for k in keys):
        raise ValueError("the storage key list is not a list of strings")

    storages = {}
    if not all(type(name) is str for name in state):
        raise ValueError("state_dict entry names are not all strings")
    views = {name: v for name, v in state.items() if type(v) is TensorView}
    others = sorted(name for name in state if name not in views)
    if others:
        raise ValueError(f"entries that are not tensors: {show(others)}")
    wanted = _storages(views)
    for key in keys:
        if key not in wanted:
            raise ValueError(f"storage {show(key)} is listed but no tensor uses it")
        storage = wanted[key]
        head = handle.read(8)
        if len(head) < 8:
            raise ValueError(f"file ends before the size of storage {show(key)}")
        (numel,) = struct.unpack("<q", head)
        if numel != storage.numel:
            raise ValueError(f"storage {show(key)} holds {numel} elements, the pickle says "
                             f"{storage.numel}")
        nbytes = numel * storage.kind.dtype.itemsize
        raw = handle.read(nbytes)
        if len(raw) < nbytes:
            raise ValueError(f"file ends inside storage {show(key)} ({len(raw)} of {nbytes} "
                             "bytes)")
        storages[key] = np.frombuffer(raw, dtype=storage.kind.dtype)
    if len(set(keys)) != len(keys):
        raise ValueError("the storage key list names a storage twice")
    missing = sorted(set(wanted) - set(keys))
    if missing:
        raise ValueError(f"storages used by tensors but absent from the file: "
                         f"{show(missing)}")
    if handle.tell() != total:
        raise ValueError(f"{total - handle.tell()} unexpected bytes after the last storage")

    out = {}
    for name, view in views.items():
        buf = storages[view.storage.key]
        extent = view.offset + sum((s - 1) * st for s, st in zip(view.size, view.stride)) + 1
        if len(view.size) > MAX_DIMS:
            raise ValueError(f"tensor {show(name)} has {len(view.size)} dimensions (numpy "
                             f"takes at most {MAX_DIMS})")
        count = 0 if 0 in view.size else 1
        for s in view.size:
            count = min(count * s, buf.size + 1)  # stays small: only "≤ buf.size" matters
        if count == 0:
            extent = 0
        if extent > buf.size or count > max(buf.size, 1):
            raise ValueError(f"tensor {show(name)} (size {show(view.size)}, stride "
                             f"{show(view.stride)}, offset {view.offset}) reaches past its "
                             f"storage of {buf.size}")
        item = buf.itemsize
        arr = np.lib.stride_tricks.as_strided(
            buf[view.offset:], shape=view.size, strides=tuple(s * item for s in view.stride),
            writeable=False)
        out[name] = np.array(arr, dtype=buf.dtype.newbyteorder("="), order="C")
    return out


def _storages(views: dict) -> dict:
    """``{key: Storage}`` of the tensors; a key declared with two types or lengths is an
    error (the second declaration would otherwise decide how every tensor reads it)."""
    out = {}
    for name, view in views.items():
        storage = view.storage
        first = out.setdefault(storage.key, storage)
        if (first.kind.name, first.numel) != (storage.kind.name, storage.numel):
            raise ValueError(
                f"storage {show(storage.key)} is declared as {first.kind.name} of "
                f"{first.numel} elements and, for tensor {show(name)}, as "
                f"{storage.kind.name} of {storage.numel}")
    return out


__all__ = ["read_state_dict", "RefusedGlobal", "STORAGE_DTYPES"]
