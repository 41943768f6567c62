"""Evaluation metrics (§4.2, §4.4, S6, S12, S14)."""

from dance_tf.metrics.fidelity import fidelity
from dance_tf.metrics.stats import PairedStats, paired_stats
from dance_tf.metrics.topk import topk_binarize

__all__ = ["fidelity", "paired_stats", "PairedStats", "topk_binarize"]
