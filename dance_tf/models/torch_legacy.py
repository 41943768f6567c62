"""Read a legacy (pre-zip) PyTorch ``state_dict`` file into numpy arrays, without torch.

``torch.save`` before PyTorch 1.6 (and ``_use_new_zipfile_serialization=False`` after)
writes, one after the other: three small pickles (a magic number, the protocol version
1001, a dict describing the writer's byte order and type sizes), the object itself pickled
with *persistent ids* ``('storage', StorageType, key, location, numel[, view])`` standing
for the raw storages, a pickled list of storage keys, and then per key, in that order, an
int64 little-endian element count and the storage's raw little-endian bytes. Tensors are
rebuilt by ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``.

A pickle can run any callable it names, so this reader unpickles through an allow-list:
``find_class`` accepts only ``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``
(replaced by a local function that records the view) and the storage types
``torch.FloatStorage`` / ``torch.LongStorage`` (used as dtype markers, never called). Any
other global is refused with :class:`RefusedGlobal` at the moment the pickle names it,
before any call it could make runs. Truncated or garbled files raise ``ValueError`` with
the file name.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
from dataclasses import dataclass

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

#: Storage types the reader understands, with their numpy dtype (little endian).
STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "LongStorage": np.dtype("<i8"),
}


class RefusedGlobal(pickle.UnpicklingError, ValueError):
    """The pickle asked for a class or function outside the allow-list (also a
    ``ValueError``, so callers that report bad files catch it)."""


@dataclass(frozen=True)
class _StorageType:
    """Marker standing for ``torch.<name>`` inside the pickle (never called)."""

    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class _Storage:
    """A persistent id: which raw storage (by key), its element type and length."""

    key: str
    kind: _StorageType
    numel: int


@dataclass(frozen=True)
class _TensorView:
    """What ``_rebuild_tensor_v2`` was asked to build: a strided view of a storage."""

    storage: _Storage
    offset: int
    size: tuple
    stride: tuple


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: record the view, build nothing."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError(
            f"_rebuild_tensor_v2 got {type(storage).__name__} instead of a storage")
    ints = (storage_offset, *size, *stride)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints):
        raise pickle.UnpicklingError(
            f"_rebuild_tensor_v2: offset/size/stride must be non-negative integers, got "
            f"{storage_offset!r}, {size!r}, {stride!r}")
    if len(size) != len(stride):
        raise pickle.UnpicklingError(f"_rebuild_tensor_v2: size {size} and stride {stride} "
                                     "differ in length")
    return _TensorView(storage, int(storage_offset), tuple(size), tuple(stride))


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch", "FloatStorage"): _StorageType("FloatStorage"),
    ("torch", "LongStorage"): _StorageType("LongStorage"),
}


class _AllowListUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals in ``_ALLOWED``."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            allowed = ", ".join(f"{m}.{n}" for m, n in _ALLOWED)
            raise RefusedGlobal(
                f"refused global {module}.{name}: a PyTorch state_dict needs only "
                f"{allowed}; nothing from this pickle was run") from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, kind, key, _location, numel = pid[:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(kind, _StorageType):
            raise pickle.UnpicklingError(f"persistent id names no storage type: {pid!r}")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"malformed storage id {pid!r}")
        if view is not None:
            raise pickle.UnpicklingError(f"storage views are not supported: {pid!r}")
        return _Storage(key, kind, numel)


def _load_one(handle, what: str):
    try:
        return _AllowListUnpickler(handle).load()
    except RefusedGlobal:
        raise
    except EOFError as err:
        raise pickle.UnpicklingError(f"file ends inside the {what}") from err


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
    except (pickle.UnpicklingError, ValueError, struct.error, KeyError, IndexError,
            TypeError, AttributeError, UnicodeDecodeError, OverflowError) as err:
        raise ValueError(f"{path}: not a readable legacy PyTorch file (truncated or "
                         f"corrupt?): {err}") from err


def _parse(handle: io.BytesIO, total: int) -> dict[str, np.ndarray]:
    if handle.getbuffer()[:2] == b"PK":
        raise ValueError("a zip-format PyTorch file (torch >= 1.6 default); only the legacy "
                         "format is supported")
    magic = _load_one(handle, "magic number")
    if magic != MAGIC_NUMBER:
        raise ValueError(f"magic number {magic!r} is not PyTorch's legacy {MAGIC_NUMBER:#x}")
    protocol = _load_one(handle, "protocol version")
    if protocol != PROTOCOL_VERSION:
        raise ValueError(f"protocol version {protocol!r}, expected {PROTOCOL_VERSION}")
    info = _load_one(handle, "system info")
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise ValueError(f"written on a big-endian machine or without system info: {info!r}")
    state = _load_one(handle, "state dict")
    if not isinstance(state, dict):
        raise ValueError(f"the pickled object is a {type(state).__name__}, not a state_dict")
    keys = _load_one(handle, "list of storage keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError("the storage key list is not a list of strings")

    storages = {}
    views = {name: v for name, v in state.items() if isinstance(v, _TensorView)}
    others = sorted(name for name, v in state.items() if not isinstance(v, _TensorView))
    if others:
        raise ValueError(f"entries that are not tensors: {others}")
    wanted = {v.storage.key: v.storage for v in views.values()}
    for key in keys:
        if key not in wanted:
            raise ValueError(f"storage {key!r} is listed but no tensor uses it")
        storage = wanted[key]
        head = handle.read(8)
        if len(head) < 8:
            raise ValueError(f"file ends before the size of storage {key!r}")
        (numel,) = struct.unpack("<q", head)
        if numel != storage.numel:
            raise ValueError(f"storage {key!r} holds {numel} elements, the pickle says "
                             f"{storage.numel}")
        nbytes = numel * storage.kind.dtype.itemsize
        raw = handle.read(nbytes)
        if len(raw) < nbytes:
            raise ValueError(f"file ends inside storage {key!r} ({len(raw)} of {nbytes} "
                             "bytes)")
        storages[key] = np.frombuffer(raw, dtype=storage.kind.dtype)
    missing = sorted(set(wanted) - set(keys))
    if missing:
        raise ValueError(f"storages used by tensors but absent from the file: {missing}")
    if handle.tell() != total:
        raise ValueError(f"{total - handle.tell()} unexpected bytes after the last storage")

    out = {}
    for name, view in views.items():
        buf = storages[view.storage.key]
        extent = view.offset + sum((s - 1) * st for s, st in zip(view.size, view.stride)) + 1
        if any(s == 0 for s in view.size):
            extent = 0
        if extent > buf.size or int(np.prod(view.size, dtype=np.int64)) > max(buf.size, 1):
            raise ValueError(f"tensor {name!r} (size {view.size}, stride {view.stride}, "
                             f"offset {view.offset}) reaches past its storage of {buf.size}")
        item = buf.itemsize
        arr = np.lib.stride_tricks.as_strided(
            buf[view.offset:], shape=view.size, strides=tuple(s * item for s in view.stride),
            writeable=False)
        out[name] = np.array(arr, dtype=buf.dtype.newbyteorder("="), order="C")
    return out


__all__ = ["read_state_dict", "RefusedGlobal", "STORAGE_DTYPES"]
