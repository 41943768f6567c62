# %% [markdown]
# # 2. Does DANCE help on my model? The report card
#
# A saliency map is only useful if it points at what the model uses. The evaluation
# measures that with **fidelity** (Eq. 6): keep the top-K % features of the map, blank
# the rest, and score SF = −log p_c of the explained class (lower is better: the kept
# features alone still support the class). It compares, input by input, the base method
# *without* decoys, *with* decoys (DANCE) and the §4.3 ablations, and tests the paired
# differences.
#
# This page first runs the task evaluation (`dance_tf.evaluation`:
# `EvalConfig`, `load_task`, `evaluate`, `report`) on your own model, here a small CNN on
# the bundled digits at a tiny count. Read the verdicts with the counts in mind: a few
# inputs give wide intervals.

# %%
import os
import tempfile
from pathlib import Path

import keras

from dance_tf.data import digits
from dance_tf.evaluation import EvalConfig, evaluate, load_task
from dance_tf.evaluation.report import report

SMALL = os.environ.get("DANCE_TF_TUTORIAL_SMALL") == "1"
COUNT = 3 if SMALL else 24                    # test inputs evaluated
work = Path(tempfile.mkdtemp())
keras.utils.set_random_seed(0)

# %% [markdown]
# ## Your model
#
# The digits task takes any `.keras` classifier of its 32×32 greyscale inputs that was
# trained on the task's training split (`digits.load(seed=split_seed)`); it must output
# logits.

# %%
x_train, y_train, x_test, y_test = digits.load(seed=0)
model = keras.Sequential([
    keras.Input((32, 32, 1)),
    keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
    keras.layers.MaxPooling2D(name="pool1"),
    keras.layers.Flatten(),
    keras.layers.Dense(10, name="logits"),
])
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=3 if SMALL else 10, verbose=0)
print("test accuracy:", round(model.evaluate(x_test, y_test, verbose=0)[1], 3))
model_path = work / "my_digits.keras"
model.save(model_path)

# %% [markdown]
# ## Run the evaluation
#
# One output folder holds one configuration: `config.json` records every setting that
# changes a number, and a rerun with the same folder resumes. The tiny settings keep
# this page fast: one base method, three variants.

# %%
config = EvalConfig(task="digits", model=str(model_path), count=COUNT,
                    methods=("gradient",), variants=("none", "decoys", "constant"),
                    out=work / "report", examples=1, quiet=True)
task = load_task(config, log=lambda *a: None)
evaluate(task, config, log=lambda *a: None)
print(sorted(p.name for p in config.out.iterdir()))

# %% [markdown]
# ## Read the report
#
# The report gives, per base method and variant, the mean fidelity ± its standard
# error over the inputs, and for each variant the paired difference *decoys − variant*
# with a one-sided p value (is DANCE's SF lower?). A difference is a finding only when
# its p is small *and* the count is large enough for the interval to exclude zero. A
# positive difference means the decoys made fidelity worse on this model: on the digits
# that is what the reproduction study finds (README, "What the embedded default
# measures").

# %%
print(report(config.out, task, log=lambda *a: None))

# %% [markdown]
# ## The report card: `dance_tf.evaluation.evaluate_model`
#
# One call on your own model and data (numpy, a tensor, or a `tf.data` dataset of
# `(x, y)` pairs) computes, for every input × method × variant, the standard metrics —
# deletion / insertion AUC (Petsiuk et al. 2018), MuFidelity (Bhatt et al. 2020), ROAD
# (Rong et al. 2022), max-sensitivity (Yeh et al. 2019), sparseness — beside the paper's
# fidelity. `matched` is the **compute-matched** baseline: the base method given as many
# model evaluations as the DANCE map used (for the gradient: SmoothGrad with 2n noise
# draws). Without it a comparison with the cheap plain map cannot tell the decoys from
# the extra work.

# %%
import tensorflow as tf  # noqa: E402

from dance_tf.evaluation import evaluate_model  # noqa: E402

pairs = tf.data.Dataset.from_tensor_slices((x_test[:COUNT], y_test[:COUNT])).batch(4)
card = evaluate_model(model, pairs, methods=("gradient",),
                      variants=("none", "decoys", "matched"),
                      metrics=("fidelity", "deletion_auc", "insertion_auc", "sparseness"),
                      out=work / "card", value_range=(0.0, 1.0), quiet=True,
                      log=lambda *a: None)
print(sorted(p.name for p in (work / "card").iterdir()))

# %% [markdown]
# ## Read it with its intervals and Holm verdicts
#
# Each comparison is *decoys − variant* for one method and metric: the mean paired
# difference, its 95 % confidence interval, the two-sided p and Holm's p over every
# comparison the card made. `direction` says which way is better for that metric; the
# verdict reads the difference in that direction and says "no difference" unless Holm's
# p is below 0.05. With a handful of inputs the intervals are wide: that is the
# honest answer, not a failure. `report.html` in the folder has the same table with box
# plots, deletion / insertion curves and example maps.

# %%
for c in card.comparisons:
    print(f"{c.metric:14s} decoys − {c.variant:8s} ({c.direction} is better): "
          f"{c.mean:+.3f} [{c.low:+.3f}, {c.high:+.3f}]  p={c.p:.3f} "
          f"Holm p={c.p_holm:.3f}  → {c.verdict}")
