"""The state of one load of :mod:`dance_tf.models.torch_pickle`, and everything it may make.

* the allow-list: :data:`CALLABLES` (``collections.OrderedDict``,
  ``torch._utils._rebuild_tensor_v2``, callable through REDUCE only, by :data:`BUILDERS`)
  and :data:`STORAGES` (``torch.FloatStorage`` / ``torch.LongStorage``, markers);
* the values a state_dict pickle yields besides plain ones: :class:`Storage` (a
  persistent id), :class:`TensorView` (what ``_rebuild_tensor_v2`` was asked to build);
* :class:`Machine`: stack, marks, memo, and the depth and seal of every container the load
  made; :func:`fill` is the one way a container gets items;
* the errors (:class:`PickleError`, :class:`RefusedGlobal`) and :func:`show`, a ``repr``
  bounded in time and length for their messages.
"""

from __future__ import annotations

import collections
import pickle
import reprlib
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

MAX_DEPTH = 64
MAX_MEMO = 1 << 20
MAX_STACK = 1 << 16  # Python's pickler batches APPENDS / SETITEMS by 1000
MAX_PROTOCOL = 5

#: Storage types the reader understands, with their numpy dtype (little endian).
STORAGE_DTYPES = MappingProxyType({
    "FloatStorage": np.dtype("<f4"),
    "LongStorage": np.dtype("<i8"),
})
CALLABLES = (("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"))
STORAGES = tuple(("torch", name) for name in STORAGE_DTYPES)


class PickleError(ValueError):
    """The pickle is malformed, or uses an opcode or object a state_dict never needs."""


class RefusedGlobal(pickle.UnpicklingError, ValueError):
    """The pickle asked for a class or function outside the allow-list (also a
    ``ValueError``, so callers that report bad files catch it)."""


@dataclass(frozen=True)
class StorageType:
    """Marker standing for ``torch.<name>`` inside the pickle (never called)."""

    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class Storage:
    """A persistent id: which raw storage (by key), its element type and length."""

    key: str
    kind: StorageType
    numel: int


@dataclass(frozen=True)
class TensorView:
    """What ``_rebuild_tensor_v2`` was asked to build: a strided view of a storage."""

    storage: Storage
    offset: int
    size: tuple
    stride: tuple


@dataclass(frozen=True)
class Global:
    """A per-load token for an allow-listed callable (``module.name``)."""

    module: str
    name: str


class _Bounded(reprlib.Repr):
    """reprlib falls back to the built-in ``repr`` for types it does not know; an
    OrderedDict full of shared references must not get there."""

    def repr_OrderedDict(self, x, level):  # noqa: N802 -- reprlib's naming scheme
        return "OrderedDict(" + self.repr_dict(dict(x), level) + ")"


_SHOW = _Bounded()
_SHOW.maxlevel, _SHOW.maxstring, _SHOW.maxother, _SHOW.maxlong = 3, 60, 60, 40
for _field in ("maxtuple", "maxlist", "maxdict", "maxset", "maxfrozenset", "maxdeque",
               "maxarray"):
    setattr(_SHOW, _field, 6)


def show(value) -> str:
    """``repr(value)`` bounded in time and length (≤ ~200 characters)."""
    text = _SHOW.repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


class _Meta:
    __slots__ = ("depth", "sealed")

    def __init__(self, depth: int):
        self.depth, self.sealed = depth, False


class Machine:
    """State of one load: stack, marks, memo, and the depth / sealed flag of every
    container it made (kept alive in ``made`` so their ids stay unique)."""

    def __init__(self):
        self.stack: list = []
        self.marks: list[int] = []
        self.memo: dict[int, object] = {}
        self.meta: dict[int, _Meta] = {}
        self.made: list = []
        self.globals = {key: Global(*key) for key in CALLABLES}
        self.globals.update({key: StorageType(key[1]) for key in STORAGES})

    def push(self, value) -> None:
        if len(self.stack) >= MAX_STACK:
            raise PickleError(f"more than {MAX_STACK} values on the pickle stack")
        self.stack.append(value)

    def pop(self):
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise PickleError("pickle stack underflow")
        return self.stack.pop()

    def top(self):
        """The value on top (after any open MARK, as pickle sees it)."""
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise PickleError("pickle stack underflow")
        return self.stack[-1]

    def pop_mark(self) -> list:
        if not self.marks:
            raise PickleError("no MARK before an opcode that needs one")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def depth(self, value) -> int:
        meta = self.meta.get(id(value))
        return meta.depth if meta is not None else 0

    def deepen(self, children, base: int) -> int:
        depth = max([base] + [self.depth(c) + 1 for c in children])
        if depth > MAX_DEPTH:
            raise PickleError(f"objects nested more than {MAX_DEPTH} deep")
        for child in children:
            meta = self.meta.get(id(child))
            if meta is not None:
                meta.sealed = True
        return depth

    def new(self, value, children=()):
        """Register a new container (or view) holding ``children``; returns it."""
        self.meta[id(value)] = _Meta(self.deepen(children, 1) if children else 1)
        self.made.append(value)
        return value


