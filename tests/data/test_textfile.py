"""The text files of every loader (dance_tf.data.textfile, issue 13): a byte that is not
UTF-8 names the file and line, and a byte-order mark is dropped, for GloVe, SST and IDS."""

from __future__ import annotations

import numpy as np

from dance_tf.data import glove, ids2018, sst
from tests.conftest import FIXTURES
from tests.data.conftest import assert_refused


def test_glove_non_utf8_names_file_and_line(tmp_path):
    assert_refused(glove.load, tmp_path / "g.txt", b"the 0.1 0.2\nca\xff 0.3 0.4\n",
                   r"g\.txt: line 2.*UTF-8")


def test_sst_non_utf8_names_file_and_line(tmp_path):
    assert_refused(sst.load, tmp_path / "stsa.binary.dev", b"1 a fine film\n0 a d\xe9j\xe0 vu\n",
                   r"stsa\.binary\.dev: line 2.*UTF-8")


def test_ids_non_utf8_names_file_and_line(tmp_path):
    lines = (FIXTURES / "ids2018" / "sample_rows.csv").read_bytes().splitlines(keepends=True)
    content = (b"".join(lines[:3]) + lines[3].replace(b"Benign", b"B\xe9nign")
               + b"".join(lines[4:6]))
    assert_refused(ids2018.read_csv, tmp_path / "flows.csv", content,
                   r"flows\.csv: line 4.*UTF-8")


def test_glove_bom_is_handled(tmp_path):
    path = tmp_path / "g.txt"
    path.write_bytes(b"\xef\xbb\xbfthe 0.1 0.2\ncat 0.3 0.4\n")
    words, vectors = glove.load(path)
    assert words == ["the", "cat"]
    np.testing.assert_allclose(vectors, [[0.1, 0.2], [0.3, 0.4]], rtol=1e-6)


def test_sst_bom_is_handled(tmp_path):
    path = tmp_path / "stsa.binary.dev"
    path.write_bytes(b"\xef\xbb\xbf1 a fine film\n0 dull\n")
    sentences, labels = sst.load(path, num_classes=2)
    assert sentences == [["a", "fine", "film"], ["dull"]] and labels.tolist() == [1, 0]


def test_ids_bom_is_handled(tmp_path):
    src = FIXTURES / "ids2018" / "sample_rows.csv"
    path = tmp_path / "flows.csv"
    path.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    X, _, names = ids2018.load_csv(path)
    X0, _, _ = ids2018.load_csv(src)
    assert names[0] == "Dst Port"
    np.testing.assert_array_equal(X, X0)
