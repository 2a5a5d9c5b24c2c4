"""A plain serial ``nbgrader autograde`` (with grading/nbgrader_config.py): the reference whose
scores our grader must equal on honest submissions. Shared by tests/test_grading_serial.py and
bench/grading_speed.py; import it as ``from tests.serial_nbgrader import …``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from grading.settings import KERNEL_ENV, REPO

BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def autograde(root: Path, assignment: str, *args: str, one_blas_thread: bool = True,
              timeout: float | None = None) -> subprocess.CompletedProcess:
    """``nbgrader autograde ASSIGNMENT --force *args`` on the course at ``root``, run from
    grading/ (its nbgrader_config.py) with this interpreter. The kernels get the grader's
    environment (KERNEL_ENV) except NBGRADER_EXECUTION; ``one_blas_thread=False`` also drops the
    BLAS thread limits, so a lone serial kernel may use every core."""
    env = {**os.environ, **KERNEL_ENV}
    env.pop("NBGRADER_EXECUTION", None)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    if not one_blas_thread:
        for k in BLAS_THREADS:
            env.pop(k, None)
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force",
         f"--CourseDirectory.root={root}", *args],
        cwd=REPO / "grading", env=env, capture_output=True, text=True, timeout=timeout,
    )


def auto_scores(db_path: Path) -> dict[tuple[str, str, str], float]:
    """{(student, notebook, test cell): automatic score} of an nbgrader gradebook (cells with no
    automatic score left out)."""
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute(
            """SELECT student.id, assignment.name, base_cell.name, grade.auto_score FROM grade
               JOIN base_cell ON grade.cell_id = base_cell.id
               JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
               JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
               JOIN assignment ON submitted_assignment.assignment_id = assignment.id
               JOIN student ON submitted_assignment.student_id = student.id"""
        ).fetchall()
    finally:
        db.close()
    return {(s, a, g): float(x) for s, a, g, x in rows if x is not None}
