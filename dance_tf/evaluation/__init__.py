"""Batch evaluation of DANCE against its baselines and ablations (§4.2–4.3, S8, S14).

For every input of a task, every base method and every variant — without decoys, with
decoys (range, Eq. 3), decoys with mean aggregation, constant and noise perturbations with
range aggregation (§4.3) — the map is computed, binarised to its top-K features and scored
by fidelity SF = −log p_c (Eq. 6). Rows stream to ``OUT/results*.jsonl`` (one JSON object
per input × method × variant, flushed and fsynced); a rerun with the same ``--out`` skips
what is done, so a killed run loses at most the row in flight. The report (tables of
mean ± s.e. and paired one-sided t-tests of decoys − variant, box plots, example panels)
is rebuilt from all result files in ``OUT`` (shards merge there).

One folder, one configuration. The first run writes ``OUT/config.json``: the task, the
seeds, every explainer and method option, the attack budget, a digest of the model's
weights, of the value range, fill and constant, and the versions of dance_tf, TensorFlow
and Keras — everything that changes a number. Every row carries that configuration's
digest and a digest of its input. A rerun whose configuration differs stops before
computing anything, with a message that lists each differing setting (use another
``--out``); a row of another task or configuration, a row computed on a different input
under the same id, a row without its key fields or a broken line in the middle of a file
is an error naming the file and line. What is *not* part of the configuration only selects
rows: ``--count``, ``--methods``, ``--variants``, the shards, and the K list — a K that a
finished row lacks makes that row be computed again (the new row replaces the old one), so
``--k 0.2,0.5`` on a folder computed at 0.2 adds the K = 50 % table.

From Python::

    from dance_tf.evaluation import EvalConfig, evaluate, load_task
    from dance_tf.evaluation.report import report

    config = EvalConfig(task="digits", count=4, methods=("gradient",), out="outputs/d")
    task = load_task(config)
    evaluate(task, config)
    print(report(config.out, task))

Modules: ``config`` (EvalConfig), ``checks`` (the checks it shares with the command line),
``variants`` (methods, variants, their options), ``results`` (the rows files),
``run_config`` (``OUT/config.json``), ``digests``, ``rows`` (one row), ``runner``
(evaluate; its progress is ``dance_tf.progress``), ``report``, ``attack_tables``,
``figures``, ``cli`` (the flags).

``evaluate_model(model, inputs, labels, methods=..., variants=..., metrics=..., out=...)``
(``model_card``) runs the same comparison on any Keras classifier and data, with the
metrics of ``card_metrics``, the compute-matched variants of ``matched`` and the HTML
report of ``report_html`` (modules ``card_*``).
No module imports TensorFlow until it runs.
"""

from dance_tf.evaluation.config import EvalConfig
from dance_tf.evaluation.model_card import evaluate_model
from dance_tf.evaluation.results import EvaluationError
from dance_tf.evaluation.runner import evaluate, load_task

__all__ = ["EvalConfig", "EvaluationError", "evaluate", "evaluate_model", "load_task"]
