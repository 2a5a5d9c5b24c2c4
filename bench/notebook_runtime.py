"""Wall time of each source notebook run top to bottom (nbclient, one fresh kernel each),
beside the target its issue sets. Printed, never asserted.

Run: .venv/bin/python bench/notebook_runtime.py [prefix ...]   e.g. `... 01 05`
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
# Targets from the notebooks' issues, in seconds, by file-name prefix.
TARGETS = {"01": 30, "02": 45, "03": 45, "04": 30, "05": 60, "06": 60, "07": 60, "08": 30}


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, HELPERS_PROGRESS="0",
               MPLBACKEND="module://matplotlib_inline.backend_inline",
               TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - t0


def main(prefixes: list[str]) -> None:
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in prefixes)]
    print(f"{'notebook':40s} {'seconds':>8s} {'target':>7s}  met")
    for p in paths:
        secs = run(p)
        target = TARGETS.get(p.name[:2])
        met = "yes" if target and secs < target else ("no" if target else "-")
        print(f"{p.name:40s} {secs:8.1f} {target or '-':>7}  {met}")


if __name__ == "__main__":
    main(sys.argv[1:])
