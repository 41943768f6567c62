"""GloVe word vectors in the standard text format (S5, SST).

Each line is ``word f1 f2 ... fD`` separated by single spaces (Pennington et al. 2014).
Any dimension D is accepted: the paper uses the 100-d ``glove.6B`` file, the offline data
of this project has the 50-d vectors restricted to the SST vocabulary.

Files in word2vec text format (a first line ``V D``) are rejected with an error naming
line 1, as are ragged rows, non-numeric values, tab-separated fields and bytes that are not
valid in the encoding (file, line and column named): a silently misread embedding table
would change every explanation computed from it. A UTF-8 byte-order mark is ignored.
"""

from __future__ import annotations

import os

import numpy as np

from dance_tf.data.textfile import lines


def load(path: str | os.PathLike, *, encoding: str = "utf-8") -> tuple[list[str], np.ndarray]:
    """Read a GloVe text file.

    Parameters
    ----------
    path : path of the ``.txt`` file (e.g. ``glove.6B.100d.txt``).
    encoding : text encoding, UTF-8 for the published files.

    Returns
    -------
    words : list of str, length V, in file order (GloVe's frequency order).
    vectors : float32 array of shape (V, D); row i is the vector of ``words[i]``.

    Raises
    ------
    ValueError
        On an empty file, a header line, a row whose number of values differs from
        the first row's, a non-numeric value, a tab separator, undecodable bytes or a
        repeated word (message names the file and line); also for a path that is not a
        regular file.
    """
    words: list[str] = []
    rows: list[list[str]] = []
    seen: dict[str, int] = {}
    dim = None
    for number, line in lines(path, encoding, what="GloVe file"):
        line = line.rstrip("\n").rstrip("\r")
        if not line.strip():
            continue
        if "\t" in line:
            raise ValueError(
                f"{path}: line {number} separates fields with a tab; GloVe text files "
                "separate the word and its values with single spaces")
        fields = line.rstrip(" ").split(" ")
        if dim is None:
            if len(fields) == 2 and all(f.isdigit() for f in fields):
                raise ValueError(
                    f"{path}: line 1 looks like a word2vec header ({line!r}); "
                    "GloVe text files have no header line - remove it"
                )
            if len(fields) < 2:
                raise ValueError(f"{path}: line {number} has a word but no vector values")
            dim = len(fields) - 1
        elif len(fields) != dim + 1:
            raise ValueError(
                f"{path}: line {number} has {len(fields) - 1} values, expected {dim} "
                f"(the dimension of line 1); word {fields[0]!r}"
            )
        word = fields[0]
        if word in seen:
            raise ValueError(
                f"{path}: line {number} repeats the word {word!r} of line {seen[word]}"
            )
        seen[word] = number
        words.append(word)
        rows.append(fields[1:])
    if dim is None:
        raise ValueError(f"{path}: no vectors found (empty file)")
    try:
        vectors = np.asarray(rows, dtype=np.float32)
    except ValueError:
        for number, values in zip(seen.values(), rows, strict=True):
            try:
                np.asarray(values, dtype=np.float32)
            except ValueError as error:
                message = f"{path}: line {number} has a non-numeric value: {error}"
                raise ValueError(message) from None
        raise
    if not np.all(np.isfinite(vectors)):
        bad = int(np.argwhere(~np.isfinite(vectors))[0, 0])
        raise ValueError(f"{path}: line {seen[words[bad]]} has a non-finite value")
    return words, vectors
