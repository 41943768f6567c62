"""The errors dance_tf raises on purpose, so callers can test types instead of message text.

Every one is a ``ValueError`` (code written against the earlier plain ``ValueError`` keeps
working). ``DanceError`` is the family; the subclasses say where the problem is.
"""

from __future__ import annotations

import re


class DanceError(ValueError):
    """A request dance_tf refuses: the message names the argument and what was expected."""


class InputError(DanceError):
    """An input or a number given by the caller is invalid (shape, dtype, NaN, range)."""


class LayerError(DanceError):
    """Layer ℓ cannot be found or used (unknown name, shared layer, no gradient path)."""


class BudgetError(DanceError):
    """The memory budget cannot hold even the smallest batch of decoys."""


class ExportError(DanceError):
    """A SavedModel export or reload cannot be done as asked."""


class OutputError(DanceError):
    """An output file or folder dance_tf will not write (a file it did not write, a
    symbolic link, a special file); nothing was changed on disk."""


#: ANSI colour / cursor escapes (Keras colours its messages on a terminal)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: lines of a TensorFlow / Keras message that locate an error instead of stating it
_TRACE_LINES = ("File ", "Detected at node", "[[", "Graph execution error",
                "in user code", "Traceback", "Exception encountered when calling",
                "Arguments received by", "•")


def one_line(message) -> str:
    """The statement of an error message as one line: ANSI escapes, TensorFlow's graph
    locations ({{function_node ...}}, [[{{node ...}}]], [Op:...]) and traceback lines
    removed; from autograph's "in user code:" messages, the original error's line."""
    text = _ANSI.sub("", str(message))
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", text)
    text = re.sub(r"\s*\[\[\{\{node [^]]*\]\]", "", text)
    text = re.sub(r"\s*\[Op:[^]]*\]", "", text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:   # an in-graph check of ours (assert_all_finite): its own sentence
        if "non-finite" in ln:
            return ln.split(" : ")[0]
    if "in user code:" in text and lines:   # the original error is the last line
        return re.sub(r"^[A-Za-z_.]*(Error|Exception): ", "", lines[-1])
    said = [ln for ln in lines if not ln.startswith(_TRACE_LINES)]
    return (said or lines or [type(message).__name__])[0]
