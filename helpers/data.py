"""The course's data sets, made reproducibly.

Every loader returns arrays in the course's layout: X (n_x, m) with examples as columns, labels
Y (1, m). Randomness comes from an explicit ``seed`` so that every run draws the same points;
the goalkeeper kicks and the digits' train/dev/test split ship as files in data/, so no learner
receives code that splits a data set (that is notebook 02's exercise).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _columns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(X.T, dtype=float), y.reshape(1, -1).astype(float)


def load_circles(n_train: int = 300, n_test: int = 100, noise: float = 0.05,
                 seed: int = 1) -> tuple[np.ndarray, ...]:
    """Two concentric rings of points (scikit-learn's make_circles): X (2, m), Y (1, m).

    Returns (X_train, Y_train, X_test, Y_test)."""
    from sklearn.datasets import make_circles

    X, y = make_circles(n_train + n_test, noise=noise, factor=0.5, random_state=seed)
    X, Y = _columns(X, y)
    return X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:]


def load_moons(n_train: int = 300, n_test: int = 100, noise: float = 0.2,
               seed: int = 3) -> tuple[np.ndarray, ...]:
    """Two interleaving half-moons (scikit-learn's make_moons): X (2, m), Y (1, m).

    Returns (X_train, Y_train, X_test, Y_test)."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_train + n_test, noise=noise, random_state=seed)
    X, Y = _columns(X, y)
    return X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:]


def _shipped_rows(path: Path | str | None, name: str, maker: str) -> list[dict[str, str]]:
    """The rows of data/``name`` (or of ``path``), or an error that says how to make it."""
    path = Path(path) if path is not None else DATA_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: it ships with the course in data/ "
                                f"(re-create it with `python data/{maker}`)")
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def load_goalkeeper(path: Path | str | None = None) -> tuple[np.ndarray, ...]:
    """The goalkeeper data set (data/goalkeeper.csv, made by data/make_goalkeeper.py).

    Where on the field (x1, x2) the goalkeeper kicked the ball, and whether one of our
    players (1) or the other team (0) headed it. Returns (X_train, Y_train, X_test, Y_test).
    """
    rows = _shipped_rows(path, "goalkeeper.csv", "make_goalkeeper.py")
    out = []
    for split in ("train", "test"):
        sel = [r for r in rows if r["split"] == split]
        X = np.array([[float(r["x1"]), float(r["x2"])] for r in sel]).T
        Y = np.array([[float(r["label"]) for r in sel]])
        out += [X, Y]
    return tuple(out)


def load_digits(path: Path | str | None = None) -> tuple[np.ndarray, ...]:
    """scikit-learn's bundled 8x8 digits (1,797 images, offline) in the course's fixed
    train / dev / test split (data/digits_split.csv, made by data/make_digits_split.py).

    Returns (X_train, labels_train, X_dev, labels_dev, X_test, labels_test): X (64, m) with
    pixel values 0..16, labels (1, m) as integers 0..9.
    """
    from sklearn.datasets import load_digits as _load

    rows = _shipped_rows(path, "digits_split.csv", "make_digits_split.py")
    d = _load()
    index = np.array([int(r["index"]) for r in rows])
    if len(rows) != d.target.size or not np.array_equal(
            d.target[index], [int(r["label"]) for r in rows]):
        raise ValueError(f"{path or 'data/digits_split.csv'} does not describe scikit-learn's "
                         "digits (its labels differ): re-create it with "
                         "`python data/make_digits_split.py`")
    split = np.array([r["split"] for r in rows])
    out = []
    for name in ("train", "dev", "test"):
        idx = index[split == name]
        out += [np.ascontiguousarray(d.data[idx].T, dtype=float),
                d.target[idx].reshape(1, -1).astype(int)]
    return tuple(out)
