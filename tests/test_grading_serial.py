"""Our parallel autograde gives exactly the scores of a plain serial `nbgrader autograde` (run with
grading/nbgrader_config.py) on honest submissions; and without the stderr filter nbgrader would
take a point from a correct answer that merely warns."""

from __future__ import annotations

import io
import shutil
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from grading import course as C
from tests import serial_nbgrader as serial

FIXTURE = Path(__file__).parent / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURE))
import make_submissions as M  # noqa: E402 - the fixtures' one module object

AID = M.AID
HONEST = ["correct", "partial", "untouched", "crashing"]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading_serial")]


def test_parallel_equals_serial_nbgrader(tmp_path):
    course, subs = M.collected_course(tmp_path, {s: s for s in HONEST})
    serial_root = tmp_path / "serial"
    shutil.copytree(course.root, serial_root)
    with redirect_stdout(io.StringIO()):
        outcomes = C.autograde(course, workers=2)
    r = serial.autograde(serial_root, AID, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    ours, theirs = serial.auto_scores(course.db_path), serial.auto_scores(serial_root / "gradebook.db")
    assert len(ours) == 3 * len(HONEST)
    assert ours == theirs
    for student in HONEST:
        assert outcomes[(student, AID)].score == subs[student][1]

    # the same serial nbgrader, without the stderr filter: the warning costs test_clip01
    r = serial.autograde(serial_root, AID, "--student=correct", "--IgnorePattern.enabled=False",
                         timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    unfiltered = serial.auto_scores(serial_root / "gradebook.db")
    assert unfiltered[("correct", AID, "test_clip01")] == 0.0
    assert ours[("correct", AID, "test_clip01")] == 1.0
