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
refused. Errors are :class:`~dance_tf.models.torch_pickle_machine.PickleError` (a
``ValueError``) or :class:`~dance_tf.models.torch_pickle_machine.RefusedGlobal`. This module
holds the opcodes (:data:`OPS`) and :func:`load`; the state of a load, the allow-list and
the objects it makes are :mod:`dance_tf.models.torch_pickle_machine`.
"""

from __future__ import annotations

import collections
import pickletools
from types import MappingProxyType

from dance_tf.models.torch_pickle_machine import (
    BUILDERS,
    CALLABLES,
    MAX_DEPTH,
    MAX_MEMO,
    MAX_PROTOCOL,
    STORAGES,
    Global,
    Machine,
    PickleError,
    RefusedGlobal,
    dict_pairs,
    fill,
    persistent_storage,
    show,
)


def _global(m: Machine, module, name):
    if type(module) is not str or type(name) is not str:
        raise PickleError("STACK_GLOBAL needs two strings")
    try:
        m.push(m.globals[(module, name)])
    except KeyError:
        allowed = ", ".join(f"{a}.{b}" for a, b in (*CALLABLES, *STORAGES))
        raise RefusedGlobal(f"refused global {show(module)[1:-1]}.{show(name)[1:-1]}: a "
                            f"PyTorch state_dict needs only {allowed}; nothing from this "
                            "pickle was run") from None


def _reduce(m: Machine, _arg) -> None:
    args = m.pop()
    func = m.pop()
    if type(args) is not tuple:
        raise PickleError(f"REDUCE arguments {show(args)} are not a tuple")
    if type(func) is not Global or m.globals.get((func.module, func.name)) is not func:
        raise PickleError(f"REDUCE on {show(func)}, which is not a callable the reader allows")
    m.push(BUILDERS[(func.module, func.name)](m, args))


def _build(m: Machine, _arg) -> None:
    state = m.pop()
    if type(state) is not dict:
        raise PickleError(f"BUILD state {show(state)} is not a dict")
    fill(m, m.top(), collections.OrderedDict, [state])  # checked, then dropped


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
    fill(m, target, list, items)
    target.extend(items)


def _setitems(m: Machine, items) -> None:
    target = m.top()
    pairs = dict_pairs(items)
    fill(m, target, type(target) if type(target) in (dict, collections.OrderedDict) else dict,
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
    "DICT": _items(None, lambda m, items: m.push(m.new(dict(dict_pairs(items)), items[1::2]))),
    "SETITEM": _items(2, _setitems), "SETITEMS": _items(None, _setitems),
    "BINPUT": _memo_put, "LONG_BINPUT": _memo_put,
    "MEMOIZE": lambda m, _arg: _memo_put(m, len(m.memo)),
    "BINGET": _memo_get, "LONG_BINGET": _memo_get,
    "GLOBAL": lambda m, arg: _global(m, *arg.split(" ", 1)),
    "STACK_GLOBAL": lambda m, _arg: _global(m, *[m.pop() for _ in range(2)][::-1]),
    "BINPERSID": lambda m, _arg: m.push(persistent_storage(m, m.pop())),
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
