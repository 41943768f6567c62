"""CSE-CIC-IDS2018 flow records as CICFlowMeter writes them (S5, S8).

The published day files are CSVs with one flow a row: 80 columns (``Dst Port``,
``Protocol``, ``Timestamp``, 76 more flow statistics, ``Label``); one day has 84, adding
``Flow ID``, ``Src IP``, ``Src Port`` and ``Dst IP`` (the paper's 83 features). Files
repeat the header row inside the data, and hold ``Infinity`` and ``NaN`` values. The
offline sample of this project has 79 columns (no ``Timestamp``). All load here.

Cleaning policy (defaults give the same 78 features, in the published order, for every
variant, so one trained model reads them all):

- **Repeated header rows** (a row equal to the header) and blank rows are skipped.
- **Timestamp** (``dd/mm/YYYY HH:MM:SS``): ``timestamp="drop"`` (default) removes it — the
  time of a capture identifies the attack day rather than the flow, which S8 notes the
  baselines wrongly rank high; ``"seconds"`` keeps it as seconds since 1970-01-01 (UTC).
- **Identifiers**: ``Flow ID`` is always dropped (it concatenates the five-tuple);
  ``identifiers="drop"`` (default) also drops ``Src IP``, ``Src Port`` and ``Dst IP``;
  ``"encode"`` keeps them, IPv4 addresses as their 32-bit integer value.
- **Inf / NaN** (``Infinity``, ``inf``, ``NaN``, empty cells): ``nonfinite="drop"``
  (default) drops the row, as the publisher of the sample did; ``"zero"`` sets them to 0.
- **Labels** must be among :data:`KNOWN_LABELS` (the dataset's own spellings, e.g.
  ``Infilteration``); ``classes=`` keeps only the rows of the given labels
  (:data:`PAPER_CLASSES` is the paper's subset). :func:`binary_target` maps
  Benign → 0, any attack → 1 (the paper's target).
- Any other column, a missing ``Label`` column, a label outside the known set, a
  non-numeric value or bytes that are not valid in the encoding is an error naming the
  file and the column or line. A UTF-8 byte-order mark is ignored; a path that is not a
  regular file is refused.
"""

from __future__ import annotations

import csv
import ipaddress
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from dance_tf.data.textfile import lines as text_lines

#: the 78 flow features of the published files, in their published order
FEATURES: tuple[str, ...] = (
    "Dst Port", "Protocol", "Flow Duration", "Tot Fwd Pkts", "Tot Bwd Pkts",
    "TotLen Fwd Pkts", "TotLen Bwd Pkts", "Fwd Pkt Len Max", "Fwd Pkt Len Min",
    "Fwd Pkt Len Mean", "Fwd Pkt Len Std", "Bwd Pkt Len Max", "Bwd Pkt Len Min",
    "Bwd Pkt Len Mean", "Bwd Pkt Len Std", "Flow Byts/s", "Flow Pkts/s", "Flow IAT Mean",
    "Flow IAT Std", "Flow IAT Max", "Flow IAT Min", "Fwd IAT Tot", "Fwd IAT Mean",
    "Fwd IAT Std", "Fwd IAT Max", "Fwd IAT Min", "Bwd IAT Tot", "Bwd IAT Mean",
    "Bwd IAT Std", "Bwd IAT Max", "Bwd IAT Min", "Fwd PSH Flags", "Bwd PSH Flags",
    "Fwd URG Flags", "Bwd URG Flags", "Fwd Header Len", "Bwd Header Len", "Fwd Pkts/s",
    "Bwd Pkts/s", "Pkt Len Min", "Pkt Len Max", "Pkt Len Mean", "Pkt Len Std",
    "Pkt Len Var", "FIN Flag Cnt", "SYN Flag Cnt", "RST Flag Cnt", "PSH Flag Cnt",
    "ACK Flag Cnt", "URG Flag Cnt", "CWE Flag Count", "ECE Flag Cnt", "Down/Up Ratio",
    "Pkt Size Avg", "Fwd Seg Size Avg", "Bwd Seg Size Avg", "Fwd Byts/b Avg",
    "Fwd Pkts/b Avg", "Fwd Blk Rate Avg", "Bwd Byts/b Avg", "Bwd Pkts/b Avg",
    "Bwd Blk Rate Avg", "Subflow Fwd Pkts", "Subflow Fwd Byts", "Subflow Bwd Pkts",
    "Subflow Bwd Byts", "Init Fwd Win Byts", "Init Bwd Win Byts", "Fwd Act Data Pkts",
    "Fwd Seg Size Min", "Active Mean", "Active Std", "Active Max", "Active Min",
    "Idle Mean", "Idle Std", "Idle Max", "Idle Min",
)
TIMESTAMP = "Timestamp"
LABEL = "Label"
FLOW_ID = "Flow ID"
IDENTIFIERS: tuple[str, ...] = ("Src IP", "Src Port", "Dst IP")
IP_COLUMNS = ("Src IP", "Dst IP")
KNOWN_COLUMNS = frozenset(FEATURES + IDENTIFIERS + (TIMESTAMP, LABEL, FLOW_ID))

