"""Run a jupytext percent-format script cell by cell and render it as Markdown with outputs.

The tutorials (``docs/tutorials/*.py``) are plain Python files that jupytext opens as
notebooks (``# %%`` starts a code cell, ``# %% [markdown]`` a Markdown cell whose lines are
``# ``-commented). The docs build runs each in a fresh Python process (``run``), one shared
namespace for all cells like a notebook kernel, capturing per code cell what it prints, the
value of a last bare expression and every matplotlib figure left open; ``render`` writes
the page. No Jupyter kernel is needed (no ipykernel / zmq), and TensorFlow is imported once
per tutorial.

    python docs/hooks/tutorial_runner.py SCRIPT OUT.json    # what ``run`` calls
"""

from __future__ import annotations

import ast
import base64
import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "# %%"
#: the environment variable the tutorials read for their small (test) settings
SMALL_ENV = "DANCE_TF_TUTORIAL_SMALL"
#: a folder to keep executed tutorials in (keyed by script digest and settings)
CACHE_ENV = "DANCE_TF_DOCS_CACHE"
TIMEOUT_S = 900


class TutorialError(RuntimeError):
    """A tutorial cell raised: the message names the script, the cell and the traceback."""


@dataclass
class Cell:
    """One notebook cell: ``kind`` is ``markdown`` or ``code``; outputs for code cells."""

    kind: str
    source: str
    output: str = ""
    images: list[str] = field(default_factory=list)   # base64 PNG


def parse(text: str) -> list[Cell]:
    """The cells of a percent-format script, in order (blank cells dropped).

    ``# %% [markdown]`` starts a Markdown cell (each line's leading ``# `` or ``#``
    removed); any other ``# %%`` line starts a code cell; lines before the first marker
    form a code cell unless blank.
    """
    cells: list[Cell] = []
    kind, lines = "code", []

    def close():
        body = "\n".join(lines).strip("\n")
        if body.strip():
            cells.append(Cell(kind, body))

    for line in text.splitlines():
        if line.startswith(MARKER):
            close()
            kind = "markdown" if "[markdown]" in line[len(MARKER):] else "code"
            lines = []
        elif kind == "markdown":
            lines.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        else:
            lines.append(line)
    close()
    return cells


# --------------------------------------------------------------------------- the child
def _figures() -> list[str]:
    """Every open matplotlib figure as base64 PNG (then closed)."""
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import matplotlib.pyplot as plt

    out = []
    for num in plt.get_fignums():
        buf = io.BytesIO()
        plt.figure(num).savefig(buf, format="png", dpi=80, bbox_inches="tight")
        out.append(base64.b64encode(buf.getvalue()).decode("ascii"))
    plt.close("all")
    return out


def _exec_cell(source: str, namespace: dict, name: str) -> None:
    """Run one cell; a last bare expression's repr is printed, as a notebook shows it
    (unless the cell ends with ``;``)."""
    tree = ast.parse(source, filename=name)
    last = None
    quiet = source.rstrip().endswith(";")
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not quiet:
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, name, "exec"), namespace)
    if last is not None:
        value = eval(compile(last, name, "eval"), namespace)
        if value is not None:
            print(repr(value))


def execute_here(script: Path) -> list[Cell]:
    """Run ``script``'s cells in this process (used by the child process only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.show = lambda *a, **k: None
    cells = parse(script.read_text(encoding="utf-8"))
    namespace = {"__name__": "__main__", "__file__": str(script)}
    for i, cell in enumerate(cells):
        if cell.kind != "code":
            continue
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                _exec_cell(cell.source, namespace, f"<{script.name} cell {i}>")
        except BaseException:
            raise TutorialError(f"{script.name}: cell {i} failed\n{cell.source}\n"
                                f"{buf.getvalue()}\n{traceback.format_exc()}") from None
        cell.output = buf.getvalue()
        cell.images = _figures()
    return cells


def _child_main(argv: list[str]) -> int:
    script, out = Path(argv[0]), Path(argv[1])
    try:
        cells = execute_here(script)
    except TutorialError as err:
        sys.__stderr__.write(str(err))
        return 1
    out.write_text(json.dumps([c.__dict__ for c in cells]), encoding="utf-8")
    return 0


# --------------------------------------------------------------------------- the parent
def digest(script: Path) -> str:
    """Cache key: the script's bytes and whether the small settings are on."""
    h = hashlib.sha256(script.read_bytes())
    h.update(f"|{SMALL_ENV}={os.environ.get(SMALL_ENV, '')}".encode())
    return h.hexdigest()[:16]


def run(script: Path, root: Path | None = None, timeout: float = TIMEOUT_S) -> list[Cell]:
    """Execute ``script`` in a fresh Python process (cwd: a temporary folder; ``root``
    first on PYTHONPATH) and return its cells with outputs. Reuses ``$DANCE_TF_DOCS_CACHE``
    when set. Raises ``TutorialError`` when a cell fails or the run times out."""
    script = Path(script).resolve()
    cache = os.environ.get(CACHE_ENV)
    cached = Path(cache) / f"{script.stem}-{digest(script)}.json" if cache else None
    if cached is not None and cached.is_file():
        return [Cell(**c) for c in json.loads(cached.read_text(encoding="utf-8"))]
    env = dict(os.environ)
    if root is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH"))
                                            if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="dance-tutorial-") as tmp:
        out = Path(tmp) / "cells.json"
        try:
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), str(script),
                                   str(out)], cwd=tmp, env=env, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TutorialError(f"{script.name}: did not finish in {timeout:.0f} s") from None
        if proc.returncode != 0 or not out.is_file():
            raise TutorialError(proc.stderr[-6000:] or f"{script.name}: exit "
                                f"{proc.returncode}")
        text = out.read_text(encoding="utf-8")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(text, encoding="utf-8")
    return [Cell(**c) for c in json.loads(text)]


def render(cells: list[Cell], stem: str, max_lines: int = 60) -> tuple[str, dict[str, bytes]]:
    """(Markdown page, {image file name: PNG bytes}) of executed cells; long outputs are
    cut to their first ``max_lines`` lines."""
    parts, images = [], {}
    for i, cell in enumerate(cells):
        if cell.kind == "markdown":
            parts.append(cell.source)
            continue
        parts.append(f"```python\n{cell.source}\n```")
        out = cell.output.rstrip("\n")
        if out:
            lines = out.splitlines()
            if len(lines) > max_lines:
                lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
            parts.append("```text\n" + "\n".join(lines) + "\n```")
        for j, png in enumerate(cell.images):
            name = f"{stem}_{i}_{j}.png"
            images[name] = base64.b64decode(png)
            parts.append(f"![output of cell {i}]({name})")
    return "\n\n".join(parts) + "\n", images


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
