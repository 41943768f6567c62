"""Parity with Quantus 0.6.0 on the same maps, where Quantus can be imported.

Quantus pins keras < 3 and is not a dependency. Install it aside with
``pip install quantus==0.6.0 --no-deps --target /tmp/quantus_pkg`` (or point
``DANCE_QUANTUS_PATH`` at such a folder); its numpy-level functions then run in a
subprocess (tests/metrics/quantus_reference.py). Skipped when it is not there.

Compared: sparseness (Quantus adds 1e-7 to every value, hence the tolerance), pointing game
and relevance mass with signed relevance (Quantus' default abs=False; maps without ties),
the noisy linear imputation with noise 0, and the histogram entropy of eMPRT. Not
compared: the model-based metrics (deletion / insertion, MuFidelity, ROAD, sensitivity,
eMPRT end to end) — Quantus' model wrappers need keras < 3.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dance_tf.metrics import pointing_game, relevance_mass, sparseness
from dance_tf.metrics.imputation import noisy_linear_impute
from dance_tf.metrics.randomisation import histogram_entropy

QUANTUS = Path(os.environ.get("DANCE_QUANTUS_PATH", "/tmp/quantus_pkg"))
SCRIPT = Path(__file__).with_name("quantus_reference.py")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    if not (QUANTUS / "quantus").is_dir():
        pytest.skip(f"quantus is not installed at {QUANTUS}")
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(6, 7, 8))
    masks = np.zeros((6, 7, 8), bool)
    for i in range(6):
        r, c = rng.integers(0, 4, 2)
        masks[i, r:r + 3, c:c + 4] = True
    maps[:3] += 3 * masks[:3]                        # some hits, some misses
    image = rng.normal(size=(6, 7, 3))
    removed = rng.random((6, 7)) < 0.4
    folder = tmp_path_factory.mktemp("quantus")
    src, dst = folder / "in.npz", folder / "out.npz"
    np.savez(src, maps=maps, masks=masks, image=image, removed=removed)
    env = dict(os.environ, PYTHONPATH="")
    done = subprocess.run([sys.executable, str(SCRIPT), str(QUANTUS), str(src), str(dst)],
                          capture_output=True, text=True, env=env, timeout=300)
    if done.returncode == 3:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stderr
    out = dict(np.load(dst))
    assert str(out["version"]) == "0.6.0"
    return maps, masks, image, removed, out


def test_sparseness_matches_quantus(reference):
    maps, _, _, _, q = reference
    np.testing.assert_allclose(sparseness(maps), q["sparseness"], atol=1e-6)


def test_pointing_game_and_relevance_mass_match_quantus(reference):
    maps, masks, _, _, q = reference
    hits = pointing_game(maps, masks, relevance="signed")
    assert 0 < hits.sum() < len(hits)               # the comparison sees both outcomes
    np.testing.assert_array_equal(hits, q["pointing"])
    np.testing.assert_allclose(relevance_mass(maps, masks, relevance="signed"), q["mass"],
                               rtol=1e-10)


def test_imputation_and_entropy_match_quantus(reference):
    maps, _, image, removed, q = reference
    np.testing.assert_allclose(noisy_linear_impute(image, removed, noise=0.0), q["imputed"],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(histogram_entropy(maps, bins=20), q["entropy"], rtol=1e-12)
