"""Red-team attacks on the grader (issue 14, second round): classes the other attack files do not
cover. Each test names the class, the attack, and what must hold.

- collect: a symbolic link in a submission folder (to the course's source notebook, with its
  solutions, or to a classmate's folder) is never followed; two student names that become the
  same id ("bob" and "bob.") never merge, so one student cannot replace another's submission;
- report and terminal: a submission's words (grade ids, string constants the review flags quote,
  error messages, file names) cannot add, hide or rewrite a line of the autograde report or of
  what the instructor's terminal shows;
- export: student ids can never start a spreadsheet formula.
"""

from __future__ import annotations

import io
import os
import time
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from grading import course as C
from grading import notebooks as N
from grading import review
from grading.settings import Course, Limits

FIXTURE = Path(__file__).parent / "fixtures" / "grading"
SOURCE = FIXTURE / "notebooks" / "01_fixture.ipynb"
AID = "01_fixture"


def tiny_course(tmp: Path) -> Course:
    course = Course(source_dir=SOURCE.parent, root=tmp / "course", workspace=tmp / "ws",
                    extra_dirs=())
    course.root.mkdir(parents=True)
    return course


def collect(course: Course, path: Path) -> tuple[C.CollectReport, str]:
    with redirect_stdout(io.StringIO()) as out:
        rep = C.collect(course, path)
    return rep, out.getvalue()


def submitted(course: Course, sid: str) -> Path:
    return course.root / "submitted" / sid / AID / f"{AID}.ipynb"


# -- collect ----------------------------------------------------------------------------------------
def test_a_symlink_to_the_solutions_or_to_a_classmate_is_never_followed(tmp_path):
    course = tiny_course(tmp_path)
    subs = tmp_path / "subs"
    (subs / "bob").mkdir(parents=True)
    (subs / "bob" / f"{AID}.ipynb").write_text('{"bob": 1}')
    (subs / "mallory").mkdir()
    os.symlink(SOURCE, subs / "mallory" / f"{AID}.ipynb")  # the source, hidden tests and all
    (subs / "mallory" / "sub").mkdir()
    os.symlink(subs / "bob", subs / "mallory" / "sub" / "copy")  # a folder link inside
    os.symlink(subs / "bob", subs / "eve")  # a whole student folder that is a link
    rep, out = collect(course, subs)
    assert [(s, a) for s, a, _ in rep.placed] == [("bob", AID)]
    reasons = dict(rep.unplaced)
    for rel in (f"mallory/{AID}.ipynb", "mallory/sub/copy", "eve"):
        assert "symbolic link" in reasons[rel], reasons
    assert not (course.root / "submitted" / "mallory").exists()
    assert not (course.root / "submitted" / "eve").exists()
    assert not any(p.is_symlink() for p in course.root.rglob("*"))
    assert "UNPLACED eve: a symbolic link" in out


def test_a_zip_bomb_in_the_submissions_zip_is_not_extracted(tmp_path, monkeypatch):
    """A member that inflates far beyond any submission is listed, never written; the others
    are placed (the cap is lowered here so the test writes a few MB, not gigabytes)."""
    import zipfile

    monkeypatch.setattr(C, "MAX_MEMBER_BYTES", 2 * 1024**2)
    course = tiny_course(tmp_path)
    bundle = tmp_path / "subs.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"bob/{AID}.ipynb", '{"bob": 1}')
        zf.writestr(f"mallory/{AID}.ipynb", b"\0" * (3 * 1024**2))  # ~3 kB compressed
    rep, out = collect(course, bundle)
    assert [(s, a) for s, a, _ in rep.placed] == [("bob", AID)]
    assert "not extracted" in dict(rep.unplaced)[f"mallory/{AID}.ipynb"]
    assert not (course.root / "submitted" / "mallory").exists()
    assert "UNPLACED mallory/" in out


@pytest.mark.parametrize("other", ["bob.", "-bob", "bob!", "bob "])
def test_a_name_that_becomes_a_classmates_id_never_replaces_their_submission(tmp_path, other):
    course = tiny_course(tmp_path)
    subs = tmp_path / "subs"
    for name, text in (("bob", '{"bob": 1}'), (other, '{"mallory": 1}')):
        (subs / name).mkdir(parents=True)
        (subs / name / f"{AID}.ipynb").write_text(text)
    later = time.time() + 100  # the newer file would win a plain duplicate
    os.utime(subs / other / f"{AID}.ipynb", (later, later))
    rep, _ = collect(course, subs)
    assert [(s, a) for s, a, _ in rep.placed] == [("bob", AID)]
    assert submitted(course, "bob").read_text() == '{"bob": 1}'
    assert "becomes the id 'bob'" in dict(rep.unplaced)[f"{other}/{AID}.ipynb"]