BENIGN = "Benign"
#: every label of CSE-CIC-IDS2018, spelled as the dataset spells them
KNOWN_LABELS: tuple[str, ...] = (
    "Benign", "Bot", "Brute Force -Web", "Brute Force -XSS", "DDOS attack-HOIC",
    "DDOS attack-LOIC-UDP", "DDoS attacks-LOIC-HTTP", "DoS attacks-GoldenEye",
    "DoS attacks-Hulk", "DoS attacks-SlowHTTPTest", "DoS attacks-Slowloris",
    "FTP-BruteForce", "Infilteration", "SQL Injection", "SSH-Bruteforce",
)
#: the paper's subset (S5): benign traffic and three attacks
PAPER_CLASSES: tuple[str, ...] = ("Benign", "DoS attacks-Hulk", "SSH-Bruteforce",
                                  "Infilteration")
TIMESTAMP_FORMAT = "%d/%m/%Y %H:%M:%S"
CHUNK_ROWS = 50_000


@dataclass
class FlowTable:
    """Cleaned flows before scaling (what :func:`read_csv` returns).

    X : float64 (N, F), finite; labels : N label strings; feature_names : F column names;
    lines : (N,) int, the 1-based file line of each row; dropped : counts of skipped rows
    by reason (``"repeated header"``, ``"non-finite"``, ``"other class"``).
    """

    X: np.ndarray
    labels: list[str]
    feature_names: list[str]
    lines: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)


def _timestamp_seconds(value: str) -> float:
    stamp = datetime.strptime(value.strip(), TIMESTAMP_FORMAT)
    return stamp.replace(tzinfo=timezone.utc).timestamp()


def _ip_number(value: str) -> float:
    return float(int(ipaddress.ip_address(value.strip())))


def _check_header(path, header: list[str]) -> None:
    if LABEL not in header:
        raise ValueError(f"{path}: no {LABEL!r} column; columns are {header}")
    unknown = [name for name in header if name not in KNOWN_COLUMNS]
    if unknown:
        raise ValueError(f"{path}: unknown columns {unknown} (expected CICFlowMeter columns)")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValueError(f"{path}: repeated columns {repeated}")