def fill(m: Machine, target, kind: type, children) -> None:
    """Check that ``children`` may go into ``target`` (a ``kind`` this load made and that
    is in no other object yet), then record its new depth."""
    meta = m.meta.get(id(target))
    if type(target) is not kind or meta is None:
        raise PickleError(f"cannot add items to {show(target)} (expected a {kind.__name__} "
                          "made by this pickle)")
    if meta.sealed:
        raise PickleError(f"a {kind.__name__} is changed after being put into another object")
    if any(child is target for child in children):
        raise PickleError(f"a {kind.__name__} is put into itself")
    meta.depth = m.deepen(children, meta.depth)


def _key(value):
    if type(value) not in (str, int, bool):
        raise PickleError(f"dictionary key {show(value)} is not a string or an integer")
    return value


def dict_pairs(items: list) -> list:
    if len(items) % 2:
        raise PickleError("odd number of items for a dictionary")
    return [(_key(items[i]), items[i + 1]) for i in range(0, len(items), 2)]


# ----------------------------------------------------------------------- torch's objects
def _count(value, what: str) -> int:
    if type(value) is not int or not 0 <= value < 1 << 62:
        raise PickleError(f"{what} must be an integer in [0, 2**62), got {show(value)}")
    return value


def _rebuild_tensor_v2(m: Machine, args: tuple) -> TensorView:
    """Stand-in for ``torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
    requires_grad=False, backward_hooks=None, metadata=None)``: record the view."""
    if not 4 <= len(args) <= 7:
        raise PickleError(f"_rebuild_tensor_v2 takes 4 to 7 arguments, got {len(args)}")
    storage, offset, size, stride = args[:4]
    if type(storage) is not Storage:
        raise PickleError(f"_rebuild_tensor_v2 got {show(storage)} instead of a storage")
    if type(size) is not tuple or type(stride) is not tuple or len(size) != len(stride):
        raise PickleError(f"_rebuild_tensor_v2: size {show(size)} and stride {show(stride)} "
                          "must be tuples of one length")
    for value in (offset, *size, *stride):
        _count(value, "_rebuild_tensor_v2: offset, size and stride")
    return m.new(TensorView(storage, offset, size, stride), (args,))


def _ordered_dict(m: Machine, args: tuple) -> collections.OrderedDict:
    """``collections.OrderedDict()`` or ``OrderedDict(pairs)`` with string/integer keys."""
    if not args:
        return m.new(collections.OrderedDict())
    if len(args) != 1 or type(args[0]) not in (list, tuple):
        raise PickleError(f"OrderedDict{show(args)}: expected no argument or a list of pairs")
    pairs = []
    for pair in args[0]:
        if type(pair) not in (list, tuple) or len(pair) != 2:
            raise PickleError(f"OrderedDict: {show(pair)} is not a (key, value) pair")
        pairs.append((_key(pair[0]), pair[1]))
    return m.new(collections.OrderedDict(pairs), [v for _, v in pairs])


def persistent_storage(m: Machine, pid) -> Storage:
    """Persistent id ``('storage', StorageType, key, location, numel)`` → :class:`Storage`."""
    if type(pid) is not tuple or len(pid) not in (5, 6) or pid[0] != "storage":
        raise PickleError(f"unexpected persistent id {show(pid)}")
    _, kind, key, _location, numel = pid[:5]
    if type(kind) is not StorageType:
        raise PickleError(f"persistent id names no storage type: {show(pid)}")
    if type(key) is not str:
        raise PickleError(f"malformed storage id {show(pid)}")
    _count(numel, "a storage's element count")
    if len(pid) == 6 and pid[5] is not None:
        raise PickleError(f"storage views are not supported: {show(pid)}")
    return Storage(key, kind, numel)


BUILDERS = MappingProxyType({CALLABLES[0]: _ordered_dict, CALLABLES[1]: _rebuild_tensor_v2})
