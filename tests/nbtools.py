"""Run pieces of a source notebook in-process, to test its autograder cells.

``run_test(nb, "test_f", replace={"f": src})`` executes the notebook's setup cells, every
solution cell (with the solution cell ``f`` replaced by ``src``, e.g. a plausible mistake or a
correct solution in another style), then the test cell ``test_f``; it returns (passed, message).
This is how the tests show that each autograder test rejects the classic mistakes and accepts
every correct solution.

Conventions of the source notebooks that this relies on:
* setup cells: code cells whose nbgrader grade_id starts with "setup" (imports, data, seeds);
* solution cells: nbgrader ``solution: true``, grade_id = the function's name;
* test cells: nbgrader ``grade: true``, grade_id = ``test_<function>``;
* none of these cells uses IPython magics (lines starting with % or ! are skipped anyway).
"""

from __future__ import annotations

import os
import textwrap
from functools import cache
from pathlib import Path

import nbformat

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HELPERS_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def notebook_path(prefix: str) -> Path:
    """The source notebook whose file name starts with ``prefix`` (e.g. "02")."""
    found = sorted(NOTEBOOKS.glob(f"{prefix}*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no notebook notebooks/{prefix}*.ipynb")
    return found[0]


@cache
def _cells(path: str) -> tuple:
    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        gid = meta.get("grade_id", "")
        kind = ("solution" if meta.get("solution") else "test" if meta.get("grade")
                else "setup" if gid.startswith("setup") else "other")
        out.append((kind, gid, cell.source))
    return tuple(out)


def cells(path: Path | str, kind: str | None = None) -> list[tuple[str, str, str]]:
    """[(kind, grade_id, source)] of the notebook's code cells, optionally of one kind."""
    return [c for c in _cells(str(path)) if kind is None or c[0] == kind]


def _clean(src: str) -> str:
    return "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))


def namespace(path: Path | str, replace: dict[str, str] | None = None) -> dict:
    """Execute setup cells and solution cells (some replaced) in a fresh namespace."""
    replace = replace or {}
    ns: dict = {"__name__": "__main__"}
    for kind, gid, src in cells(path):
        if kind == "setup":
            exec(compile(_clean(src), f"<{gid}>", "exec"), ns)
        elif kind == "solution":
            src = textwrap.dedent(replace.get(gid, src))
            exec(compile(_clean(src), f"<{gid}>", "exec"), ns)
    return ns


def run_test(path: Path | str, test_id: str, replace: dict[str, str] | None = None,
             ns: dict | None = None) -> tuple[bool, str]:
    """Run test cell ``test_id`` after the setup and solution cells; (passed, message)."""
    src = {gid: s for kind, gid, s in cells(path, "test")}
    if test_id not in src:
        raise KeyError(f"{path} has no test cell {test_id!r}; it has {sorted(src)}")
    ns = dict(ns) if ns is not None else namespace(path, replace)
    try:
        exec(compile(_clean(src[test_id]), f"<{test_id}>", "exec"), ns)
    except Exception as exc:  # a failing test: AssertionError, or the learner's code raising
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""
