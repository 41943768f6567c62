"""``OUT/examples.npz``: the inputs drawn as panels in the report and their maps (one per
method × variant), kept beside the rows so that the report needs no recomputation."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from dance_tf.evaluation.results import EvaluationError, regular_or_absent

EXAMPLES_FILE = "examples.npz"
MARK = "dance_tf evaluate_model examples v1"


def read_examples(out: Path) -> dict[str, np.ndarray]:
    """{key: array} of ``OUT/examples.npz`` ({} when absent); a file this code did not
    write is an EvaluationError. Keys: ``x__<i>`` and ``map__<i>__<method>__<variant>``."""
    path = Path(out) / EXAMPLES_FILE
    if not regular_or_absent(path, "examples file"):
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise EvaluationError(f"{path}: not an examples file of evaluate_model ({err}); "
                              "remove it or use another out folder") from None
    if str(arrays.pop("format", "")) != MARK:
        raise EvaluationError(f"{path}: not written by evaluate_model; remove it or use "
                              "another out folder")
    return arrays


class ExampleStore:
    """The examples of a folder, added to and saved atomically (never over a foreign
    file: :func:`read_examples` refuses one first)."""

    def __init__(self, out: Path):
        self.path = Path(out) / EXAMPLES_FILE
        self.arrays = read_examples(out)
        self.changed = False

    def add(self, i: int, method: str, variant: str, x: np.ndarray, sal: np.ndarray) -> None:
        self.arrays[f"x__{i}"] = np.asarray(x, np.float32)
        self.arrays[f"map__{i}__{method}__{variant}"] = np.asarray(sal, np.float32)
        self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        tmp = self.path.with_name(f".{EXAMPLES_FILE}.{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, format=np.array(MARK), **self.arrays)
        os.replace(tmp, self.path)
        self.changed = False
