"""A pickle machine for what a legacy PyTorch ``state_dict`` holds, and nothing more.

``pickle.Unpickler`` with an allow-listed ``find_class`` still runs every opcode on the
objects it hands out: BUILD rewrote an allow-listed marker for the whole process, a few
hundred bytes of memo references made ``repr()`` of the result take seconds and gigabytes,
and 200,000 nested lists made it raise ``RecursionError`` (issue 24). This module reads the
opcodes with :func:`pickletools.genops` (which decodes, never executes) and runs only those
a ``torch.save`` of a state_dict writes, on fresh objects made for each load:

* globals resolve to per-load tokens: ``collections.OrderedDict`` and
  ``torch._utils._rebuild_tensor_v2`` (callable through REDUCE only) and the storage types
  ``torch.FloatStorage`` / ``torch.LongStorage`` (markers); any other name raises
  :class:`RefusedGlobal` when the pickle names it, before anything could run;
* APPEND / SETITEM(S) / BUILD change only a list / dict / OrderedDict this load made, before
  it is put into another object (a container is sealed once it is inside another one, so
  its nesting depth is known exactly and it can never contain itself); BUILD's state (the
  ``_metadata`` torch attaches) is checked and dropped; dict keys are strings or integers;
* at most :data:`MAX_DEPTH` nested containers, :data:`MAX_MEMO` memo entries (indices below
  it), :data:`MAX_STACK` stack items; messages show objects through a bounded ``repr``.

Every other opcode (INST, OBJ, NEWOBJ, EXT*, sets, buffers, text-mode opcodes, ...) is
refused. Errors are :class:`PickleError` (a ``ValueError``) or :class:`RefusedGlobal`.
"""

from __future__ import annotations

import collections
import pickle
import pickletools
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
_CALLABLES = (("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"))
_STORAGES = tuple(("torch", name) for name in STORAGE_DTYPES)


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
class _Global:
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
        self.globals = {key: _Global(*key) for key in _CALLABLES}
        self.globals.update({key: StorageType(key[1]) for key in _STORAGES})

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


def _fill(m: Machine, target, kind: type, children) -> None:
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


def _pairs(items: list) -> list:
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


def _storage(m: Machine, pid) -> Storage:
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


_BUILDERS = MappingProxyType({_CALLABLES[0]: _ordered_dict, _CALLABLES[1]: _rebuild_tensor_v2})


# ----------------------------------------------------------------------- opcodes
def _global(m: Machine, module, name):
    if type(module) is not str or type(name) is not str:
        raise PickleError("STACK_GLOBAL needs two strings")
    try:
        m.push(m.globals[(module, name)])
    except KeyError:
        allowed = ", ".join(f"{a}.{b}" for a, b in (*_CALLABLES, *_STORAGES))
        raise RefusedGlobal(f"refused global {show(module)[1:-1]}.{show(name)[1:-1]}: a "
                            f"PyTorch state_dict needs only {allowed}; nothing from this "
                            "pickle was run") from None


def _reduce(m: Machine, _arg) -> None:
    args = m.pop()
    func = m.pop()
    if type(args) is not tuple:
        raise PickleError(f"REDUCE arguments {show(args)} are not a tuple")
    if type(func) is not _Global or m.globals.get((func.module, func.name)) is not func:
        raise PickleError(f"REDUCE on {show(func)}, which is not a callable the reader allows")
    m.push(_BUILDERS[(func.module, func.name)](m, args))


def _build(m: Machine, _arg) -> None:
    state = m.pop()
    if type(state) is not dict:
        raise PickleError(f"BUILD state {show(state)} is not a dict")
    _fill(m, m.top(), collections.OrderedDict, [state])  # checked, then dropped


def _tuple(m: Machine, items) -> None:
    m.push(m.new(tuple(items), items))


def _memo_put(m: Machine, index: int) -> None:
    value = m.top()
    if not 0 <= index < MAX_MEMO or len(m.memo) >= MAX_MEMO:
        raise PickleError(f"memo index {index} outside [0, {MAX_MEMO})")
    m.memo[index] = value


def _memo_get(m: Machine, index: int) -> None:
    try:
        m.push(m.memo[index])
    except KeyError:
        raise PickleError(f"memo index {index} was never stored") from None


def _append(m: Machine, items) -> None:
    target = m.top()
    _fill(m, target, list, items)
    target.extend(items)


