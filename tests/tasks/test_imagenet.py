"""The ImageNet task of evaluate.py on real images with a small Keras classifier file."""

import json
import os
import subprocess
import sys

import pytest

from dance_tf.tasks import imagenet
from tests.conftest import ROOT, saved_tiny_cnn

IMAGES = ROOT / "tests" / "fixtures" / "imagenet"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return saved_tiny_cnn(tmp_path_factory.mktemp("m"), (24, 24, 3), 5, "tiny_imagenet",
                          padding="valid")


def test_task_reads_folder_with_model_preprocessing(tiny):
    task = imagenet.build_task({"input": str(IMAGES), "model": str(tiny), "count": 2})
    assert len(task.inputs) == 2 and task.inputs[0].shape == (24, 24, 3)
    lo, hi = task.value_range
    assert (task.inputs[0] >= lo - 1e-3).all() and (task.inputs[0] <= hi + 1e-3).all()
    with pytest.raises(ValueError, match="model"):
        imagenet.build_task({"input": str(IMAGES), "model": "nothing.bin"})
    with pytest.raises(ValueError, match="input"):
        imagenet.build_task({"input": str(tiny), "model": str(tiny)})


def test_evaluate_on_images(tiny, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "scripts" / "evaluate.py"), "--task", "imagenet",
           "--input", str(IMAGES), "--model", str(tiny), "--count", "2", "--methods",
           "gradient", "--variants", "none,decoys", "--option", "stride=2", "--quiet",
           "--examples", "1", "--out", str(out)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    decoy_rows = [r for r in rows if r["variant"] == "decoys"]
    assert all(r["certified"] == 1.0 for r in decoy_rows)
    assert decoy_rows[0]["n_items"] == 2 * -(-(11 * 11) // 100)  # stride 2 over 24 px
    assert list((out / "examples").glob("*.png"))


def test_the_task_takes_every_efficientnet_lite():
    """``--model efficientnet_lite1 / lite2`` (issue 26): the trained net of that variant,
    its input size from its config, block 2a as ℓ like Lite0."""
    from dance_tf.tasks import imagenet as task

    assert task.LITE == ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
    model = task.load_model("efficientnet_lite2")
    assert model.name == "efficientnet_lite2" and model.input_shape[1:3] == (260, 260)
    with pytest.raises(ValueError, match="efficientnet_lite1"):
        task.load_model("efficientnet_lite9")
