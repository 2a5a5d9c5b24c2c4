"""Make data/digits_split.csv: a fixed train/dev/test split of scikit-learn's 8x8 digits.

scikit-learn bundles the 1,797 images (no download). This file only says which image belongs
to which set: one row per image, in scikit-learn's order, with its label (to check that the
bundled copy is the one the split was made for) and its split, "train", "dev" or "test".

The split is 60 / 20 / 20 %, stratified by label (every set holds every digit in the same
proportion), made by scikit-learn's ``train_test_split`` with fixed seeds.

Run `python data/make_digits_split.py` to re-create the file; it is deterministic.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 6
CSV_PATH = Path(__file__).with_name("digits_split.csv")


def main(path: Path = CSV_PATH) -> None:
    labels = load_digits().target
    index = np.arange(labels.size)
    train, rest = train_test_split(index, train_size=0.6, stratify=labels, random_state=SEED)
    dev, test = train_test_split(rest, train_size=0.5, stratify=labels[rest],
                                 random_state=SEED + 1)
    split = np.empty(labels.size, dtype=object)
    for name, idx in (("train", train), ("dev", dev), ("test", test)):
        split[idx] = name
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "label", "split"])
        w.writerows(zip(index, labels, split))
    counts = {name: int((split == name).sum()) for name in ("train", "dev", "test")}
    print(f"wrote {labels.size} rows to {path}: {counts}")


if __name__ == "__main__":
    main()
