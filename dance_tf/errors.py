"""The errors dance_tf raises on purpose, so callers can test types instead of message text.

Every one is a ``ValueError`` (code written against the earlier plain ``ValueError`` keeps
working). ``DanceError`` is the family; the subclasses say where the problem is.
"""

from __future__ import annotations


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
