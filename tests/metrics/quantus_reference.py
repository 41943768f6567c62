"""Quantus 0.6.0's numpy-level metric functions on arrays from an .npz (run as a script).

    python quantus_reference.py QUANTUS_DIR IN.npz OUT.npz

Quantus pins keras < 3, so it is never imported into the test process: this script runs
in a subprocess with TensorFlow and Keras blocked and quantus' unused imports (pandas,
cv2, scikit-image, cachetools) stubbed, and calls only functions that need numpy and scipy.
Exit code 3: quantus cannot be imported here.
"""

import sys
import types

import numpy as np


def _stub_unused_imports():
    for name in ("pandas", "cv2", "cachetools", "skimage", "skimage.segmentation",
                 "skimage.metrics"):
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
    sys.modules["pandas"].Series = type("Series", (), {})
    sys.modules["pandas"].DataFrame = type("DataFrame", (), {})
    sys.modules["skimage"].segmentation = sys.modules["skimage.segmentation"]
    sys.modules["skimage"].metrics = sys.modules["skimage.metrics"]
    sys.modules["skimage.segmentation"].slic = None
    sys.modules["skimage.segmentation"].felzenszwalb = None
    sys.modules["skimage.metrics"].structural_similarity = None
    sys.modules["cachetools"].cachedmethod = lambda *a, **k: (lambda f: f)
    sys.modules["cachetools"].LRUCache = object
    for blocked in ("tensorflow", "keras"):
        sys.modules[blocked] = None


def main(quantus_dir: str, src: str, dst: str) -> int:
    _stub_unused_imports()
    sys.path.insert(0, quantus_dir)
    try:
        import quantus
        from quantus.functions.complexity_func import discrete_entropy
        from quantus.functions.perturb_func import noisy_linear_imputation
    except Exception as err:  # noqa: BLE001 — any import failure means "not available"
        print(f"quantus not importable: {err!r}", file=sys.stderr)
        return 3
    d = np.load(src)
    maps, masks = d["maps"], d["masks"]                       # (N, H, W), (N, H, W)
    a, s = maps[:, None], masks[:, None].astype(float)        # Quantus: (N, 1, H, W)
    out = {
        "version": np.array(quantus.__version__),
        "sparseness": np.asarray(quantus.Sparseness(disable_warnings=True).evaluate_batch(
            x_batch=a, a_batch=np.abs(a))),
        "pointing": np.asarray(quantus.PointingGame(disable_warnings=True).evaluate_batch(
            a_batch=a, s_batch=s), dtype=float),
        "mass": np.asarray(quantus.RelevanceMassAccuracy(disable_warnings=True)
                           .evaluate_batch(a_batch=a, s_batch=s)),
        "entropy": np.array([discrete_entropy(np.abs(m).ravel(), m, n_bins=20)
                             for m in maps]),
    }
    image, removed = d["image"], d["removed"]                  # (H, W, C), (H, W)
    chw = np.transpose(image, (2, 0, 1))
    imputed = noisy_linear_imputation(chw, np.flatnonzero(removed.ravel()), noise=0.0)
    out["imputed"] = np.transpose(imputed, (1, 2, 0))
    np.savez(dst, **out)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
