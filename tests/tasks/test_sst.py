"""The SST task: real sentences of a file as inputs (their embeddings, one word per
patch), the mean embedding as the constant, and an example drawn as PNG and HTML."""

import numpy as np

from dance_tf.data import sst
from dance_tf.models import sst as sst_model
from tests.conftest import FIXTURES

DEV = FIXTURES / "sst" / "stsa.binary.dev"


def test_sst_task_explains_real_words_only(sst_trained, tmp_path):
    from dance_tf.tasks.sst import build_task

    logs = []
    task = build_task({"model": str(sst_trained[0]), "input": str(DEV), "count": 50,
                       "log": logs.append})
    sentences, labels = sst.load(DEV)
    assert len(task.inputs) == len(sentences) == 13 and logs == []
    for x, tid in zip(task.inputs, task.ids, strict=True):
        line = int(tid.rsplit("-", 1)[1])
        assert x.shape == (len(sentences[line - 1]), 50)
    assert task.labels == labels.tolist() and task.feature_ndim == 1
    assert task.explainer_options == {"layer": "pool", "patch_size": 1, "stride": 1,
                                      "patches_per_mask": 1}
    bundle = sst_model.load(sst_trained[0])
    np.testing.assert_allclose(task.constant, bundle.table.vectors.mean(axis=0), rtol=1e-6)
    small = build_task({"model": str(sst_trained[0]), "input": str(DEV), "count": 3, "seed": 1})
    assert len(small.inputs) == 3 and small.ids == sorted(small.ids)
    x = task.inputs[-1]
    maps = {"Gradient": {"without decoys": np.ones_like(x), "with decoys": x}}
    task.render(tmp_path / "ex.png", x, maps, task.ids[-1])
    assert (tmp_path / "ex.png").stat().st_size > 1000
    assert (tmp_path / "ex.html").read_text().count("<span") == 2 * len(x)
