"""dance_tf.data.glove: the GloVe text format, any dimension, and its bad inputs."""


import numpy as np
import pytest

from dance_tf.data import glove
from tests.conftest import FIXTURES
from tests.data.conftest import assert_refused

FIXTURE = FIXTURES / "glove" / "glove.6B.50d.fixture.txt"


def test_fixture_loads_in_file_order():
    words, vectors = glove.load(FIXTURE)
    assert len(words) == 205 and vectors.shape == (205, 50) and vectors.dtype == np.float32
    # GloVe 6B 50-d, first line of the official file, first and last values copied by hand
    assert words[0] == "the"
    np.testing.assert_allclose(vectors[0, :3], [0.418, 0.24968, -0.41242], rtol=0, atol=1e-6)
    np.testing.assert_allclose(vectors[0, -1], -0.78581, rtol=0, atol=1e-6)
    assert words.index("bad") > words.index("the")


def test_any_dimension(tmp_path):
    path = tmp_path / "tiny.3d.txt"
    path.write_text("good 1 2 3\nbad -1 0.5 1e-2\n", encoding="utf-8")
    words, vectors = glove.load(path)
    assert words == ["good", "bad"]
    np.testing.assert_array_equal(vectors, np.float32([[1, 2, 3], [-1, 0.5, 0.01]]))


@pytest.mark.parametrize("text, message", [
    ("2 3\ngood 1 2 3\nbad 1 2 3\n", "line 1 looks like a word2vec header"),
    ("good 1 2 3\nbad 1 2\n", "line 2 has 2 values, expected 3"),
    ("good 1 2 3\nok 1 2 3\nbad 1 2 3 4\n", "line 3 has 4 values"),
    ("good 1 2 3\nbad 1 x 3\n", "line 2 has a non-numeric value"),
    ("good 1 2 3\ngood 1 2 3\n", "line 2 repeats the word 'good' of line 1"),
    ("", "no vectors found"),
    ("lonely\n", "line 1 has a word but no vector values"),
])
def test_bad_files_name_the_line(tmp_path, text, message):
    assert_refused(glove.load, tmp_path / "bad.txt", text, message)


def test_glove_tab_separator_is_a_clear_error(tmp_path):
    assert_refused(glove.load, tmp_path / "g.txt", "the 0.1 0.2\ncat\t0.3\t0.4\n",
                   r"g\.txt: line 2.*tab")