def _check_choice(name: str, value: str, choices: Iterable[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {tuple(choices)}, got {value!r}")


def read_csv(path: str | os.PathLike, *, classes: Sequence[str] | None = None,
             timestamp: str = "drop", identifiers: str = "drop", nonfinite: str = "drop",
             encoding: str = "utf-8") -> FlowTable:
    """Read and clean one CICFlowMeter CSV (policy in the module docstring).

    Parameters
    ----------
    path : a day file as published, or the 79-column sample.
    classes : keep only rows with these labels (None: all known labels).
    timestamp : ``"drop"`` or ``"seconds"``.
    identifiers : ``"drop"`` or ``"encode"``.
    nonfinite : ``"drop"`` (rows) or ``"zero"``.
    """
    _check_choice("timestamp", timestamp, ("drop", "seconds"))
    _check_choice("identifiers", identifiers, ("drop", "encode"))
    _check_choice("nonfinite", nonfinite, ("drop", "zero"))
    if classes is not None:
        unknown = [c for c in classes if c not in KNOWN_LABELS]
        if unknown:
            raise ValueError(f"classes: unknown labels {unknown}; known: {list(KNOWN_LABELS)}")
        wanted = set(classes)
    reader = csv.reader(text for _, text in text_lines(path, encoding, what="CSV file"))
    header = next(reader, None)
    if header is None:
        raise ValueError(f"{path}: empty file")
    header = [name.strip() for name in header]
    _check_header(path, header)
    label_col = header.index(LABEL)
    kept = [j for j, name in enumerate(header) if name != LABEL and name != FLOW_ID
            and not (name == TIMESTAMP and timestamp == "drop")
            and not (name in IDENTIFIERS and identifiers == "drop")]
    names = [header[j] for j in kept]
    parsers = [_timestamp_seconds if header[j] == TIMESTAMP else
               _ip_number if header[j] in IP_COLUMNS else float for j in kept]
    rows: list[list[float]] = []
    blocks: list[np.ndarray] = []  # rows packed every CHUNK_ROWS to bound memory
    labels: list[str] = []
    lines: list[int] = []
    dropped = {"repeated header": 0, "non-finite": 0, "other class": 0}
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row]
        if cells == header:
            dropped["repeated header"] += 1
            continue
        if len(cells) != len(header):
            raise ValueError(f"{path}: line {line} has {len(cells)} fields, "
                             f"the header has {len(header)}")
        label = cells[label_col]
        if label not in KNOWN_LABELS:
            raise ValueError(f"{path}: line {line}: unknown label {label!r}; "
                             f"known: {list(KNOWN_LABELS)}")
        if classes is not None and label not in wanted:
            dropped["other class"] += 1
            continue
        values = []
        for j, parse in zip(kept, parsers, strict=True):
            cell = cells[j]
            try:
                values.append(parse(cell) if cell else math.nan)
            except ValueError:
                raise ValueError(f"{path}: line {line}, column {header[j]!r}: "
                                 f"cannot read {cell!r} as a number") from None
        if not all(math.isfinite(v) for v in values):
            if nonfinite == "drop":
                dropped["non-finite"] += 1
                continue
            values = [v if math.isfinite(v) else 0.0 for v in values]
        rows.append(values)
        labels.append(label)
        lines.append(line)
        if len(rows) >= CHUNK_ROWS:
            blocks.append(np.asarray(rows, dtype=np.float64))
            rows = []
    blocks.append(np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names)))
    X = np.concatenate(blocks)
    return FlowTable(X, labels, names, np.asarray(lines, dtype=np.int64), dropped)


def load_csv(path: str | os.PathLike, **options) -> tuple[np.ndarray, list[str], list[str]]:
    """Load one CSV: (X float64 (N, F), labels list of N str, feature_names list of F str).

    Cleaned (no header repeats, finite values, known labels), not scaled. ``options`` are
    those of :func:`read_csv` (``classes``, ``timestamp``, ``identifiers``, ``nonfinite``).
    """
    table = read_csv(path, **options)
    return table.X, table.labels, table.feature_names


def load_csvs(paths: Sequence[str | os.PathLike], **options
              ) -> tuple[np.ndarray, list[str], list[str]]:
    """Concatenate several CSVs whose cleaned features are the same columns (any order).

    Raises ValueError naming the file whose columns differ from the first file's.
    """
    parts = [read_csv(p, **options) for p in paths]
    names = parts[0].feature_names
    blocks = []
    for path, part in zip(paths, parts, strict=True):
        blocks.append(select_features(part.X, part.feature_names, names, source=str(path)))
    labels = [label for part in parts for label in part.labels]
    return np.concatenate(blocks), labels, list(names)


def select_features(X: np.ndarray, names: Sequence[str], wanted: Sequence[str],
                    source: str = "X") -> np.ndarray:
    """Columns of X (N, len(names)) reordered to ``wanted``; extra or missing columns are
    an error naming them."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != len(names):
        raise ValueError(f"{source}: expected (N, {len(names)}) features, got {X.shape}")
    missing = [n for n in wanted if n not in names]
    extra = [n for n in names if n not in wanted]
    if missing or extra:
        raise ValueError(f"{source}: feature columns differ; missing {missing}, extra {extra}")
    return X[:, [list(names).index(n) for n in wanted]]


def binary_target(labels: Sequence[str]) -> np.ndarray:
    """Benign → 0, any attack → 1; int64 (N,) (the paper's benign/attack task, S5)."""
    return np.asarray([0 if label == BENIGN else 1 for label in labels], dtype=np.int64)
