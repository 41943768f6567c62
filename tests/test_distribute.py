"""Scale-out across a cluster: each task of a multi-worker TF_CONFIG takes its shard of the
inputs (the chief one too, parameter servers none), and a bad TF_CONFIG is an error."""

import json

import pytest


def test_worker_shard_from_tf_config():
    from dance_tf.distribute import worker_shard

    cluster = {"chief": ["h0:1"], "worker": ["h1:1", "h2:1"], "ps": ["h3:1"]}
    cfg = {"cluster": cluster, "task": {"type": "worker", "index": 1}}
    assert worker_shard(json.dumps(cfg)) == (2, 3)
    cfg["task"] = {"type": "chief", "index": 0}
    assert worker_shard(json.dumps(cfg)) == (0, 3)
    cfg["task"] = {"type": "ps", "index": 0}
    with pytest.raises(ValueError, match="TF_CONFIG"):
        worker_shard(json.dumps(cfg))
    with pytest.raises(ValueError, match="TF_CONFIG"):
        worker_shard("{not json")
