"""The IDS task: inputs from the trained model's test rows or from a CSV file, and an
example drawn as a ranking chart and a Markdown table."""

import numpy as np

from tests.conftest import FIXTURES

SAMPLE = FIXTURES / "ids2018" / "sample_rows.csv"


def test_ids_task_builds_inputs_and_renders(ids_trained, tmp_path):
    from dance_tf.tasks.ids import build_task

    task = build_task({"model": str(ids_trained[0]), "count": 5, "log": lambda m: None})
    assert len(task.inputs) == 5 and task.inputs[0].shape == (78,) and task.feature_ndim == 1
    assert task.explainer_options["layer"] == "hidden2"
    assert all(0.0 <= x.min() and x.max() <= 1.0 for x in task.inputs)
    csv_task = build_task({"model": str(ids_trained[0]), "input": str(SAMPLE), "count": 100,
                           "log": lambda m: None})
    assert len(csv_task.inputs) == 52
    maps = {"Gradient": {"without decoys": np.arange(78.0), "with decoys": np.ones(78)}}
    task.render(tmp_path / "ex.png", task.inputs[0], maps, task.ids[0])
    assert (tmp_path / "ex__Gradient.png").exists()
    assert "| feature |" in (tmp_path / "ex__Gradient.md").read_text()
