# %% [markdown]
# # 4. Export and serve
#
# `dance_tf.export.save(explainer, path)` writes a SavedModel that runs the whole DANCE
# pipeline in graph — decoy optimisation, the certificate, the base method and the
# aggregation — and returns maps with their certificates. The reloaded model needs
# TensorFlow alone: no dance_tf, no Keras code. Here a small digits CNN is exported, then
# served from a separate Python process that never imports dance_tf.

# %%
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np

import dance_tf
from dance_tf.data import digits
from dance_tf.export import save

SMALL = os.environ.get("DANCE_TF_TUTORIAL_SMALL") == "1"
SIZE = 16 if SMALL else 32
keras.utils.set_random_seed(0)

# %% [markdown]
# ## A model and its explainer
#
# A small CNN on scikit-learn's bundled handwritten digits, trained for a moment. The
# explainer is configured once; its settings are baked into the export.

# %%
x_train, y_train, x_test, y_test = digits.load(size=SIZE)
model = keras.Sequential([
    keras.Input((SIZE, SIZE, 1)),
    keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
    keras.layers.MaxPooling2D(name="pool1"),
    keras.layers.Flatten(),
    keras.layers.Dense(10, name="logits"),
])
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(x_train, y_train, epochs=1 if SMALL else 5, verbose=0)
print("test accuracy:", round(model.evaluate(x_test, y_test, verbose=0)[1], 3))

explainer = dance_tf.Explainer(model, value_range=(0.0, 1.0), layer="pool1")

# %% [markdown]
# ## Export
#
# `save` refuses a folder that holds anything but an earlier dance_tf export. Beside the
# SavedModel it writes the settings it was made with (a JSON file under `assets.extra/`).

# %%
export_dir = Path(tempfile.mkdtemp()) / "digits_dance"
save(explainer, export_dir)
print(sorted(p.name for p in export_dir.iterdir()))

# %% [markdown]
# ## Serve it without dance_tf
#
# The server below is a separate Python process that imports TensorFlow only. The
# `serving_default` signature returns, per input, the DANCE map, one score per feature,
# the explained class and the certificate: `fraction_certified` (the share of decoys
# that met ‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε) and `fraction_moved`.

# %%
server = r'''
import json, sys
import numpy as np
import tensorflow as tf

loaded = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
out = loaded.signatures["serving_default"](x=tf.constant(x))
np.save(sys.argv[3], out["saliency"].numpy())
print(json.dumps({
    "dance_tf imported": "dance_tf" in sys.modules,
    "outputs": {k: list(v.shape) for k, v in out.items()},
    "target": out["target"].numpy().tolist(),
    "fraction_certified": np.round(out["fraction_certified"].numpy(), 3).tolist(),
}))
'''
batch = x_test[:2]
work = Path(tempfile.mkdtemp())
np.save(work / "x.npy", batch)
env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}   # no checkout on path
proc = subprocess.run([sys.executable, "-c", server, str(export_dir), str(work / "x.npy"),
                       str(work / "maps.npy")], capture_output=True, text=True, env=env,
                      cwd=work, check=True)
reply = json.loads(proc.stdout.strip().splitlines()[-1])
for key, value in reply.items():
    print(f"{key}: {value}")
assert reply["dance_tf imported"] is False

# %% [markdown]
# ## The served maps are the live explainer's
#
# The export runs the explainer's own batch pipeline, so with the same seed the maps
# agree with those computed in this process.

# %%
served = np.load(work / "maps.npy")
live = explainer(batch)
print("largest difference, served vs live:", float(np.abs(served - live).max()))

# %% [markdown]
# The same from the command line: `dance-tf export --out exported/digits` (with any
# DANCE option), then `tf.saved_model.load("exported/digits")`.
