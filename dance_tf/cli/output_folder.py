"""The explain command's output folder: :class:`OutputFolder` (``dance_tf.output_folder``' folder,
whose refusals become CLIError; files staged, then moved into place together) and
:func:`out_folder` (``--out`` or ``outputs/explain/<stem>/``, checked before any work)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from dance_tf import output_folder as folders
from dance_tf.cli.console import CLIError
from dance_tf.errors import OutputError


class OutputFolder(folders.OutputFolder):
    """The explain command's output folder (:class:`dance_tf.output_folder.OutputFolder`, whose
    refusals become CLIError): :meth:`claim` gives staging paths to write, :meth:`commit`
    moves them into place together, :meth:`discard` drops them (a failed run changes
    nothing). ``.dance-tf.json`` lists what dance-tf wrote, with sizes and digests."""

    def __init__(self, path, force: bool = False, protect=(), option: str = "--out"):
        try:
            super().__init__(path, force=force, protect=protect, option=option)
        except OutputError as err:
            raise CLIError(str(err)) from None
        self._staging = None

    def check(self, *names: str) -> list[Path]:
        """Final paths for ``names``; CLIError if one is the input, a folder, a link, or a
        file dance-tf did not write (or one it wrote that was since replaced)."""
        try:
            return super().check(*names)
        except OutputError as err:
            raise CLIError(str(err)) from None

    def claim(self, *names: str) -> list[Path]:
        """Staging paths to write ``names`` at; :meth:`commit` moves them into place."""
        self.check(*names)
        self._staging = self._staging or self.stage()
        return [self._staging.path(name) for name in names]

    def commit(self) -> list[Path]:
        """Move the claimed files into place (all checked first); their final paths."""
        staging, self._staging = self._staging, None
        try:
            return staging.commit() if staging is not None else []
        except OutputError as err:   # the staging removed itself: nothing changed
            raise CLIError(str(err)) from None

    def discard(self) -> None:
        """Drop claimed files not committed (nothing is left on disk)."""
        if self._staging is not None:
            self._staging.discard()
            self._staging = None


def slug(text: str, limit: int = 40) -> str:
    """A folder name from free text: lower-case words joined by '-', whole words only."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    if len(name) > limit:
        cut = name[:limit + 1]
        name = cut[:cut.rfind("-")] if "-" in cut else name[:limit]
    return name.strip("-") or "input"


def out_folder(args, stem: str, names, protect=()) -> OutputFolder:
    """The explain command's output folder, checked before any work is done."""
    path = args.out or os.path.join("outputs", "explain", stem)
    folder = OutputFolder(path, force=args.force, protect=protect)
    folder.check(*names)
    args.output_folder = folder   # cmd_explain discards what a failed run staged
    return folder
