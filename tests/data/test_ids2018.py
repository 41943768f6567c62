"""dance_tf.data.ids2018: the sample, the published day-file quirks and bad inputs (S5)."""

import csv

import numpy as np
import pytest

from dance_tf.data import ids2018
from tests.conftest import FIXTURES

IDS_FIXTURES = FIXTURES / "ids2018"
DAY80 = IDS_FIXTURES / "day_80col.csv"
DAY84 = IDS_FIXTURES / "day_84col.csv"
SAMPLE = IDS_FIXTURES / "sample_rows.csv"


def reference_rows(path):
    """The fixture parsed with the csv module alone: {first 5 values: (row floats, label)}."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], [([float(v) for v in r[:-1]], r[-1]) for r in rows[1:]]


def test_sample_loads_with_published_feature_names():
    X, labels, names = ids2018.load_csv(SAMPLE)
    header, ref = reference_rows(SAMPLE)
    assert names == header[:-1] and len(names) == 78 and names == list(ids2018.FEATURES)
    assert X.shape == (52, 78) and X.dtype == np.float64
    np.testing.assert_array_equal(X, np.array([r for r, _ in ref]))
    assert labels == [lab for _, lab in ref]


def test_paper_classes_and_binary_target():
    table = ids2018.read_csv(SAMPLE, classes=ids2018.PAPER_CLASSES)
    assert len(table.labels) == 48 and table.dropped["other class"] == 4
    assert sorted(set(table.labels)) == sorted(ids2018.PAPER_CLASSES)
    y = ids2018.binary_target(["Benign", "Infilteration", "SSH-Bruteforce", "Benign"])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_day_file_80_columns_repeated_header_inf_nan_timestamp():
    table = ids2018.read_csv(DAY80)
    # 8 data rows + 1 repeated header; the Infinity row and the NaN row are dropped
    assert table.dropped == {"repeated header": 1, "non-finite": 2, "other class": 0}
    assert table.X.shape == (6, 78) and table.feature_names == list(ids2018.FEATURES)
    assert np.all(np.isfinite(table.X))
    np.testing.assert_array_equal(table.lines, [2, 3, 5, 7, 9, 10])
    # the same flows as lines 3 and 30 of sample.csv (first rows of the 79-column fixture)
    _, ref = reference_rows(SAMPLE)
    np.testing.assert_array_equal(table.X[0], ref[0][0])
    assert table.labels[:2] == ["Benign", "SSH-Bruteforce"]


def test_timestamp_as_seconds_and_nonfinite_zero():
    table = ids2018.read_csv(DAY80, timestamp="seconds", nonfinite="zero")
    assert table.X.shape == (8, 79) and table.feature_names[2] == "Timestamp"
    # 14/02/2018 08:31:00 UTC = 1518566400 (2018-02-14 00:00) + 8 h 31 min
    assert table.X[0, 2] == 1518566400 + 8 * 3600 + 31 * 60
    byts = table.feature_names.index("Flow Byts/s")
    assert table.X[2, byts] == 0.0 and table.X[5, byts] == 0.0  # Infinity, NaN → 0


def test_day_file_84_columns_identifiers():
    table = ids2018.read_csv(DAY84)
    assert table.feature_names == list(ids2018.FEATURES)
    assert table.X.shape == (5, 78) and table.dropped["repeated header"] == 1
    enc = ids2018.read_csv(DAY84, identifiers="encode", timestamp="seconds")
    assert enc.feature_names[:3] == ["Src IP", "Src Port", "Dst IP"]
    assert "Flow ID" not in enc.feature_names and len(enc.feature_names) == 82
    # 172.31.69.10 = 172·2^24 + 31·2^16 + 69·2^8 + 10
    assert enc.X[0, 0] == 172 * 2**24 + 31 * 2**16 + 69 * 2**8 + 10
    assert enc.X[0, 1] == 49000


def test_files_of_different_layouts_concatenate():
    X, labels, names = ids2018.load_csvs([SAMPLE, DAY80, DAY84])
    assert X.shape == (52 + 6 + 5, 78) and len(labels) == 63 and names == list(ids2018.FEATURES)


def rewrite(tmp_path, source, edit):
    with open(source, newline="") as handle:
        rows = list(csv.reader(handle))
    rows = edit(rows)
    path = tmp_path / "edited.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def test_missing_label_column(tmp_path):
    path = rewrite(tmp_path, SAMPLE, lambda rows: [r[:-1] for r in rows])
    with pytest.raises(ValueError, match="no 'Label' column"):
        ids2018.load_csv(path)


def test_unknown_label_names_the_line(tmp_path):
    def edit(rows):
        rows[4][-1] = "Martian attack"
        return rows
    with pytest.raises(ValueError, match="line 5: unknown label 'Martian attack'"):
        ids2018.load_csv(rewrite(tmp_path, SAMPLE, edit))


def test_unknown_column_is_named(tmp_path):
    def edit(rows):
        rows[0][3] = "Mystery Col"
        return rows
    with pytest.raises(ValueError, match=r"unknown columns \['Mystery Col'\]"):
        ids2018.load_csv(rewrite(tmp_path, SAMPLE, edit))


def test_non_numeric_value_names_line_and_column(tmp_path):
    def edit(rows):
        rows[2][2] = "fast"
        return rows
    with pytest.raises(ValueError, match="line 3, column 'Flow Duration': cannot read 'fast'"):
        ids2018.load_csv(rewrite(tmp_path, SAMPLE, edit))


def test_short_row_and_bad_options(tmp_path):
    path = rewrite(tmp_path, SAMPLE, lambda rows: rows[:3] + [rows[3][:10]])
    with pytest.raises(ValueError, match="line 4 has 10 fields, the header has 79"):
        ids2018.load_csv(path)
    with pytest.raises(ValueError, match="classes: unknown labels"):
        ids2018.load_csv(SAMPLE, classes=["Benign", "Infiltration"])
    with pytest.raises(ValueError, match="timestamp: expected one of"):
        ids2018.load_csv(SAMPLE, timestamp="keep")


def test_select_features_reorders_and_names_differences():
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ids2018.select_features(X, ["a", "b", "c"], ["c", "a", "b"]),
                                  X[:, [2, 0, 1]])
    with pytest.raises(ValueError, match=r"missing \['d'\], extra \['c'\]"):
        ids2018.select_features(X, ["a", "b", "c"], ["a", "b", "d"])


def test_rows_packed_in_chunks_give_the_same_array(monkeypatch):
    whole = ids2018.read_csv(DAY80)
    monkeypatch.setattr(ids2018, "CHUNK_ROWS", 4)
    chunked = ids2018.read_csv(DAY80)
    np.testing.assert_array_equal(chunked.X, whole.X)
    np.testing.assert_array_equal(chunked.lines, whole.lines)
