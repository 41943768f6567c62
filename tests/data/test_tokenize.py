"""The PTB tokenizer of the SST files: raw text tokenised like the files, and the files'
own tokens given back unchanged."""

import pytest

from dance_tf.data import sst
from dance_tf.data.tokenize import tokenize
from tests.conftest import FIXTURES

TRAIN = FIXTURES / "sst" / "stsa.binary.train"
DEV = FIXTURES / "sst" / "stsa.binary.dev"


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
