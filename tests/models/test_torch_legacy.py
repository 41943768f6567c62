"""The legacy PyTorch weight reader on hand-written files (issue 24): no shared state a file
can change, bounded memo / nesting / messages, one type per storage, and every malformed
file a ``ValueError`` naming it. The pickles are assembled opcode by opcode here (never by
torch), so each test states exactly which bytes the reader meets."""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest

from dance_tf.models.torch_legacy import RefusedGlobal, read_state_dict
from tests.conftest import time_limit

# ----------------------------------------------------------------------- a pickle assembler
PROTO2, STOP, MARK, TUPLE, REDUCE, BUILD = b"\x80\x02", b".", b"(", b"t", b"R", b"b"
EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE = b"}", b"]", b")"
SETITEM, SETITEMS, APPEND, LIST, POP = b"s", b"u", b"a", b"l", b"0"
NONE, FALSE, TRUE, BINPERSID = b"N", b"\x89", b"\x88", b"Q"


def uni(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def num(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def glob(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def put(index: int) -> bytes:
    return b"r" + struct.pack("<I", index)


def get(index: int) -> bytes:
    return b"j" + struct.pack("<I", index)


def pickle_of(*parts: bytes) -> bytes:
    return PROTO2 + b"".join(parts) + STOP


def header(info: bytes | None = None) -> bytes:
    """Magic number (LONG1), protocol 1001, and the system-info dict."""
    magic = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
    info = info if info is not None else pickle_of(
        EMPTY_DICT, MARK, uni("protocol_version"), num(1001), uni("little_endian"), TRUE,
        SETITEMS)
    return (pickle_of(b"\x8a" + bytes([len(magic)]) + magic) + pickle_of(num(1001)) + info)


def tensor(key: str, kind: str, numel: int, size: tuple, stride: tuple, offset=0) -> bytes:
    """``_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())``."""
    pid = MARK + uni("storage") + glob("torch", kind) + uni(key) + uni("cpu") + num(numel) \
        + TUPLE + BINPERSID
    ints = lambda values: MARK + b"".join(num(v) for v in values) + TUPLE  # noqa: E731
    hooks = glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
    return glob("torch._utils", "_rebuild_tensor_v2") + MARK + pid + num(offset) \
        + ints(size) + ints(stride) + FALSE + hooks + TUPLE + REDUCE


def state_pickle(entries: dict, prefix: bytes = b"", build: bytes = b"") -> bytes:
    """An OrderedDict of ``{name: tensor bytes}``, after ``prefix`` opcodes (left with
    nothing on the stack) and with ``build`` (a BUILD state) at the end."""
    body = glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + MARK
    body += b"".join(uni(name) + value for name, value in entries.items()) + SETITEMS
    return pickle_of(prefix + body + build)


def legacy_file(state: bytes, storages: dict) -> bytes:
    """Header, ``state``, the key list, then per key the count and the raw bytes."""
    keys = pickle_of(EMPTY_LIST, MARK, *[uni(k) for k in storages], b"e")
    raw = b"".join(struct.pack("<q", len(a)) + a.tobytes() for a in storages.values())
    return header() + state + keys + raw


FLOATS = np.array([1.5, -2.25, 3.0, 0.125, 7.0, -1.0], "<f4")


def good_file() -> bytes:
    """weight (2, 3) float32 and its transpose view, counter int64 (like a BN layer)."""
    return legacy_file(state_pickle({
        "weight": tensor("0", "FloatStorage", 6, (2, 3), (3, 1)),
        "weight_t": tensor("0", "FloatStorage", 6, (3, 2), (1, 3)),
        "count": tensor("1", "LongStorage", 1, (), ()),
    }), {"0": FLOATS, "1": np.array([41], "<i8")})


def check_good(tmp_path) -> None:
    path = tmp_path / "good.pth"
    path.write_bytes(good_file())
    got = read_state_dict(path)
    assert list(got) == ["weight", "weight_t", "count"]
    np.testing.assert_array_equal(got["weight"], FLOATS.reshape(2, 3))
    assert got["weight"].dtype == np.float32
    np.testing.assert_array_equal(got["weight_t"], FLOATS.reshape(2, 3).T)
    assert got["count"].dtype == np.int64 and got["count"].shape == () and got["count"] == 41


def test_a_hand_written_file_reads_as_written(tmp_path):
    check_good(tmp_path)


def refused(path, match: str = "", seconds: int = 120) -> str:
    """The ValueError of ``read_state_dict(path)``: starts with the path, short (the old
    reader built a 100 MB message from a memo DAG). ``seconds`` only guards against a
    hang (an alarm, not a speed check: speed lives in benchmarks/)."""
    with time_limit(seconds), pytest.raises(ValueError) as info:
        read_state_dict(path)
    text = str(info.value)
    assert text.startswith(f"{path}: "), text[:300]
    assert len(text) < 1000, f"{len(text)} characters"
    assert re.search(match, text), text
    return text


# ----------------------------------------------------------------------- shared state
POISONS = {
    # BUILD with a dict state writes straight into the marker's __dict__ (frozen or not)
    "marker": glob("torch", "FloatStorage") + EMPTY_DICT + uni("name") + uni("LongStorage")
    + SETITEM + BUILD + POP,
    # the stand-in function's __dict__
    "function": glob("torch._utils", "_rebuild_tensor_v2") + EMPTY_DICT + uni("x") + num(1)
    + SETITEM + BUILD + POP,
    # slot state: setattr on the class
    "class": glob("collections", "OrderedDict") + NONE + EMPTY_DICT + uni("y") + num(1)
    + SETITEM + b"\x86" + BUILD + POP,
    "setitem on a class": glob("collections", "OrderedDict") + uni("k") + num(1) + SETITEM
    + POP,
}


@pytest.mark.parametrize("kind", sorted(POISONS))
def test_a_file_cannot_change_the_reader_for_the_next_file(tmp_path, kind):
    path = tmp_path / "poison.pth"
    path.write_bytes(legacy_file(state_pickle(
        {"weight": tensor("0", "FloatStorage", 6, (2, 3), (3, 1))}, prefix=POISONS[kind]),
        {"0": FLOATS}))
    refused(path)
    check_good(tmp_path)  # a legitimate file read afterwards is still read right


def test_build_on_the_file_own_storage_or_view_is_refused(tmp_path):
    """BUILD may only set the state (``_metadata``) of an OrderedDict the file made."""
    view = tensor("0", "FloatStorage", 6, (2, 3), (3, 1))
    evil = view + EMPTY_DICT + uni("size") + MARK + num(6) + TUPLE + SETITEM + BUILD
    path = tmp_path / "view.pth"
    path.write_bytes(legacy_file(state_pickle({"weight": evil}), {"0": FLOATS}))
    refused(path, "OrderedDict")
    meta = EMPTY_DICT + uni("_metadata") + EMPTY_DICT + SETITEM + BUILD
    ok = tmp_path / "meta.pth"
    ok.write_bytes(legacy_file(state_pickle({"weight": view}, build=meta), {"0": FLOATS}))
    np.testing.assert_array_equal(read_state_dict(ok)["weight"], FLOATS.reshape(2, 3))


# ----------------------------------------------------------------------- bounds
def _dag(levels: int) -> bytes:
    """A list of two references to a list of two references to ... : a few bytes per level,
    2**levels leaves when printed."""
    out = EMPTY_LIST + put(0)
    for i in range(1, levels + 1):
        out += MARK + get(i - 1) + get(i - 1) + LIST + put(i)
    return pickle_of(out)


def test_memo_references_do_not_blow_up_the_message(tmp_path):
    path = tmp_path / "dag.pth"
    path.write_bytes(header(info=_dag(24)))   # 2**24 leaves in a plain repr()
    refused(path, "system info")
    big = tmp_path / "dag40.pth"
    big.write_bytes(header(info=_dag(40)))    # 2**40: would never finish
    refused(big, "system info")
    # the same inside an OrderedDict that an error message shows
    dag = _dag(40)[2:-1]                                   # without PROTO and STOP
    od = glob("collections", "OrderedDict") + MARK + MARK + MARK + uni("k") + get(40) \
        + TUPLE + LIST + TUPLE + REDUCE
    shown = tmp_path / "od.pth"
    shown.write_bytes(header(info=pickle_of(dag + POP + od + num(1) + APPEND)))
    refused(shown, "cannot add items to OrderedDict")


@pytest.mark.parametrize("how", ["memo chain", "marks", "stack"])
def test_200000_nested_lists_are_a_value_error(tmp_path, how):
    n = 200_000
    if how == "memo chain":
        body = EMPTY_LIST + put(0) + b"".join(EMPTY_LIST + get(i - 1) + APPEND + put(i)
                                             for i in range(1, n))
    elif how == "marks":
        body = MARK * n + LIST * n
    else:
        body = EMPTY_LIST * n + APPEND * (n - 1)
    path = tmp_path / "deep.pth"
    path.write_bytes(header(info=pickle_of(body)))
    refused(path, "values on the pickle stack" if how == "stack" else "nested more than 64 deep")


def test_memo_index_and_message_length_are_bounded(tmp_path):
    path = tmp_path / "memo.pth"
    path.write_bytes(header(info=pickle_of(EMPTY_DICT + put(1 << 20))))
    refused(path, "memo index")
    huge = "s" * 1_000_000
    path = tmp_path / "long.pth"
    pid = MARK + uni(huge) + num(1) + num(2) + num(3) + num(4) + TUPLE + BINPERSID
    path.write_bytes(legacy_file(state_pickle({}, prefix=pid + POP), {}))
    refused(path, "persistent id")


# ----------------------------------------------------------------------- storages
def test_a_storage_declared_with_two_types_is_refused(tmp_path):
    path = tmp_path / "two.pth"
    path.write_bytes(legacy_file(state_pickle({
        "weight": tensor("0", "FloatStorage", 2, (2,), (1,)),
        "index": tensor("0", "LongStorage", 2, (2,), (1,)),
    }), {"0": np.array([1.0, 2.0, 3.0, 4.0], "<f4")}))
    refused(path, "storage '0' is declared as FloatStorage")  # names the key


def test_every_damaged_copy_is_a_value_error_naming_the_file(tmp_path):
    """300 truncations and byte changes of a good file: each reads or raises ValueError."""
    data = good_file()
    rng = np.random.default_rng(24)
    path = tmp_path / "damaged.pth"
    outcomes = {"read": 0, "refused": 0}
    for trial in range(300):
        raw = bytearray(data)
        if trial % 3 == 0:
            raw = raw[:int(rng.integers(0, len(raw)))]
        else:
            for _ in range(int(rng.integers(1, 4))):
                raw[int(rng.integers(0, len(raw)))] = int(rng.integers(0, 256))
        path.write_bytes(bytes(raw))
        try:
            read_state_dict(path)
            outcomes["read"] += 1
        except ValueError as err:
            assert str(err).startswith(f"{path}: ") and len(str(err)) < 1000, str(err)[:300]
            outcomes["refused"] += 1
    assert outcomes["refused"] > 150, outcomes


def test_a_refused_global_is_still_named(tmp_path):
    path = tmp_path / "evil.pth"
    path.write_bytes(header() + pickle_of(glob("os", "system") + uni("true") + b"\x85"
                                          + REDUCE))
    with pytest.raises(RefusedGlobal, match=r"evil.pth: refused global os\.system"):
        read_state_dict(path)
