"""Evaluation tasks for scripts/evaluate.py (digits default, SST, IDS, ImageNet)."""

from dance_tf.tasks.base import TASKS, Task, build_task

__all__ = ["TASKS", "Task", "build_task"]
