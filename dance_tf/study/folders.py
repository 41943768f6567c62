"""The files of one condition folder of the reproduction study.

``results.jsonl``: the working rows (git-ignored), where the evaluation streams them;
``results.jsonl.gz``: the packed rows (committed), from which a fresh checkout resumes;
``runs.jsonl``: one line per sitting (start, wall time, rows before and after, status).
:func:`working_state` says which of the two rows files is current, :func:`unpack` /
:func:`pack` copy one onto the other without ever dropping a row, :func:`load_rows` reads
the current rows checked like the evaluation's.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import time
from pathlib import Path

from dance_tf import single_file
from dance_tf.evaluation.results import EvaluationError, read_rows, regular_or_absent
from dance_tf.evaluation.run_config import config_digest, read_config, row_checker


def rows_path(folder: Path) -> Path:
    return Path(folder) / "results.jsonl"


def packed_path(folder: Path) -> Path:
    return Path(folder) / "results.jsonl.gz"


def _read_packed(folder: Path) -> bytes:
    """The packed rows' text (b"" when absent); a packed file that is not a regular file
    is refused (a FIFO would block, a device be read without end)."""
    path = packed_path(folder)
    if not regular_or_absent(path, "packed results file"):
        return b""
    with gzip.open(path, "rb") as handle:
        return handle.read()


def _keys(data: bytes, where: Path) -> dict:
    """{row key: the row's line} of complete JSON-lines rows (no configuration check)."""
    out = {}
    for number, line in enumerate(data.split(b"\n")[:-1], start=1):
        try:
            row = json.loads(line)
            out[(row["id"], row["method"], row["variant"])] = line
        except (ValueError, KeyError, TypeError):
            raise EvaluationError(f"{where}: line {number} is not a results row") from None
    return out


def working_state(folder: Path) -> str:
    """Which rows of a condition folder are current: ``none``, ``working`` (the
    git-ignored ``results.jsonl`` holds every packed row, maybe more), ``packed``
    (``results.jsonl.gz`` holds every working row and more: the working file is stale).
    EvaluationError when each holds rows the other lacks (the message names both)."""
    plain = rows_path(folder)
    has_plain = regular_or_absent(plain, "results file")
    packed = _keys(_read_packed(folder), packed_path(folder))
    if not has_plain:
        return "packed" if packed else "none"
    working = _keys(plain.read_bytes(), plain)
    if set(packed) <= set(working):
        return "working"
    if set(working) < set(packed) and all(packed[k] == v for k, v in working.items()):
        return "packed"
    raise EvaluationError(
        f"{folder}: {plain.name} ({len(working)} rows) and {packed_path(folder).name} "
        f"({len(packed)} rows) each hold rows the other lacks; keep the one you want "
        "(move the other away) and run again")


def unpack(folder: Path, log=print) -> None:
    """Restore the working rows from the packed ones when they are absent or stale (a
    fresh checkout, or an old git-ignored ``results.jsonl`` beside newer packed rows)."""
    if working_state(folder) != "packed":
        return
    if rows_path(folder).exists():
        log(f"{rows_path(folder)}: older than {packed_path(folder).name} (fewer rows); "
            "replaced by the packed rows")
    single_file.write_bytes(rows_path(folder), _read_packed(folder))


def pack(folder: Path) -> None:
    """Write the working rows to ``results.jsonl.gz`` (complete lines only; atomic). Never
    drops a row: EvaluationError if the packed file holds a row the working one lacks."""
    plain = rows_path(folder)
    if not regular_or_absent(plain, "results file"):
        return
    data = plain.read_bytes()
    data = data[: data.rfind(b"\n") + 1]
    lost = set(_keys(_read_packed(folder), packed_path(folder))) - set(_keys(data, plain))
    if lost:
        raise EvaluationError(f"{packed_path(folder)}: holds {len(lost)} rows that "
                              f"{plain.name} lacks; not packed (it would lose them)")
    single_file.write_bytes(packed_path(folder), gzip.compress(data, mtime=0))


def load_rows(folder: Path, log=print) -> tuple[dict | None, list[dict]]:
    """(config, rows) of a condition folder: the current rows (the working file unless
    the packed one holds more, see :func:`working_state`), checked like the evaluation's
    (task, configuration digest, key fields)."""
    folder = Path(folder)
    cfg = read_config(folder) if folder.is_dir() else None
    if cfg is None:
        return None, []
    check = row_checker(cfg, config_digest(cfg))
    state = working_state(folder)
    if state == "working":
        return cfg, read_rows([rows_path(folder)], check)
    if state == "none":
        return cfg, []
    if rows_path(folder).exists():
        log(f"{rows_path(folder)}: older than {packed_path(folder).name} (fewer rows); "
            "reporting the packed rows")
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "results.jsonl"
        plain.write_bytes(_read_packed(folder))
        rows = read_rows([plain], check)
    return cfg, rows


def read_jsonl(path: Path) -> list[dict]:
    """The JSON lines of ``path`` (blank lines skipped); [] when it is not a file."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def read_runs(folder: Path) -> list[dict]:
    return read_jsonl(Path(folder) / "runs.jsonl")


def log_run(folder: Path, start: float, rows_before: int, rows_after: int,
            status: str) -> None:
    """Append one sitting to ``runs.jsonl``: its start (``time.time()`` then), wall time
    until now, rows before and after, and ``status`` (``complete``, ``interrupted``)."""
    append_line(Path(folder) / "runs.jsonl", json.dumps({
        "start": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)),
        "wall_seconds": round(time.time() - start, 1), "rows_before": rows_before,
        "rows_after": rows_after, "status": status}))


def append_line(path: Path, line: str) -> None:
    """Append one line to ``path`` (created if absent, never through a link)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0),
                 0o644)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")