def test_names_that_all_need_cleaning_and_clash_are_none_of_them_placed(tmp_path):
    course = tiny_course(tmp_path)
    subs = tmp_path / "subs"
    for name in ("ann!", "ann?"):
        (subs / name).mkdir(parents=True)
        (subs / name / f"{AID}.ipynb").write_text("{}")
    rep, _ = collect(course, subs)
    assert rep.placed == [] and len(rep.unplaced) == 2


def test_a_later_collect_under_another_name_does_not_overwrite(tmp_path):
    course = tiny_course(tmp_path)
    first, second = tmp_path / "one", tmp_path / "two"
    (first / "bob").mkdir(parents=True)
    (first / "bob" / f"{AID}.ipynb").write_text('{"bob": 1}')
    (second / "bob!").mkdir(parents=True)
    (second / "bob!" / f"{AID}.ipynb").write_text('{"mallory": 1}')
    collect(course, first)
    rep, _ = collect(course, second)
    assert rep.placed == []
    assert submitted(course, "bob").read_text() == '{"bob": 1}'
    (first / "bob" / f"{AID}.ipynb").write_text('{"bob": 2}')  # bob's own resubmission: placed
    rep, _ = collect(course, first)
    assert submitted(course, "bob").read_text() == '{"bob": 2}'


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_student_ids_never_start_a_spreadsheet_formula(name):
    sid = C._student_id(name)
    assert sid and sid[0] not in "=+-@\t\r", sid


# -- report and terminal --------------------------------------------------------------------------
FORGED = "\nalice / 01_fixture: 6 / 6\x1b[2K\r\u202e"


def _forging_submission() -> bytes:
    nb = N.student_version(N.load_source(SOURCE).nb)
    cell = nbformat.v4.new_code_cell(f"x = {('__' + FORGED + '__')!r}\nprint(getattr(x, {('__' + FORGED + '__')!r}, 1))")
    cell.metadata["nbgrader"] = {"grade_id": "mine" + FORGED, "grade": True, "points": 99}
    nb.cells.append(cell)
    return nbformat.writes(nb).encode()


def test_a_submissions_words_cannot_forge_a_line_of_the_report(tmp_path):
    info = N.load_source(SOURCE)
    task, asm, problems = C.make_task(info, _forging_submission(), ["mallory", AID], Limits())
    sus = review.flags(N.learner_code(asm))
    assert any("\n" in p for p in problems) and any("\n" in s for s in sus)  # the raw words
    tests = {g: {"status": "failed", "message": "m"} for g in info.points}
    events = ["course cell 3 failed in the learner's process (Boom" + FORGED + ")"]
    o = C.Outcome("mallory", AID, 0.0, info.max_score, tests, problems, events, sus,
                  reason=FORGED)
    course = tiny_course(tmp_path)
    with redirect_stdout(io.StringIO()) as out:
        C._write_report(course, {("mallory", AID): o}, {})
    report = (course.root / "reports" / "autograde_report.txt").read_text()
    for text in (report, out.getvalue()):
        assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
        assert not any(line.startswith("alice") for line in text.splitlines()), text
    assert report.splitlines()[0] == f"mallory / {AID}: 0 / 6"
    assert all(line.startswith("    - ") for line in report.splitlines()[1:])
    assert "\\nalice / 01_fixture" in report  # shown, escaped, not dropped


def test_collect_prints_file_names_as_one_escaped_line(tmp_path):
    course = tiny_course(tmp_path)
    subs = tmp_path / "subs"
    (subs / "bob").mkdir(parents=True)
    (subs / "bob" / "notes\nplaced   x  ->  alice \x1b[2K.txt").write_text("x")
    _rep, out = collect(course, subs)
    assert "\x1b" not in out and not any(line.startswith("placed") for line in out.splitlines())


# -- code too deep to analyse; text that is not Unicode --------------------------------------------
DEEP = "x = 1" + "+1" * 5000  # the parser copes; a recursive analysis of it does not
SHALLOWER = "x = 1" + "+1" * 600
DEEP_DEFAULT = "def scale(x, k=1" + "+1" * 600 + "):\n    return x + k\n"


