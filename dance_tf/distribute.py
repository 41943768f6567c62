"""Scale-out of explanations (§4 at scale): replicas of one machine and workers of a cluster.

* On one machine, ``explain_replicated`` runs one input per replica of a
  ``tf.distribute.MirroredStrategy`` (one GPU each) in a single ``strategy.run`` call: the
  whole compiled pipeline — decoy optimisation, base method, aggregation — runs on each
  replica's device for that replica's input.
* Across machines, explanations of different inputs are independent, so workers need no
  collective ops: each task of a multi-worker ``TF_CONFIG`` cluster takes a shard of the
  inputs (``worker_shard``) and writes its own results file; the shards merge in the report.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

STRATEGIES = ("none", "mirrored", "multi-worker")


def split_cpu(count: int) -> None:
    """Split the CPU into ``count`` logical devices (before TensorFlow starts; for tests and
    for trying the replicated path without GPUs)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])


def make_strategy(name: str, devices: list[str] | None = None):
    """A MirroredStrategy over ``devices`` (default: all GPUs, else all logical CPUs), or
    None for ``"none"``."""
    if name not in STRATEGIES:
        raise ValueError(f"strategy: expected one of {STRATEGIES}, got {name!r}")
    if name == "none":
        return None
    if devices is None and not tf.config.list_logical_devices("GPU"):
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices)


def worker_shard(tf_config: str | None = None) -> tuple[int, int]:
    """(shard index, number of shards) of this task from ``TF_CONFIG``.

    Every chief and worker task of the cluster is one shard, chief first; evaluators and
    parameter servers take none.
    """
    text = tf_config if tf_config is not None else os.environ.get("TF_CONFIG", "")
    try:
        cfg = json.loads(text) if text else {}
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG: not valid JSON ({err})") from err
    cluster, task = cfg.get("cluster", {}), cfg.get("task", {})
    members = [(kind, i) for kind in ("chief", "worker")
               for i in range(len(cluster.get(kind, [])))]
    if not members:
        raise ValueError("TF_CONFIG: expected a cluster with chief and/or worker tasks")
    me = (task.get("type"), int(task.get("index", 0)))
    if me not in members:
        raise ValueError(f"TF_CONFIG: task {me} is not a chief or worker of the cluster")
    return members.index(me), len(members)


def explain_replicated(explainer, strategy, xs, targets=None, return_details=False) -> list:
    """Explain inputs ``xs`` (sequence of single inputs), one per replica at a time.

    Returns a list of maps (or ``Explanation`` objects) in the order of ``xs``; results
    equal ``explainer.explain`` on each input (same seeds, same graph).
    """
    if strategy is None:
        return [explainer.explain(x, t, return_details) for x, t in
                zip(xs, targets if targets is not None else [None] * len(xs))]
    targets = list(targets) if targets is not None else [None] * len(xs)
    prepared = [explainer.prepare(x, t) for x, t in zip(xs, targets)]
    out: list = [None] * len(xs)
    replicas = strategy.num_replicas_in_sync
    by_plan: dict[int, list[int]] = {}
    for i, (plan, *_rest) in enumerate(prepared):
        by_plan.setdefault(id(plan), []).append(i)
    for members in by_plan.values():
        plan = prepared[members[0]][0]
        for start in range(0, len(members), replicas):
            group = members[start:start + replicas]
            args = [prepared[i][1] for i in group]
            args += [args[-1]] * (replicas - len(args))  # pad the last group
            dist = strategy.experimental_distribute_values_from_function(
                lambda ctx, a=args: a[ctx.replica_id_in_sync_group])
            per_replica = strategy.run(lambda a, p=plan: p.run(*a), args=(dist,))
            local = strategy.experimental_local_results(per_replica)
            for i, res in zip(group, local):
                out[i] = explainer.result(plan, prepared[i][1], res, return_details)
    return out
