"""The results files: one JSON object per finished row (input × method × variant),
appended, flushed and fsynced, so that a kill loses at most the row in flight."""

from __future__ import annotations

import json
import os
from pathlib import Path

#: fields every results row must have, with their types
KEY_FIELDS = {"task": str, "id": str, "method": str, "variant": str, "sf": dict}
#: files of a results folder that their own format checks (rows, configuration; the
#: reproduction study's packed rows, sittings and example maps): not in the manifest
MANAGED = ("config.json", "results*.jsonl", "results.jsonl.gz", "runs.jsonl",
           "examples.npz", ".config.json.*.tmp", ".results.jsonl.gz.*.tmp")
#: what an evaluation writes through the manifest (dance_tf.output_folder.OutputFolder); an older
#: dance_tf wrote them without one, so they are adopted in a folder with a config.json
#: and no manifest yet
OUTPUTS = ("report.md", "fidelity_k*.png", "sensitivity.png", "examples/*", "maps/*")


class EvaluationError(ValueError):
    """An output folder or results file that cannot be used as asked (the message says
    which file, line or setting, and what to do)."""


def regular_or_absent(path: Path, what: str) -> bool:
    """True if ``path`` is a regular file, False if absent; EvaluationError for anything
    else (dance_tf.single_file.regular_or_absent: a FIFO would hang the reader, /dev/full would
    be read without end)."""
    from dance_tf.errors import OutputError
    from dance_tf.single_file import regular_or_absent as check

    try:
        return check(path, what)
    except OutputError as err:
        raise EvaluationError(f"{err}; remove it or choose another --out") from None


def output_folder(out: Path, force: bool = False):
    """The output folder ``out`` of an evaluation (dance_tf.output_folder.OutputFolder): refused
    when it holds files dance-tf did not write, unless ``force`` (a file of an output's
    name that dance-tf did not write, or a link, is refused even then)."""
    from dance_tf.output_folder import OutputFolder

    out = Path(out)
    return OutputFolder(out, force=force, managed=MANAGED, legacy=OUTPUTS,
                        adopt_legacy=(out / "config.json").is_file())


def row_key(row: dict) -> tuple:
    """What identifies a row within one folder: (input id, method, variant)."""
    return (row["id"], row["method"], row["variant"])


def row_problem(row) -> str | None:
    """Why ``row`` is not a results row (a missing or mistyped key field), or None."""
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    missing = [name for name in KEY_FIELDS if name not in row]
    if missing:
        return (f"missing field(s) {', '.join(map(repr, missing))} (a results row needs "
                f"{', '.join(KEY_FIELDS)})")
    for name, kind in KEY_FIELDS.items():
        if not isinstance(row[name], kind):
            return f"field {name!r} is {type(row[name]).__name__}, expected {kind.__name__}"
    return None


def read_rows(paths, check=None, key=row_key, problem=row_problem) -> list[dict]:
    """All complete rows of the given files; a later row of the same key replaces an
    earlier one (a row recomputed for a new K). ``check(row, where)`` may refuse a row;
    ``key(row)`` and ``problem(row)`` say what identifies a row and why a line is not one
    (defaults: the rows of ``evaluate``; ``evaluate_model`` passes its own).

    A partial last line (a kill during a write) is ignored; any other line that is not a
    results row is an EvaluationError naming the file and line.
    """
    rows: dict[tuple, dict] = {}
    for path in paths:
        path = Path(path)
        if not regular_or_absent(path, "results file"):
            continue
        with open(path, encoding="utf-8", errors="strict") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.endswith("\n"):
                    break
                row = _parse_line(line, f"{path}: line {number}", check, problem)
                rows[key(row)] = row
    return list(rows.values())


def _parse_line(line: str, where: str, check, problem=row_problem) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise EvaluationError(f"{where}: not a JSON results row ({err.msg}); the file was "
                              "edited or written by something else - remove the line or "
                              "use another --out") from None
    why = problem(row)
    if why:
        raise EvaluationError(f"{where}: {why}; remove the line or use another --out")
    if check is not None:
        check(row, where)
    return row


class ResultsFile:
    """Append-only JSON-lines file of finished rows, safe against a kill at any moment."""

    def __init__(self, path: Path, check=None, key=row_key, problem=row_problem):
        self.path, self.key = path, key
        path.parent.mkdir(parents=True, exist_ok=True)
        regular_or_absent(path, "results file")
        if path.is_symlink():
            raise EvaluationError(f"{path}: the results file is a symbolic link; dance-tf "
                                  "never writes through a link - use another --out")
        self._repair()
        self.done = {key(r): r for r in read_rows([path], check, key, problem)}
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT
                     | getattr(os, "O_NOFOLLOW", 0), 0o644)
        self._handle = open(fd, "a", encoding="utf-8")  # noqa: SIM115 - kept open

    def _repair(self) -> None:
        """Drop a partial last line left by a kill during a write."""
        if not self.path.exists():
            return
        size = self.path.stat().st_size
        if size == 0:
            return
        with open(self.path, "r+b") as handle:
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            data = self.path.read_bytes()
            handle.truncate(data.rfind(b"\n") + 1)

    def write(self, row: dict) -> None:
        """Append ``row`` (flushed and fsynced) and record it as done."""
        self._handle.write(json.dumps(row, sort_keys=True) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.done[self.key(row)] = row

    def close(self) -> None:
        self._handle.close()
