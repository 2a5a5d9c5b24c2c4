"""The learner's side: the workspace never overwrites, fresh copies keep the old one, and the
self-check prints per exercise passed / failed with the test's message without touching the file,
through the same machinery as autograde (learner code in the sandbox, tests outside it), and
without the instructor's module."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from grading import notebooks as N
from grading.learner import GradingError, check, workspace
from grading.settings import REPO, Course, Limits

FIXTURE = Path(__file__).parent / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURE))
import make_submissions as M  # noqa: E402 - the fixtures' one module object


def make_course(tmp: Path) -> Course:
    src = tmp / "notebooks"
    src.mkdir()
    shutil.copy(FIXTURE / "notebooks" / "01_fixture.ipynb", src)
    return Course(source_dir=src, root=tmp / "course", workspace=tmp / "workspace",
                  extra_dirs=(REPO / "helpers", REPO / "data"))


def quiet(fn, *a, **k):
    out = io.StringIO()
    with redirect_stdout(out):
        res = fn(*a, **k)
    return res, out.getvalue()


def test_workspace_adds_only_new_notebooks_and_never_overwrites(tmp_path):
    course = make_course(tmp_path)
    added, _ = quiet(workspace, course)
    nb_path = course.workspace / "01_fixture.ipynb"
    assert added == [nb_path]
    text = nb_path.read_text()
    assert "### BEGIN SOLUTION" not in text and "return x * k" not in text
    assert "raise NotImplementedError()" in text
    nb_path.write_text(text.replace("raise NotImplementedError()", "return 42  # my work"))
    mine = nb_path.read_bytes()
    # a new notebook arrives in the course
    second = nbformat.read(str(course.source_dir / "01_fixture.ipynb"), as_version=4)
    nbformat.write(second, str(course.source_dir / "02_second.ipynb"))
    added, log = quiet(workspace, course)
    assert added == [course.workspace / "02_second.ipynb"]
    assert nb_path.read_bytes() == mine
    assert "1 notebook(s) added, 1 already there" in log
    added, _ = quiet(workspace, course)
    assert added == [] and nb_path.read_bytes() == mine


def test_fresh_copy_keeps_the_old_one(tmp_path):
    course = make_course(tmp_path)
    quiet(workspace, course)
    nb_path = course.workspace / "01_fixture.ipynb"
    nb_path.write_text(nb_path.read_text().replace("raise NotImplementedError()", "pass  # mine"))
    mine = nb_path.read_bytes()
    quiet(workspace, course, fresh="01")
    backups = sorted(course.workspace.glob("01_fixture.*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == mine
    assert "# mine" not in nb_path.read_text()
    quiet(workspace, course, fresh="01_fixture")  # twice in the same second: still nothing lost
    assert len(list(course.workspace.glob("01_fixture.*.ipynb"))) == 2
    with pytest.raises(GradingError, match="no course notebook starts with '09'"):
        workspace(course, fresh="09")


def test_workspace_without_notebooks(tmp_path):
    course = Course(source_dir=tmp_path / "none", root=tmp_path / "c", workspace=tmp_path / "ws")
    added, log = quiet(workspace, course)
    assert added == [] and "No notebooks" in log and course.workspace.is_dir()


def write_answers(course: Course, answers: dict[str, str]) -> Path:
    quiet(workspace, course)
    path = course.workspace / "01_fixture.ipynb"
    nb = M.answer(nbformat.read(str(path), as_version=4), answers)
    nbformat.write(nb, str(path))
    return path


@pytest.mark.slow
def test_check_reports_per_exercise_and_never_modifies(tmp_path):
    course = make_course(tmp_path)
    # scale: right; mean_square: wrong; clip01: right on the visible test, wrong on hidden ones
    # would not matter (check runs only visible tests)
    path = write_answers(course, {"scale": M.RIGHT["scale"],
                                  "mean_square": M.WRONG["mean_square"],
                                  "clip01": M.RIGHT["clip01"]})
    # an edited test cell in the learner's copy is not what gets run
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[M.find(nb, "test_mean_square")].source = "pass"
    nbformat.write(nb, str(path))
    before, mtime = path.read_bytes(), os.stat(path).st_mtime_ns
    results, log = quiet(check, course, "01", Limits(cell_timeout=30))
    assert results["scale"] == ("passed", "")
    assert results["clip01"] == ("passed", "")
    status, msg = results["mean_square"]
    assert status == "failed" and "did you divide by m?" in msg
    assert "PASSED  scale" in log and "FAILED  mean_square" in log
    assert "2 of 3 exercise(s) pass the visible checks; more run at grading" in log
    assert "all tests passed" not in log.lower()
    assert path.read_bytes() == before and os.stat(path).st_mtime_ns == mtime
    assert not list(course.workspace.glob("*.ipynb.*"))


@pytest.mark.slow
def test_check_all_right_says_only_what_was_checked(tmp_path):
    course = make_course(tmp_path)
    write_answers(course, dict(M.RIGHT))
    results, log = quiet(check, course, "01", Limits(cell_timeout=30))
    assert {s for s, _ in results.values()} == {"passed"}
    assert "3 of 3 exercise(s): the visible checks passed; more run at grading." in log
    assert "all tests passed" not in log.lower()


def test_check_uses_the_sandboxed_grader_and_not_the_instructor_module():
    code = ("import sys, grading.learner as L, grading.sandbox as S\n"
            "assert 'grading.course' not in sys.modules, 'learner imports the instructor module'\n"
            "assert L.grade_task is S.grade_task\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_check_untouched_says_not_done(tmp_path):
    course = make_course(tmp_path)
    quiet(workspace, course)
    results, log = quiet(check, course, "01_fixture", Limits(cell_timeout=30))
    assert {s for s, _ in results.values()} == {"not done"}
    assert "not implemented yet" in log


def test_check_bad_inputs(tmp_path):
    course = make_course(tmp_path)
    with pytest.raises(GradingError, match="run `make lab`"):
        check(course, "01")
    quiet(workspace, course)
    with pytest.raises(GradingError, match="make check NB=02"):
        check(course, "")
    with pytest.raises(GradingError, match="no notebook in .* starts with '07'.*01_fixture"):
        check(course, "07")
    path = course.workspace / "01_fixture.ipynb"
    path.write_text('{"cells": [')
    with pytest.raises(GradingError, match="(?s)not a readable notebook.*make fresh NB=01"):
        check(course, "01")
    assert path.read_text() == '{"cells": ['


@pytest.mark.slow
def test_cli_verbs(tmp_path, monkeypatch, capsys):
    from grading.cli import main

    course = make_course(tmp_path)
    monkeypatch.setenv("GRADING_SOURCE_DIR", str(course.source_dir))
    monkeypatch.setenv("GRADING_COURSE_ROOT", str(course.root))
    monkeypatch.setenv("GRADING_WORKSPACE", str(course.workspace))
    assert main(["workspace"]) == 0
    assert "1 notebook(s) added" in capsys.readouterr().out
    assert main(["check", "01", "--strict"]) == 1
    assert "NOT DONE scale" in capsys.readouterr().out
    assert main(["autograde"]) == 2
    assert "release` first" in capsys.readouterr().err
    assert main(["check", "5"]) == 2
    assert "error: no notebook" in capsys.readouterr().err
    assert main(["collect", str(tmp_path / "missing.zip")]) == 2
    assert "no such folder or .zip" in capsys.readouterr().err
    # the real entry point, as the Makefile calls it
    r = subprocess.run([sys.executable, "-m", "grading", "--help"], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0
    for verb in ("release", "workspace", "check", "collect", "autograde", "feedback", "export"):
        assert verb in r.stdout


def test_student_version_matches_nbgrader_release_and_hides_solutions(tmp_path):
    """Our in-memory student version (workspace, check) equals nbgrader's generate_assignment."""
    from grading.course import release

    course = make_course(tmp_path)
    quiet(release, course)
    released = N.read(course.root / "release" / "01_fixture" / "01_fixture.ipynb")
    ours = N.student_version(N.read(course.source_dir / "01_fixture.ipynb"))
    assert [c.source for c in released.cells] == [c.source for c in ours.cells]
    assert [c.metadata for c in released.cells] == [c.metadata for c in ours.cells]
    text = json.dumps(released)
    source = N.read(course.source_dir / "01_fixture.ipynb")
    regions = N.solution_regions(source)
    assert len(regions) == 5  # three answers, two hidden-test regions
    for region in regions:
        assert region.strip() not in text
    assert N.leaked_regions(source, released) == []
    assert N.leaked_regions(source, source) == regions  # the check does see a leak
    bundle = course.root / "learner"
    assert (bundle / "01_fixture.ipynb").exists() and (bundle / "helpers" / "__init__.py").exists()
