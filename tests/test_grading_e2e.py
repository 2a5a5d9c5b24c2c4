"""The instructor's round trip on the tiny fixture course, with one submission per attack.

release -> collect (folder and .zip) -> parallel autograde -> feedback -> export, and the exact
score every submission must get (see tests/fixtures/grading/make_submissions.py).
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import sys
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from grading import course as C
from grading.settings import REPO, Course, Limits

FIXTURE = Path(__file__).parent / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURE))
import make_submissions as M  # noqa: E402 - the fixtures' one module object

AID = M.AID
# every attack's expected score, in the order of the issue (the fixture is out of 6)
EXPECTED = {
    "correct": 6, "victim": 6, "wrong": 0, "partial": 3, "untouched": 0, "crashing": 4,
    "monkeypatch_asserts": 0, "input_transformer": 0, "hide_errors": 0, "rebind_np": 0,
    "ipykernel_launcher": 0, "gradebook_writer": 0, "deleted_test": 4, "edited_test": 4,
    "stripped_test": 3, "changed_points": 6, "duplicate_ids": 5, "moved_test": 6, "sys_exit": 3,
    "os_exit": 2, "loop_sigint": 5, "memory_hog": 3, "megabytes_output": 6, "malformed_json": 0,
    "wrong_kernelspec": 0, "r_kernelspec_correct": 6,
}
LIMITS = Limits(cell_timeout=10, memory_bytes=int(1.5 * 1024**3))

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading_e2e")]


def fixture_course(tmp: Path) -> Course:
    # the learner bundle gets a *copy* of helpers/ (never the live folder: the grader watches
    # its extra folders while submissions run)
    extra = tmp / "extra" / "helpers"
    if not extra.exists():
        shutil.copytree(REPO / "helpers", extra, ignore=shutil.ignore_patterns("__pycache__"))
    return Course(source_dir=FIXTURE / "notebooks", root=tmp / "course", workspace=tmp / "ws",
                  extra_dirs=(extra,))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    course = fixture_course(tmp)
    out = io.StringIO()
    with redirect_stdout(out):
        C.release(course)
        release_nb = course.root / "release" / AID / f"{AID}.ipynb"
        expected = M.write_folder(release_nb, tmp / "subs", course.root)
        collected = C.collect(course, tmp / "subs")
        outcomes = C.autograde(course, workers=2, limits=LIMITS)
        html = C.feedback(course)
        wide, long = C.export(course)
    return dict(course=course, tmp=tmp, log=out.getvalue(), expected=expected,
                collected=collected, outcomes=outcomes, html=html, wide=wide, long=long)


def gradebook_scores(course: Course) -> dict[str, float]:
    db = sqlite3.connect(course.db_path)
    rows = db.execute(
        """SELECT student.id, SUM(COALESCE(grade.manual_score, grade.auto_score, 0))
           FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
           JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
           JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id"""
    ).fetchall()
    db.close()
    return {sid: float(s) for sid, s in rows}


def test_every_submission_is_listed_with_its_expected_score(graded):
    assert set(graded["expected"]) == set(EXPECTED)
    for student, (score, _what) in graded["expected"].items():
        assert EXPECTED[student] == score


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_score_in_gradebook(graded, student):
    """Each attack gets exactly the score its honest content earns (never more)."""
    assert gradebook_scores(graded["course"])[student] == EXPECTED[student], graded["log"]


def test_gradebook_is_out_of_reach(graded):
    """The sandbox holds no gradebook: the attack finds nothing to write (nothing to restore)."""
    log = graded["log"]
    assert "was modified while submissions ran" not in log
    db = sqlite3.connect(graded["course"].db_path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    manual = db.execute("SELECT COUNT(*) FROM grade WHERE manual_score IS NOT NULL").fetchone()[0]
    db.close()
    assert "pwned" not in tables
    assert manual == 0


def test_submitted_launcher_never_runs_and_is_reported(graded):
    assert not (graded["tmp"] / "subs" / "LAUNCHER_RAN").exists()
    unplaced = dict(graded["collected"].unplaced)
    assert unplaced == {"ipykernel_launcher/ipykernel_launcher.py": "not a notebook"}
    kept = graded["collected"].kept_in / "ipykernel_launcher" / "ipykernel_launcher.py"
    assert kept.exists()


def test_problems_are_reported(graded):
    o = graded["outcomes"]
    assert any("'test_scale' was deleted" in p for p in o[("deleted_test", AID)].problems)
    assert any("'test_mean_square' was deleted" in p for p in o[("stripped_test", AID)].problems)
    assert any("points changed" in p for p in o[("changed_points", AID)].problems)
    assert any("ran out of time" in e for e in o[("loop_sigint", AID)].events)
    assert any("exited" in e for e in o[("os_exit", AID)].events)
    assert any("could not be read" in e for e in o[("malformed_json", AID)].events)
    assert "calls get_ipython()" in o[("input_transformer", AID)].suspicious
    assert not o[("correct", AID)].flagged
    assert o[("deleted_test", AID)].tests["test_scale"]["status"] == "deleted"
    report = (graded["course"].root / "reports" / "autograde_report.txt").read_text()
    assert "deleted_test / 01_fixture: 4 / 6" in report


def test_harmless_stderr_keeps_the_points(graded):
    o = graded["outcomes"][("correct", AID)]
    assert o.tests["test_clip01"]["status"] == "passed"
    nb = (graded["course"].root / "autograded" / "correct" / AID / f"{AID}.ipynb").read_text()
    assert "UserWarning" in nb  # the warning was really printed


def test_huge_output_is_cut(graded):
    path = graded["course"].root / "autograded" / "megabytes_output" / AID / f"{AID}.ipynb"
    assert path.stat().st_size < 1_000_000
    assert "[output cut" in path.read_text()


def test_feedback_per_student(graded):
    names = {p.parent.parent.name for p in graded["html"]}
    assert names == set(EXPECTED)
    page = (graded["course"].root / "feedback" / "partial" / AID / f"{AID}.html").read_text()
    assert "3.0 / 6.0" in page or "3 / 6" in page
    # each test's name, points and message; never the tests' (hidden) code
    assert "test_mean_square" in page and "3 / 3" in page and "0 / 2" in page
    assert "scale(x, 2) should double every entry" in page
    for page in graded["html"]:
        text = page.read_text()
        assert "scale(x, -0.5)" not in text and "HIDDEN TESTS" not in text
        assert "np.ones((2, 5))" not in text


def test_export_csv(graded):
    with open(graded["wide"]) as fh:
        rows = list(csv.reader(fh))
    header, maxes, body = rows[0], rows[1], {r[0]: r for r in rows[2:]}
    assert header == ["student", f"{AID}:scale", f"{AID}:mean_square", f"{AID}:clip01",
                      f"{AID}:total", "total"]
    assert maxes[1:] == ["2", "3", "1", "6", "6"]
    assert set(body) == set(EXPECTED)
    for student, score in EXPECTED.items():
        assert float(body[student][-1]) == score
    assert body["partial"][1:] == ["0", "3", "0", "3", "3"]
    assert body["crashing"][1:] == ["0", "3", "1", "4", "4"]
    with open(graded["long"]) as fh:
        long_rows = list(csv.DictReader(fh))
    assert len(long_rows) == 3 * len(EXPECTED)


def test_collect_zip_reports_unplaceable_files(graded, tmp_path):
    course = fixture_course(tmp_path)
    (course.root).mkdir(parents=True)
    release_nb = graded["course"].root / "release" / AID / f"{AID}.ipynb"
    data = release_nb.read_bytes()
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("export/ann smith/01_fixture.ipynb", data)
        zf.writestr("export/ann smith/notes.txt", "hello")
        zf.writestr("export/bob/my_01_fixture_final.ipynb", data)
        zf.writestr("export/bob/.ipynb_checkpoints/01_fixture-checkpoint.ipynb", data)
        zf.writestr("export/carl/homework.ipynb", data)
        zf.writestr("export/../../evil.ipynb", data)
    with redirect_stdout(io.StringIO()) as out:
        rep = C.collect(course, zpath)
    assert sorted((s, a) for s, a, _ in rep.placed) == [("ann_smith", AID), ("bob", AID)]
    reasons = dict(rep.unplaced)
    assert reasons["ann smith/notes.txt"] == "not a notebook"
    assert "checkpoint" in reasons["bob/.ipynb_checkpoints/01_fixture-checkpoint.ipynb"]
    assert "matches none" in reasons["carl/homework.ipynb"]
    assert (rep.kept_in / "carl" / "homework.ipynb").exists()
    assert (course.root / "submitted" / "bob" / AID / f"{AID}.ipynb").read_bytes() == data
    assert (course.root / "submitted" / "bob" / AID / "timestamp.txt").exists()
    assert not (tmp_path.parent / "evil.ipynb").exists()
    assert "UNPLACED carl/homework.ipynb" in out.getvalue()


def test_collect_flat_lms_files(tmp_path):
    course = fixture_course(tmp_path)
    src = tmp_path / "flat"
    src.mkdir()
    (src / "ann_12345_01_fixture.ipynb").write_text("{}")
    (src / "README.txt").write_text("x")
    with redirect_stdout(io.StringIO()):
        rep = C.collect(course, src)
    assert [(s, a) for s, a, _ in rep.placed] == [("ann", AID)]
    assert [f for f, _ in rep.unplaced] == ["README.txt"]


def test_bad_inputs_have_clear_messages(tmp_path):
    course = fixture_course(tmp_path)
    with pytest.raises(C.GradingError, match="release` first"):
        C.autograde(course)
    with pytest.raises(C.GradingError, match="no such folder or .zip"):
        C.collect(course, tmp_path / "nope")
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(C.GradingError, match="not a readable .zip"):
        C.collect(course, tmp_path / "bad.zip")
    with pytest.raises(C.GradingError, match="autograde` first"):
        C.feedback(course)
