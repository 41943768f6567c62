"""The embedded default: the digits CNN trains to a useful accuracy and the README runs."""

import re

import numpy as np

from dance_tf.data import digits
from tests.conftest import ROOT

README = ROOT / "README.md"


def test_digits_data_is_real_and_split():
    x_tr, y_tr, x_te, y_te = digits.load()
    assert x_tr.shape[1:] == (32, 32, 1) and len(x_tr) + len(x_te) == 1797
    assert 0.0 <= x_tr.min() and x_tr.max() <= 1.0
    assert set(np.unique(y_te)) == set(range(10))


def test_readme_example_runs_and_model_is_accurate(monkeypatch, tmp_path):
    monkeypatch.setenv("DANCE_TF_MODELS", str(tmp_path))
    from dance_tf.models import digits as digits_cnn

    model = digits_cnn.load(progress=lambda *_: None)
    _, _, x_te, y_te = digits.load()
    acc = np.mean(np.argmax(model.predict(x_te, verbose=0), -1) == y_te)
    assert acc >= 0.95
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - our own README
    assert scope["sal"].shape == (32, 32, 1)
    assert scope["maps"].shape == (8, 32, 32, 1)
    assert scope["without"].shape == (8, 32, 32, 1)
    assert scope["res"].certified.all()