@pytest.mark.parametrize("code", [DEEP, SHALLOWER, DEEP_DEFAULT])
def test_code_too_deep_to_analyse_is_flagged_and_runs(code):
    flags = review.flags(code)
    assert flags == [] or flags == ["code too deeply nested to analyse"]
    assert N.cell_names(code).parsed in (True, False)  # no RecursionError
    assert N.needed_cells([code], [True]) == [True]
    from grading import trusted

    codes = trusted.learner_codes([code])
    if "scale" in codes:
        assert str(trusted.signature_of(codes["scale"])) == "(x, k=...)"


def test_lone_surrogates_in_a_submission_become_question_marks():
    nb = N.student_version(N.load_source(SOURCE).nb)
    nb.cells.append(nbformat.v4.new_code_cell("y = 1"))
    nb.cells[-1].metadata["nbgrader"] = {"grade_id": "mine-SURR"}
    raw = nbformat.writes(nb).replace("SURR", "\\ud800").encode()
    got = N.reads(raw)
    assert N.grade_id(got.cells[-1]) == "mine-?"
    nbformat.writes(got).encode("utf-8")


def _batch_course(tmp: Path) -> Course:
    import shutil

    from grading.settings import REPO

    extra = tmp / "extra" / "helpers"
    shutil.copytree(REPO / "helpers", extra, ignore=shutil.ignore_patterns("__pycache__"))
    course = Course(source_dir=SOURCE.parent, root=tmp / "course", workspace=tmp / "ws",
                    extra_dirs=(extra,))
    with redirect_stdout(io.StringIO()):
        C.release(course)
    return course


def _answered(course: Course, scale: str, extra: str = "") -> str:
    nb = N.student_version(N.load_source(SOURCE).nb)
    right = {"mean_square": "def mean_square(x):\n    return float(np.mean(x ** 2))",
             "clip01": "def clip01(x):\n    return np.clip(x, 0.0, 1.0)"}
    for cell in nb.cells:
        gid = N.grade_id(cell)
        if gid == "scale" or gid in right:
            cell.source = scale if gid == "scale" else right[gid]
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    return nbformat.writes(nb)


UNICODE_BOMB = ('def scale(x, k):\n    print("\\ud800 printed")\n'
                '    raise ValueError("\\udcff " + "boom")\n')
BATCH = {  # student: (answer to `scale`, an added cell, the score out of 6 it must get)
    "honest": ("def scale(x, k):\n    return x * k", "", 6),
    "deep": (DEEP, "", 4),  # stopped the whole autograde (RecursionError in the review flags)
    "deeper": (SHALLOWER + "\ndef scale(x, k):\n    return x * k", "", 6),  # was NOT GRADED
    "default": (DEEP_DEFAULT, "", 4),  # was NOT GRADED (the signature of a trampoline)
    "unicode": (UNICODE_BOMB, 'z = "\\udc00"', 4),  # stopped autograde before the gradebook
}


@pytest.mark.slow
def test_a_batch_with_deep_code_and_broken_unicode_grades_everyone(tmp_path):
    course = _batch_course(tmp_path)
    subs = tmp_path / "subs"
    for sid, (scale, extra, _) in BATCH.items():
        (subs / sid).mkdir(parents=True)
        text = _answered(course, scale, extra)
        if sid == "unicode":  # and a grade id that is not Unicode, straight in the JSON
            text = text.replace('"grade_id": "scale"', '"grade_id": "scale", "x": "\\udfff"')
        (subs / sid / f"{AID}.ipynb").write_text(text)
    with redirect_stdout(io.StringIO()) as out:
        C.collect(course, subs)
        outcomes = C.autograde(course, workers=2, limits=Limits(cell_timeout=20), retries=0)
        C.feedback(course)
        C.export(course)
    got = {sid: (o.status, o.score) for (sid, _a), o in outcomes.items()}
    assert got == {sid: ("graded", want) for sid, (_s, _e, want) in BATCH.items()}, out.getvalue()
    assert "code too deeply nested" in " ".join(outcomes[("deep", AID)].suspicious)
    page = course.root / "feedback" / "unicode" / AID / f"{AID}.html"
    assert "? boom" in page.read_text(encoding="utf-8")


def test_a_huge_notebook_is_never_read_whole_and_scores_zero(tmp_path):
    huge = tmp_path / "huge.ipynb"
    with open(huge, "wb") as fh:  # sparse: 4 GB that take no disk
        fh.truncate(4 * 1024**3)
    raw = C._read_capped(huge)
    assert len(raw) == C.MAX_NOTEBOOK_BYTES + 1
    task, asm, problems = C.make_task(N.load_source(SOURCE), raw, ["huge", AID], Limits())
    assert task is None and asm is None and "larger than 64 MB" in problems[0]
    assert review.flags(raw.decode("utf-8", "replace")) == [
        f"code too large to analyse (more than {review.MAX_CODE} characters)"]


