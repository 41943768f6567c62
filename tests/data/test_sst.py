"""SST files: the fixture as copied by hand, and bad lines and labels named by line."""


import numpy as np
import pytest

from dance_tf.data import sst
from tests.conftest import FIXTURES
from tests.data.conftest import assert_refused

TRAIN = FIXTURES / "sst" / "stsa.binary.train"


def test_load_fixture():
    sentences, labels = sst.load(TRAIN)
    assert len(sentences) == 40 and labels.dtype == np.int64
    assert sorted(set(labels.tolist())) == [0, 1] and labels.sum() == 20
    # line 10 of stsa.binary.train, copied by hand
    assert sentences[0] == ["the", "film", "is", "strictly", "routine", "."] and labels[0] == 0


@pytest.mark.parametrize("text, message", [
    ("1 good movie\n0\n", "line 2 has a label but an empty sentence"),
    ("1 good movie\n\nbad movie\n", "line 3 does not start with an integer label"),
    ("\n\n", "no sentences"),
])
def test_bad_sst_lines(tmp_path, text, message):
    assert_refused(sst.load, tmp_path / "stsa.bad", text, message)


@pytest.mark.parametrize("label,kw,classes", [(str(10**30), {}, 5), ("7", {}, 5),
                                              ("2", {"num_classes": 2}, 2),
                                              ("-1", {"num_classes": 2}, 2)])
def test_sst_labels_checked_against_the_class_count(tmp_path, label, kw, classes):
    # before: 10**30 raised OverflowError without a file or line; 7 passed silently
    assert_refused(sst.load, tmp_path / "stsa.binary.dev", f"1 a fine film\n{label} not so fine\n",
                   rf"stsa\.binary\.dev: line 2.*{label}.*{classes} classes", **kw)