def _setitems(m: Machine, items) -> None:
    target = m.top()
    pairs = _pairs(items)
    _fill(m, target, type(target) if type(target) in (dict, collections.OrderedDict) else dict,
           [v for _, v in pairs])
    target.update(pairs)


def _pop(m: Machine, _arg) -> None:
    m.pop()


def _proto(m: Machine, arg: int) -> None:
    if not 2 <= arg <= MAX_PROTOCOL:
        raise PickleError(f"pickle protocol {arg} (expected 2 to {MAX_PROTOCOL})")


def _mark(m: Machine, _arg) -> None:
    if len(m.marks) >= MAX_DEPTH:
        raise PickleError(f"MARKs nested more than {MAX_DEPTH} deep")
    m.marks.append(len(m.stack))


def _pop_mark(m: Machine, _arg) -> None:
    m.pop_mark()


def _const(value):
    return lambda m, _arg: m.push(value)


def _with_arg(m: Machine, arg) -> None:
    m.push(arg)


def _items(n: int | None, action):
    """Handler calling ``action(m, items)`` on the top n values (n=None: down to MARK)."""
    def handler(m: Machine, _arg):
        if n is None:
            items = m.pop_mark()
        else:
            items = [m.pop() for _ in range(n)][::-1]
        action(m, items)
    return handler


OPS = MappingProxyType({
    "PROTO": _proto, "FRAME": lambda m, arg: None, "MARK": _mark, "POP": _pop,
    "POP_MARK": _pop_mark,
    "NONE": _const(None), "NEWTRUE": _const(True), "NEWFALSE": _const(False),
    **{name: _with_arg for name in ("BININT", "BININT1", "BININT2", "LONG1", "LONG4",
                                    "BINFLOAT", "BINUNICODE", "SHORT_BINUNICODE",
                                    "BINUNICODE8", "BINSTRING", "SHORT_BINSTRING",
                                    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8")},
    "EMPTY_TUPLE": _items(0, _tuple), "TUPLE1": _items(1, _tuple),
    "TUPLE2": _items(2, _tuple), "TUPLE3": _items(3, _tuple), "TUPLE": _items(None, _tuple),
    "EMPTY_LIST": lambda m, _arg: m.push(m.new([])),
    "LIST": _items(None, lambda m, items: m.push(m.new(list(items), items))),
    "APPEND": _items(1, _append), "APPENDS": _items(None, _append),
    "EMPTY_DICT": lambda m, _arg: m.push(m.new({})),
    "DICT": _items(None, lambda m, items: m.push(m.new(dict(_pairs(items)), items[1::2]))),
    "SETITEM": _items(2, _setitems), "SETITEMS": _items(None, _setitems),
    "BINPUT": _memo_put, "LONG_BINPUT": _memo_put,
    "MEMOIZE": lambda m, _arg: _memo_put(m, len(m.memo)),
    "BINGET": _memo_get, "LONG_BINGET": _memo_get,
    "GLOBAL": lambda m, arg: _global(m, *arg.split(" ", 1)),
    "STACK_GLOBAL": lambda m, _arg: _global(m, *[m.pop() for _ in range(2)][::-1]),
    "BINPERSID": lambda m, _arg: m.push(_storage(m, m.pop())),
    "REDUCE": _reduce,
    "BUILD": _build,
})


def load(handle, what: str):
    """Run one pickle from the binary ``handle`` (left just after its STOP) on a fresh
    :class:`Machine`; returns the object. ``what`` names the pickle in errors."""
    m = Machine()
    try:
        for opcode, arg, _pos in pickletools.genops(handle):
            if opcode.name == "STOP":
                if len(m.stack) != 1 or m.marks:
                    raise PickleError(f"the {what} ends with {len(m.stack)} values on the "
                                      f"stack and {len(m.marks)} open MARKs")
                return m.stack[0]
            op = OPS.get(opcode.name)
            if op is None:
                raise PickleError(f"opcode {opcode.name} is not used by PyTorch state_dicts; "
                                  "refused")
            op(m, arg)
    except (RefusedGlobal, PickleError):
        raise
    except ValueError as err:  # genops: truncated, unknown opcode, bad argument
        text = str(err)
        if "exhausted" in text or "expected" in text or "only" in text:
            raise PickleError(f"file ends inside the {what} ({text[:200]})") from err
        raise PickleError(f"the {what} is not a valid pickle ({text[:200]})") from err
    raise PickleError(f"file ends inside the {what}")
