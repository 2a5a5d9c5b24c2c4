"""The course's real notebooks through the grader (one test per notebook in notebooks/; none are
collected while the folder is empty): the source notebook, submitted as its own solution, earns
full marks; the untouched student version earns zero and grades without error; the student
version contains none of the solution text."""

from __future__ import annotations

import json

import nbformat
import pytest

from grading import notebooks as N
from grading import review
from grading.course import make_task
from grading.sandbox import grade_task
from grading.settings import Course, Limits

SOURCES = Course().sources()


def _params():
    return [
        pytest.param(p, id=p.stem, marks=[pytest.mark.slow, pytest.mark.xdist_group(f"nb-{p.stem}")])
        for p in SOURCES
    ]


def _grade(info: N.SourceInfo, nb, label: str) -> tuple[float, dict, list[str]]:
    task, _asm, problems = make_task(info, N.nbformat.writes(nb).encode(), label, Limits())
    assert task is not None, problems
    res = grade_task(task)
    score = sum(info.points[g] for g, r in res["tests"].items() if r["status"] == "passed")
    return score, res, problems


@pytest.mark.parametrize("path", _params())
def test_student_version_hides_every_solution(path):
    info = N.load_source(path)
    assert info.points, f"{path.name} has no autograded test cells"
    assert info.solutions, f"{path.name} has no solution cells"
    release = N.student_version(info.nb)
    text = json.dumps(release)
    assert N.solution_regions(info.nb)
    leaked = N.leaked_regions(info.nb, release)
    assert not leaked, f"solution code left in the release: {leaked[0][:200]!r}"
    assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text


@pytest.mark.parametrize("path", _params())
def test_source_earns_full_marks_and_release_earns_zero(path):
    info = N.load_source(path)
    s_full, r_full, p_full = _grade(info, info.nb, "source")
    s_zero, r_zero, p_zero = _grade(info, N.student_version(info.nb), "release")
    failed = {g: r for g, r in r_full["tests"].items() if r["status"] != "passed"}
    assert s_full == info.max_score, f"the solution loses points: {failed} {r_full['events']}"
    assert not r_full["events"] and not p_full
    passed = [g for g, r in r_zero["tests"].items() if r["status"] == "passed"]
    assert s_zero == 0, f"the untouched release passes {passed}"
    assert not r_zero["events"], r_zero["events"]  # graded to the end: no timeout, no dead kernel
    assert not p_zero
    assert all(r["status"] == "failed" for r in r_zero["tests"].values())


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_honest_submission_is_not_flagged_but_tampering_is(path):
    """Only the learner's code is reviewed: the course's own test cells use __code__ honestly (to
    check that an exercise does not call the core). Every solution passes the review unflagged."""
    info = N.load_source(path)
    for honest in (info.nb, N.student_version(info.nb)):  # solved, and untouched
        asm = N.assemble(info, honest, hidden=True)
        assert review.flags(N.learner_code(asm)) == []
    tampered = N.student_version(info.nb)
    tampered.cells.append(nbformat.v4.new_code_cell(
        'import sys\nhook = getattr(sys, "set" + "trace")\nget_ipython().events.callbacks.clear()'))
    asm = N.assemble(info, tampered, hidden=True)
    flags = review.flags(N.learner_code(asm))
    assert "getattr() with a computed name" in flags and "calls get_ipython()" in flags