# -- delegation hidden from the code-inspecting checks ----------------------------------------------
# nb05's test_update_parameters_with_gd refuses an update borrowed from helpers' training code
# (check_no_helpers_called). It read only the last plain `def`: the same borrowing through an
# assignment, an import, a decorator, a rebinding in a block or from a function, or a name from
# `from helpers.training import *`, got the point.
_GD = "from helpers.training import _gradient_descent as _gd\n"
_DECOY = ("def update_parameters_with_gd(parameters, grads, learning_rate):\n"
          "    return parameters\n")
DELEGATIONS = {
    "def-then-assignment": _GD + _DECOY + "update_parameters_with_gd = _gd\n",
    "assignment-only": _GD + "update_parameters_with_gd = _gd\n",
    "import-as": "from helpers.training import _gradient_descent as update_parameters_with_gd\n",
    "decorator": _GD + "@lambda f: _gd\n" + _DECOY,
    "in-a-block": _GD + _DECOY + "if True:\n    update_parameters_with_gd = _gd\n",
    "global-in-a-function": _GD + _DECOY + "def _swap():\n    global update_parameters_with_gd\n"
                            "    update_parameters_with_gd = _gd\n_swap()\n",
    "star-import": "from helpers.training import *\nupdate_parameters_with_gd = lambda parameters, "
                   "grads, learning_rate: bind_update().step(parameters, grads, "
                   "{'learning_rate': learning_rate, 't': 0})[0]\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DELEGATIONS))
def test_delegation_by_any_binding_is_seen_by_the_code_checks(name):
    from tests.test_grading_attacks_channel import grade

    score, res = grade("05", {"update_parameters_with_gd": DELEGATIONS[name]}, honest=True)
    gd = res["tests"]["test_update_parameters_with_gd"]
    assert gd["status"] == "failed" and "from helpers" in gd["message"], gd
    assert score == 18.0


def test_an_honest_def_keeps_its_own_code_and_signature():
    from grading import trusted

    cells = ["import numpy as np\n", "def f(x, k=2):\n    return np.exp(x) * k\n"]
    codes = trusted.learner_codes(cells, functions={"f"})
    assert set(codes) == {"f"} and codes["f"].co_names == ("np", "exp")
    assert str(trusted.signature_of(codes["f"])) == "(x, k=2)"
    codes = trusted.learner_codes([*cells, "f = np.vectorize(f)\n"], functions={"f"})
    inner = [c for c in codes["f"].co_consts if hasattr(c, "co_names")]
    assert "vectorize" in codes["f"].co_names and inner[0].co_names == ("np", "exp")
    assert str(trusted.signature_of(codes["f"])) == "(x, k=2)"


# -- held: classes that did not break, kept cheaply -------------------------------------------------
def test_feedback_escapes_whatever_the_learner_wrote():
    info = N.load_source(SOURCE)
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    results = {"student": "mallory", "notebook": AID, "score": 0.0, "max_score": 6.0,
               "tests": {g: {"status": "failed", "message": evil, "points": p}
                         for g, p in info.points.items()},
               "problems": [evil], "events": [evil]}
    page = C.feedback_html(results, info, [("scale", f"def scale(x, k):\n    return '{evil}'")])
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page


STALLING = """
import atexit, signal, threading, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
atexit.register(time.sleep, 3600)
class _Stuck:
    def __del__(self):
        time.sleep(3600)
_keep = _Stuck()
threading.Thread(target=time.sleep, args=(3600,)).start()  # not a daemon
def scale(x, k):
    return x * k
"""


@pytest.mark.slow
def test_a_process_that_refuses_to_end_is_killed_and_keeps_its_points():
    from grading.course import make_task
    from grading.sandbox import grade_task
    from tests.test_grading_attacks_channel import SANDBOX

    info = N.load_source(SOURCE)
    nb = N.student_version(info.nb)
    for cell in nb.cells:
        if N.grade_id(cell) == "scale":
            cell.source = STALLING
    task, _asm, _p = make_task(info, nbformat.writes(nb).encode(), ["x", AID],
                               Limits(cell_timeout=20), sandbox=SANDBOX)
    t0 = time.monotonic()
    res = grade_task(task)
    # about 3 s on a quiet machine; a process left waiting would hold the notebook's 1200 s limit
    # (the bound leaves a loaded machine 60 times the quiet time)
    assert time.monotonic() - t0 < 180
    assert res["status"] == "graded" and res["tests"]["test_scale"]["status"] == "passed"


@pytest.mark.parametrize("code", [
    "f = _gd", "f: object = _gd", "(f := _gd)", "for f in [_gd]:\n    pass",
    "with _gd as f:\n    pass", "from helpers.training import _gd as f", "import _gd as f",
    "match _gd:\n    case f:\n        pass", "match [_gd]:\n    case [*f]:\n        pass",
    "if True:\n    f = _gd\nelse:\n    pass", "try:\n    f = _gd\nexcept Exception:\n    pass",
    "def g():\n    global f\n    f = _gd", "@_gd\ndef f():\n    pass", "class f(_gd):\n    pass",
    "def f():\n    pass\nf = _gd",
])
def test_every_static_binding_of_an_answer_names_what_it_binds(code):
    from grading import trusted

    codes = trusted.learner_codes([code], functions={"f"})
    names, todo = set(), [codes["f"]]
    while todo:  # as helpers.checks.uses walks a function's code
        c = todo.pop()
        names |= set(c.co_names)
        todo += [k for k in c.co_consts if hasattr(k, "co_names")]
    assert "_gd" in names


# -- the OOM killer picks the sandbox, never the grader's worker --------------------------------------
OOM_PROBE = """
print(open("/proc/self/oom_score_adj").read().strip())
try:
    open("/proc/self/oom_score_adj", "w").write("-1000")
    print("lowered")
except OSError:
    print("kept")
"""


def test_the_oom_killer_picks_learner_processes_first(tmp_path):
    """A sandbox spreading its memory over many processes, each smaller than the grader's worker
    (TensorFlow loaded: the largest process), made the OOM killer kill the worker: a broken pool,
    and every classmate graded beside it NOT GRADED. Not reproduced here (it would take the
    machine's memory); what prevents it is checked."""
    import sys

    from grading import jail
    from tests.test_grading_attacks_channel import SANDBOX

    if not SANDBOX:
        pytest.skip("no bubblewrap sandbox on this machine")
    proc = jail.start([sys.executable, "-c", OOM_PROBE], scratch=tmp_path, readonly=[],
                      limits=Limits(), env={})
    try:
        out, _err = proc.communicate(timeout=60)
    finally:
        jail.stop(proc)
    assert out.decode().split() == ["1000", "kept"]


def test_a_worker_that_dies_takes_no_classmate_with_it_on_the_retry(monkeypatch):
    """A dying worker process breaks the whole local process pool: every submission running or
    waiting in it came back NOT GRADED, on every retry, as long as the killer was retried beside
    them. Retries now run each submission in a pool of its own."""
    monkeypatch.syspath_prepend(str(FIXTURE / "redteam"))
    import crash_worker

    monkeypatch.setattr(C, "grade_task", crash_worker.grade_task)
    tasks = [{"id": [sid, AID], "notebook": ""} for sid in ("crasher", "ann", "bob")]
    with redirect_stdout(io.StringIO()):
        got = {r["id"][0]: r["status"] for r in
               C.grade_with_retries(tasks, workers=2, scheduler=None, retries=2, backoff=0.1)}
    assert got == {"crasher": "not_graded", "ann": "graded", "bob": "graded"}


def test_a_notebook_of_many_cells_is_refused_before_it_is_parsed(monkeypatch):
    """200,000 added cells cost a minute of the parent's (serial) time and minutes of a worker's:
    such a notebook is refused from its bytes, and never reaches the parser."""
    import json

    nb = json.loads(nbformat.writes(N.student_version(N.load_source(SOURCE).nb)))
    nb["cells"] += [{"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [],
                     "execution_count": None} for _ in range(C.MAX_CELLS)]
    with monkeypatch.context() as m:
        m.setattr(N, "reads", lambda *a, **k: pytest.fail("the notebook was parsed"))
        task, _asm, problems = C.make_task(N.load_source(SOURCE), json.dumps(nb).encode(),
                                           ["many", AID], Limits())
    assert task is None and "more than 5000 cells" in problems[0]
    nb["cells"] = nb["cells"][:-C.MAX_CELLS // 2]  # a long notebook under the cap is graded
    task, _asm, problems = C.make_task(N.load_source(SOURCE), json.dumps(nb).encode(),
                                       ["long", AID], Limits())
    assert task is not None
