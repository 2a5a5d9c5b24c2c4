"""Our parallel autograde gives exactly the scores of a plain serial `nbgrader autograde` (run with
grading/nbgrader_config.py) on honest submissions; and without the stderr filter nbgrader would
take a point from a correct answer that merely warns."""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from grading import course as C
from grading.settings import KERNEL_ENV, REPO, Course

FIXTURE = Path(__file__).parent / "fixtures" / "grading"
_spec = importlib.util.spec_from_file_location("make_submissions", FIXTURE / "make_submissions.py")
M = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(M)
AID = M.AID
HONEST = ["correct", "partial", "untouched", "crashing"]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading_serial")]


def auto_scores(db_path: Path) -> dict[tuple[str, str], float]:
    db = sqlite3.connect(db_path)
    rows = db.execute(
        """SELECT student.id, base_cell.name, grade.auto_score FROM grade
           JOIN base_cell ON grade.cell_id = base_cell.id
           JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
           JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
           JOIN student ON submitted_assignment.student_id = student.id"""
    ).fetchall()
    db.close()
    return {(s, g): float(a) for s, g, a in rows if a is not None}


def nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, **KERNEL_ENV, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    env.pop("NBGRADER_EXECUTION", None)
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", AID, "--force",
         f"--CourseDirectory.root={root}", *args],
        cwd=REPO / "grading", env=env, capture_output=True, text=True, timeout=600,
    )


def test_parallel_equals_serial_nbgrader(tmp_path):
    course = Course(source_dir=FIXTURE / "notebooks", root=tmp_path / "ours", workspace=tmp_path / "ws",
                    extra_dirs=())
    with redirect_stdout(io.StringIO()):
        C.release(course)
        subs = M.submissions(course.root / "release" / AID / f"{AID}.ipynb")
        for student in HONEST:
            d = tmp_path / "subs" / student
            d.mkdir(parents=True)
            (d / f"{AID}.ipynb").write_text(C.nbformat.writes(subs[student][0]))
        C.collect(course, tmp_path / "subs")
        serial_root = tmp_path / "serial"
        shutil.copytree(course.root, serial_root)
        outcomes = C.autograde(course, workers=2)
    r = nbgrader(serial_root)
    assert r.returncode == 0, r.stderr[-3000:]
    ours, theirs = auto_scores(course.db_path), auto_scores(serial_root / "gradebook.db")
    assert len(ours) == 3 * len(HONEST)
    assert ours == theirs
    for student in HONEST:
        assert outcomes[(student, AID)].score == subs[student][1]

    # the same serial nbgrader, without the stderr filter: the warning costs test_clip01
    r = nbgrader(serial_root, "--student=correct", "--IgnorePattern.enabled=False")
    assert r.returncode == 0, r.stderr[-3000:]
    unfiltered = auto_scores(serial_root / "gradebook.db")
    assert unfiltered[("correct", "test_clip01")] == 0.0
    assert ours[("correct", "test_clip01")] == 1.0
