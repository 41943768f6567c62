"""What an evaluation task provides to the batch evaluation (§4, S5).

A task bundles a model, the inputs to explain and the settings that make the paper's
comparison on them: value range, explainer options (layer, patch, m), the fill value used
when features are dropped for fidelity, the constant of the constant ablation, and how to
draw one example.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: --task name → module exposing build_task(options: dict) -> Task
TASKS = {
    "digits": "dance_tf.tasks.digits",
    "sst": "dance_tf.tasks.sst",
    "ids": "dance_tf.tasks.ids",
    "imagenet": "dance_tf.tasks.imagenet",
}


@dataclass
class Task:
    """An evaluation task.

    inputs: sequence of single inputs (each (*S); shapes may differ, e.g. sentences);
    ids: one stable string per input (rows of the results file are keyed by it);
    labels: true labels if known (reported, not used); value_range: (x_min, x_max)
    broadcastable to each input; explainer_options: keyword arguments for
    ``dance_tf.Explainer`` (layer, patch_size, patches_per_mask, ...); fill: value of
    dropped features in the fidelity metric; constant: value of the constant ablation
    (None: mean pixel of each input); feature_ndim: leading per-input axes that index
    features (2 for images, 1 for text and tabular); render: optional
    ``render(path, x, maps: dict[str, np.ndarray], title: str)`` drawing one example.
    """

    name: str
    model: object
    inputs: Sequence[np.ndarray]
    ids: list[str]
    value_range: tuple
    explainer_options: dict = field(default_factory=dict)
    labels: Sequence | None = None
    fill: float | np.ndarray = 0.0
    constant: float | np.ndarray | None = None
    feature_ndim: int = 2
    render: Callable | None = None
    description: str = ""


def build_task(name: str, options: dict) -> Task:
    """Import ``dance_tf.tasks.<name>`` and build its task from command-line options."""
    if name not in TASKS:
        raise ValueError(f"task: unknown {name!r}; expected one of {sorted(TASKS)}")
    try:
        module = importlib.import_module(TASKS[name])
    except ModuleNotFoundError as err:
        raise ValueError(f"task: {name!r} is not available in this install ({err})") from err
    return module.build_task(options)
