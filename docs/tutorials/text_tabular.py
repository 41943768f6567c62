# %% [markdown]
# # 3. Text and tabular inputs
#
# DANCE is not only for images. This tutorial explains
#
# - an SST movie-review sentence at its **word embeddings** (one patch = one word, the
#   legal range = the embedding table's per-dimension range, §4.3.2), and
# - a CSE-CIC-IDS2018 network flow with **per-feature value ranges** (one patch = one
#   feature, S8).
#
# The data ship with dance_tf (`dance_tf/data/samples`: SST-2 sentences, the GloVe 50-d
# vectors of their vocabulary and a 1,000-flow IDS2018 sample), so nothing is downloaded.
# The models here are small and trained for a few seconds; the evaluation tasks
# (`dance-tf evaluate --task sst|ids`) use the full packaged models.

# %%
import os
import tempfile

import keras
import numpy as np

import dance_tf
from dance_tf.data import embedding, glove, ids2018, samples
from dance_tf.data import sst as sst_data
from dance_tf.models import ids as ids_model
from dance_tf.models import sst as sst_model

SMALL = os.environ.get("DANCE_TF_TUTORIAL_SMALL") == "1"
N_TRAIN = 300 if SMALL else 3000        # training sentences used here
data_dir = tempfile.mkdtemp()           # the samples are decompressed here
keras.utils.set_random_seed(0)

# %% [markdown]
# ## Sentences at the word embeddings
#
# Each sentence becomes a (T, D) array: T words, D = 50 GloVe dimensions. The model is
# the sentence CNN of the paper (one convolution, max-pooling over time, a dense layer).

# %%
words, vectors = glove.load(samples.path("glove.6B.50d.sst.txt", data_dir))
table = embedding.EmbeddingTable(words, vectors)
train, y_train = sst_data.load(samples.path("stsa.binary.train", data_dir), num_classes=2)
dev, y_dev = sst_data.load(samples.path("stsa.binary.dev", data_dir), num_classes=2)


def embed(sentences):
    return [table.embed_one(s) for s in sentences]


model = sst_model.build(table.dim, filters=16 if SMALL else 64)
history = sst_model.fit(model, embed(train[:N_TRAIN]), y_train[:N_TRAIN], embed(dev[:100]),
                        y_dev[:100], epochs=3, show_progress=False)

# %% [markdown]
# The legal range of every dimension is the embedding table's (including the zero
# vector): decoys move a word's vector only within the values real words take.
# `patch_size=1, patches_per_mask=1` makes each word its own patch, and ℓ = 2 is the
# max-pooling layer (Table S1). The base method here is integrated gradients: the plain
# gradient of a ReLU + max-pooling network is piecewise constant, so decoys that keep the
# same units active give the same gradient and a range of zero.

# %%
sentence = dev[0]
x = table.embed_one(sentence)                 # (T, 50)
lo, hi = table.value_range                    # each (50,)
res = dance_tf.explain(model, x, value_range=(lo, hi), patch_size=1, patches_per_mask=1,
                       layer=2, method="integrated_gradients",
                       method_options={"steps": 8 if SMALL else 32}, return_details=True)
print(" ".join(sentence))
print("explained class:", ["negative", "positive"][res.target], " ℓ =", res.layer,
      f" decoys: {len(res.decoys)} ({int(res.moved.sum())} moved), "
      f"certified {res.fraction_certified:.0%}")

# %% [markdown]
# `feature_saliency` has one score per word (the mean of |map| over the 50 dimensions):

# %%
order = np.argsort(-res.feature_saliency)
for i in order[:5]:
    print(f"{sentence[i]:>15}  {res.feature_saliency[i]:.3g}")

# %% [markdown]
# ## Network flows with per-feature ranges
#
# A flow is a row of 78 CICFlowMeter features. They are MinMax-scaled to [0, 1] with the
# training rows' range, so the legal range is 0..1 per feature; a feature that never
# varied in training has no room to move. Any per-feature bounds work: `value_range`
# takes arrays broadcastable to x.

# %%
flows = ids2018.read_csv(samples.path("ids2018_sample.csv", data_dir))
y = ids2018.binary_target(flows.labels)            # 0 benign, 1 attack
scaler = ids_model.fit_scaler(flows.X)
X = scaler.transform(flows.X).astype(np.float32)
mlp = ids_model.build(X.shape[1])
mlp.compile(optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"])
mlp.fit(X, y, epochs=3 if SMALL else 20, batch_size=64, verbose=0)
print("flows:", X.shape, " training accuracy:",
      round(float(np.mean(mlp.predict(X, verbose=0).argmax(-1) == y)), 3))

# %%
lo = np.zeros(X.shape[1], np.float32)
hi = np.ones(X.shape[1], np.float32)
row = int(np.flatnonzero(y == 1)[0])               # the first attack flow
res = dance_tf.explain(mlp, X[row], value_range=(lo, hi), patch_size=1,
                       patches_per_mask=1, layer=2, return_details=True)
print(flows.labels[row], "→ explained class", ["benign", "attack"][res.target],
      f"({len(res.decoys)} decoys, certified {res.fraction_certified:.0%})")
for i in np.argsort(-res.feature_saliency)[:8]:
    print(f"{flows.feature_names[i]:>28}  value {X[row, i]:.3f}  "
          f"saliency {res.feature_saliency[i]:.3g}")

# %% [markdown]
# The same settings from the command line: `dance-tf explain flows.csv --row 3 --model
# ids` and `dance-tf explain "a gripping film ." --sentence --model sst` (both train the
# packaged models once, then cache them).
