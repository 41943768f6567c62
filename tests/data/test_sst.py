"""SST files, the PTB tokenizer and the embedding lookup (OOV and padding policy)."""


import numpy as np
import pytest

from dance_tf.data import glove, sst
from dance_tf.data.embedding import EmbeddingTable
from dance_tf.data.tokenize import tokenize
from tests.conftest import FIXTURES

TRAIN = FIXTURES / "sst" / "stsa.binary.train"
DEV = FIXTURES / "sst" / "stsa.binary.dev"
GLOVE = FIXTURES / "glove" / "glove.6B.50d.fixture.txt"


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
    path = tmp_path / "stsa.bad"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        sst.load(path)


@pytest.mark.parametrize("raw, expected", [
    ("It's not (quite) a writer/director's film.",
     "it 's not -lrb- quite -rrb- a writer\\/director 's film ."),
    ('Mr. Deeds won\'t "wow" you, can\'t you see?',
     "mr. deeds wo n't `` wow '' you , ca n't you see ?"),
    ("The students' '70s show -- all 1,000 minutes... of it!",
     "the students ' '70s show -- all 1,000 minutes ... of it !"),
    ("A coming-of-age tale, by E.T. and Ms. Jones; 90% fun.",
     "a coming-of-age tale , by e.t. and ms. jones ; 90 % fun ."),
    ("\u201cGreat\u201d film\u2026 isn\u2019t it?", "`` great '' film ... is n't it ?"),
])
def test_tokenizer_matches_ptb_style_of_the_files(raw, expected):
    assert tokenize(raw) == expected.split(" ")


def test_tokenizer_is_identity_on_the_files_tokens():
    for path in (TRAIN, DEV):
        for tokens in sst.load(path)[0]:
            assert tokenize(" ".join(tokens)) == tokens


def small_table():
    words = ["good", "(", "/", "bad"]
    vectors = np.float32([[1.0, -2.0], [0.5, 0.5], [3.0, 1.0], [-1.0, 4.0]])
    return EmbeddingTable(words, vectors)


def test_oov_rows_are_zero_and_aliases_resolve():
    table = small_table()
    x = table.embed_one(["good", "-lrb-", "unknownword", "a\\/b", "\\/", "bad"])
    expected = np.float32([[1, -2], [0.5, 0.5], [0, 0], [0, 0], [3, 1], [-1, 4]])
    np.testing.assert_array_equal(x, expected)


def test_value_range_is_per_dimension_and_includes_zero():
    lo, hi = small_table().value_range
    np.testing.assert_array_equal(lo, [-1.0, -2.0])
    np.testing.assert_array_equal(hi, [3.0, 4.0])
    vectors = np.float32([[1.0, 2.0], [3.0, 5.0]])  # all positive: zero widens the range
    lo, hi = EmbeddingTable(["a", "b"], vectors).value_range
    np.testing.assert_array_equal(lo, [0.0, 0.0])
    np.testing.assert_array_equal(hi, [3.0, 5.0])


def test_batch_is_zero_padded_at_the_end():
    batch = small_table().embed([["good"], "Bad good (bad)"])
    assert batch.shape == (2, 5, 2)
    np.testing.assert_array_equal(batch[0, 1:], 0.0)
    np.testing.assert_array_equal(batch[1, 2], [0.5, 0.5])  # "(" → -lrb- → "("


@pytest.mark.parametrize("sentence, message", [
    ("", "sentence is empty"),
    ([], "sentence is empty"),
    ("zzz qqq", "only out-of-vocabulary tokens"),
])
def test_bad_sentences(sentence, message):
    with pytest.raises(ValueError, match=message):
        small_table().embed_one(sentence)


def test_real_fixture_oov_sentence():
    words, vectors = glove.load(GLOVE)
    table = EmbeddingTable(words, vectors)
    sentences, _ = sst.load(DEV)
    tokens = sentences[-1]  # "-lrb- a -rrb- shapeless blob of desperate entertainment ."
    x = table.embed_one(tokens)
    assert x.shape == (len(tokens), 50)
    oov = [i for i, t in enumerate(tokens) if t in ("-lrb-", "-rrb-")]
    assert oov == [0, 2]
    np.testing.assert_array_equal(x[oov], 0.0)
    np.testing.assert_array_equal(x[1], vectors[words.index("a")])
