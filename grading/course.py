"""The instructor's round trip: release, collect, autograde, feedback, export.

nbgrader's own folder layout is kept under the course root (``grading/course/``):
``source/<a>/<a>.ipynb``, ``release/<a>/<a>.ipynb``, ``submitted/<student>/<a>/<a>.ipynb``,
``autograded/…``, ``feedback/…`` and ``gradebook.db``; one nbgrader assignment per notebook
(``a`` is the notebook's name, e.g. ``02_regularization``). Only this process ever writes the
gradebook, after every kernel of the batch has finished.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import shutil
import sys
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from . import notebooks as N
from .sandbox import grade_task
from .settings import Course, Limits, apply_nbgrader_config

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"

# nbgrader runs the `alembic` executable of our environment when it creates a gradebook; it must
# be found even when the venv is not activated (the Makefile calls .venv/bin/python directly).
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


class GradingError(Exception):
    """A problem the user can fix; the message says what is wrong and what to do."""


def say(msg: str = "") -> None:
    print(msg, flush=True)


def _api(course: Course):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    c = Config()
    apply_nbgrader_config(c, course.root, course.course_id)
    return NbGraderAPI(coursedir=CourseDirectory(config=c), config=c)


def _gradebook(course: Course):
    from nbgrader.api import Gradebook

    return Gradebook(course.db_url, course.course_id)


def _load_sources(course: Course) -> dict[str, N.SourceInfo]:
    infos = {}
    for path in course.sources():
        try:
            infos[path.stem] = N.load_source(path)
        except N.NotebookError as exc:
            raise GradingError(f"source notebook {exc}. Fix it in {course.source_dir}.") from None
    return infos


# -- release ------------------------------------------------------------------------------------
def release(course: Course) -> list[Path]:
    """Student versions of every source notebook, plus a learner bundle with helpers and data."""
    infos = _load_sources(course)
    if not infos:
        say(f"No source notebooks in {course.source_dir} yet: nothing to release.")
        return []
    course.root.mkdir(parents=True, exist_ok=True)
    api = _api(course)
    bundle = course.root / "learner"
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    released = []
    for aid, info in infos.items():
        src_dir = course.root / "source" / aid
        src_dir.mkdir(parents=True, exist_ok=True)
        for old in src_dir.glob("*.ipynb"):
            old.unlink()
        shutil.copy2(info.path, src_dir / f"{aid}.ipynb")
        result = api.generate_assignment(aid, force=True, create=True)
        if not result.get("success"):
            raise GradingError(
                f"nbgrader could not release {aid}:\n{result.get('log')}\n{result.get('error')}"
            )
        out = course.root / "release" / aid / f"{aid}.ipynb"
        leaked = N.leaked_regions(info.nb, N.read(out))
        if leaked:
            raise GradingError(f"the release of {aid} still contains solution text: {leaked[0]!r}")
        shutil.copy2(out, bundle / out.name)
        released.append(out)
        say(f"released {aid}  ({len(info.points)} tests, {info.max_score:g} points)")
    for extra in course.extra_dirs:
        if extra.is_dir():
            shutil.copytree(
                extra, bundle / extra.name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"),
            )
    # the kernels never need these; keep them out of reach of other local users
    for p, mode in ((course.root / "source", 0o700), (course.db_path, 0o600)):
        if p.exists():
            os.chmod(p, mode)
    say(f"learner bundle (notebooks + {', '.join(d.name for d in course.extra_dirs)}): {bundle}")
    return released


# -- collect ------------------------------------------------------------------------------------
@dataclass
class CollectReport:
    placed: list[tuple[str, str, str]] = field(default_factory=list)  # student, assignment, file
    unplaced: list[tuple[str, str]] = field(default_factory=list)  # file, reason
    kept_in: Path | None = None


def _student_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-")


def match_assignment(filename: str, aids: list[str]) -> str | None:
    """The course notebook a submitted file name refers to (None when none or ambiguous)."""
    stem = Path(filename).stem
    low = stem.lower()
    for aid in aids:
        if low == aid.lower():
            return aid
    hits = [a for a in aids if a.lower() in low]
    if len(hits) == 1:
        return hits[0]
    nums = re.findall(r"(?:^|[^0-9])(\d{2})(?=_|[^0-9]|$)", stem)
    for num in nums:
        hits = [a for a in aids if a.startswith(num)]
        if len(hits) == 1:
            return hits[0]
    return None


def _safe_extract(zip_path: Path, dest: Path) -> None:
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise GradingError(f"{zip_path} is not a readable .zip file") from None
    with zf:
        for info in zf.infolist():
            target = (dest / info.filename).resolve()
            if not str(target).startswith(str(dest.resolve()) + os.sep):
                continue  # a path leaving the folder: never extracted
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            ts = dt.datetime(*info.date_time).timestamp()
            os.utime(target, (ts, ts))


def collect(course: Course, path: Path | str) -> CollectReport:
    """Place a folder or .zip of submissions (one folder per student, or files named
    ``<student>_<…notebook…>.ipynb``) into ``submitted/``. Files that cannot be placed are copied
    to ``unplaced/<time>/`` and listed."""
    path = Path(path)
    aids = course.assignment_ids()
    if not aids:
        raise GradingError(f"no source notebooks in {course.source_dir}: nothing to collect for")
    if not path.exists():
        raise GradingError(f"{path}: no such folder or .zip. Give the folder or the .zip of "
                           "submissions your LMS exported.")
    report = CollectReport()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory() as tmp:
        if path.is_file():
            if path.suffix.lower() != ".zip":
                raise GradingError(f"{path}: expected a folder or a .zip file")
            top = Path(tmp) / "zip"
            top.mkdir()
            _safe_extract(path, top)
        else:
            top = path
        # unwrap a single wrapping folder (zip of a folder of students)
        entries = [e for e in top.iterdir() if not e.name.startswith((".", "__MACOSX"))]
        while (len(entries) == 1 and entries[0].is_dir()
               and not any(f.suffix == ".ipynb" for f in entries[0].iterdir())
               and any(d.is_dir() for d in entries[0].iterdir())):
            top = entries[0]
            entries = [e for e in top.iterdir() if not e.name.startswith((".", "__MACOSX"))]
        chosen: dict[tuple[str, str], Path] = {}

        def consider(student: str, file: Path, rel: str) -> None:
            sid = _student_id(student)
            if not sid:
                report.unplaced.append((rel, "no student name"))
                return
            if ".ipynb_checkpoints" in file.parts:
                report.unplaced.append((rel, "a Jupyter checkpoint copy, not a submission"))
                return
            if file.suffix.lower() != ".ipynb":
                report.unplaced.append((rel, "not a notebook"))
                return
            aid = match_assignment(file.name, aids)
            if aid is None:
                report.unplaced.append((rel, f"matches none of the course notebooks ({', '.join(aids)})"))
                return
            key = (sid, aid)
            if key in chosen:
                old = chosen[key]
                newer, older = (file, old) if file.stat().st_mtime >= old.stat().st_mtime else (old, file)
                chosen[key] = newer
                report.unplaced.append(
                    (str(older.relative_to(top)), f"a second file for {sid} / {aid}; the newer one was kept")
                )
                return
            chosen[key] = file

        all_files = []
        for entry in sorted(entries):
            if entry.is_dir():
                for f in sorted(entry.rglob("*")):
                    if f.is_file():
                        all_files.append(f)
                        consider(entry.name, f, str(f.relative_to(top)))
            elif entry.is_file():
                all_files.append(entry)
                if "_" in entry.stem:
                    consider(entry.stem.split("_", 1)[0], entry, entry.name)
                else:
                    report.unplaced.append((entry.name, "a file outside any student folder, and "
                                            "its name does not start with <student>_"))
        for (sid, aid), file in sorted(chosen.items()):
            dest = course.root / "submitted" / sid / aid
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, dest / f"{aid}.ipynb")
            mtime = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC)
            (dest / "timestamp.txt").write_text(mtime.strftime(TIMESTAMP_FORMAT))
            report.placed.append((sid, aid, str(file.relative_to(top))))
        if report.unplaced:
            keep = course.root / "unplaced" / stamp
            for rel, _ in report.unplaced:
                src = top / rel
                if src.is_file():
                    (keep / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, keep / rel)
            report.kept_in = keep
    for sid, aid, rel in report.placed:
        say(f"placed   {rel}  ->  {sid} / {aid}")
    for rel, reason in report.unplaced:
        say(f"UNPLACED {rel}: {reason}")
    if report.unplaced:
        say(f"{len(report.unplaced)} file(s) could not be placed; copies kept in {report.kept_in}")
    say(f"collected {len(report.placed)} submission(s) from {len({p[0] for p in report.placed})} "
        "student(s)")
    return report


# -- autograde ----------------------------------------------------------------------------------
@dataclass
class Outcome:
    student: str
    assignment: str
    score: float
    max_score: float
    tests: dict[str, dict]
    problems: list[str]
    events: list[str]
    suspicious: list[str]
    seconds: float = 0.0

    @property
    def flagged(self) -> bool:
        return bool(self.problems or self.events or self.suspicious)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def _protected_files(course: Course) -> dict[Path, bytes]:
    """The bytes of every file whose change could alter this or a later grading."""
    files = [course.db_path, *course.sources()]
    for d in (course.root / "source", course.root / "release", *course.extra_dirs):
        if d.is_dir():
            files += [p for p in d.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                      and p.stat().st_size < 50 * 1024**2]
    return {p: p.read_bytes() for p in files if p.is_file()}


def _restore_protected(course: Course, saved: dict[Path, bytes]) -> list[Path]:
    """Undo changes inside the course root (the gradebook, source/, release/): only this tool
    writes there. Files outside it (notebooks/, helpers/, data/) may be edited by a person while
    a batch runs, so a change there is reported, never overwritten."""
    restored = []
    root = course.root.resolve()
    for path, data in saved.items():
        try:
            same = path.read_bytes() == data
        except OSError:
            same = False
        if same:
            continue
        if root in path.resolve().parents:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            restored.append(path)
            say(f"WARNING: {path} was modified while submissions ran; it was restored")
        else:
            say(f"WARNING: {path} changed while submissions ran (by a person, or by a "
                "submission): check it, e.g. with `git diff`")
    for j in ("-journal", "-wal", "-shm"):
        extra = Path(str(course.db_path) + j)
        if extra.exists():
            extra.unlink()
    return restored


def make_task(info: N.SourceInfo, raw: bytes, task_id, limits: Limits, hidden: bool = True):
    """(task, assembled, problems) for one submitted notebook; task is None if unreadable."""
    try:
        sub = N.reads(raw, f"{task_id}")
    except N.NotebookError as exc:
        return None, None, [str(exc)]
    try:
        asm = N.assemble(info, sub, hidden=hidden)
    except Exception as exc:
        return None, None, [f"the notebook's structure could not be used: {exc}"]
    test_ids = {
        str(i): N.grade_id(c)
        for i, c in enumerate(asm.nb.cells)
        if asm.roles[i] in (N.TEST, N.DELETED)
    }
    task = {
        "id": task_id,
        "notebook": nbformat.writes(asm.nb),
        "roles": asm.roles,
        "test_ids": test_ids,
        "reimports": asm.reimports,
        "course_names": asm.course_names,
        "limits": asdict(limits),
        "preload": ["numpy", "numpy.testing", "math", "helpers"],
    }
    return task, asm, list(asm.problems)


def _run_tasks(tasks: list[dict], workers: int | None, scheduler: str | None):
    if not tasks:
        return
    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = client.map(grade_task, tasks, pure=False)
            for fut in dask_completed(futures):
                yield fut.result()
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for t in tasks:
            yield grade_task(t)
        return
    import multiprocessing as mp

    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                             mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(grade_task, t) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()


def autograde(
    course: Course,
    assignments: list[str] | None = None,
    students: list[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    limits: Limits | None = None,
) -> dict[tuple[str, str], Outcome]:
    """Grade every collected submission, in parallel; then write the gradebook (serially)."""
    limits = limits or Limits()
    infos = _load_sources(course)
    if not course.db_path.exists():
        raise GradingError("no gradebook yet: run `python -m grading release` first")
    submitted = course.root / "submitted"
    if not submitted.is_dir():
        raise GradingError(f"nothing collected yet ({submitted} is missing): run "
                           "`python -m grading collect FOLDER_OR_ZIP` first")
    import sqlite3

    db = sqlite3.connect(f"file:{course.db_path}?mode=ro", uri=True)
    try:
        known = {r[0] for r in db.execute("SELECT name FROM assignment")}
    finally:
        db.close()
    jobs = []
    for sdir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        if students and sdir.name not in students:
            continue
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir()):
            aid = adir.name
            if assignments and aid not in assignments:
                continue
            if aid not in infos or aid not in known:
                say(f"skipping {sdir.name}/{aid}: not a released notebook of the course "
                    "(run `python -m grading release`?)")
                continue
            nb_path = adir / f"{aid}.ipynb"
            if not nb_path.exists():
                say(f"skipping {sdir.name}/{aid}: no {aid}.ipynb in {adir}")
                continue
            jobs.append((sdir.name, aid, nb_path))
    if not jobs:
        say("nothing to grade")
        return {}

    # read everything the kernels could touch *before* any learner code runs
    protected = _protected_files(course)
    digests = {str(p): _digest(p) for p in submitted.rglob("*") if p.is_file()}
    tasks, meta = [], {}
    outcomes: dict[tuple[str, str], Outcome] = {}
    notebooks: dict[tuple[str, str], nbformat.NotebookNode] = {}
    for sid, aid, nb_path in jobs:
        info = infos[aid]
        raw = nb_path.read_bytes()
        task, asm, problems = make_task(info, raw, [sid, aid], limits)
        sus = N.suspicious(None, raw.decode("utf-8", "replace") if task is None
                           else N.learner_code(asm))
        if task is None:
            tests = {g: {"status": "not run", "message": "unreadable notebook"} for g in info.points}
            outcomes[(sid, aid)] = Outcome(sid, aid, 0.0, info.max_score, tests, problems,
                                           ["the notebook could not be read; every test scores 0"],
                                           sus)
            notebooks[(sid, aid)] = N.assemble(info, None).nb
            continue
        tasks.append(task)
        meta[(sid, aid)] = (problems, sus)
    say(f"grading {len(tasks)} submission(s) with "
        f"{'the Dask cluster at ' + scheduler if scheduler else str(workers or os.cpu_count()) + ' local worker(s)'}")
    for res in _run_tasks(tasks, workers, scheduler):
        sid, aid = res["id"]
        info = infos[aid]
        problems, sus = meta[(sid, aid)]
        tests = {g: res["tests"].get(g, {"status": "not run", "message": ""}) for g in info.points}
        score = sum(info.points[g] for g, r in tests.items() if r["status"] == "passed")
        outcomes[(sid, aid)] = Outcome(sid, aid, score, info.max_score, tests, problems,
                                       res["events"], sus, res["seconds"])
        notebooks[(sid, aid)] = nbformat.reads(res["notebook"], as_version=4)
        say(f"  {sid} / {aid}: {score:g} / {info.max_score:g}  ({res['seconds']:.1f} s)")

    # the gradebook, the course's files and the submissions must be exactly as before
    _restore_protected(course, protected)
    changed = [p for p, d in digests.items() if _digest(Path(p)) != d]
    for p in changed:
        say(f"WARNING: {p} changed while submissions ran (grading used the copy read before)")

    _write_results(course, infos, outcomes, notebooks)
    report_dir = course.root / "reports"
    report_dir.mkdir(parents=True, exist_ok=True)
    flagged = [o for o in outcomes.values() if o.flagged]
    with open(report_dir / "autograde_report.txt", "w", encoding="utf-8") as fh:
        for o in sorted(outcomes.values(), key=lambda o: (o.assignment, o.student)):
            fh.write(f"{o.student} / {o.assignment}: {o.score:g} / {o.max_score:g}\n")
            for line in o.problems + o.events:
                fh.write(f"    - {line}\n")
            if o.suspicious:
                fh.write(f"    - flagged for review, uses: {', '.join(o.suspicious)}\n")
    for o in flagged:
        say(f"flagged: {o.student} / {o.assignment}")
        for line in o.problems + o.events:
            say(f"    - {line}")
        if o.suspicious:
            say(f"    - uses: {', '.join(o.suspicious)} (review by hand)")
    say(f"graded {len(outcomes)} submission(s); report in {report_dir / 'autograde_report.txt'}")
    return outcomes


def _write_results(course, infos, outcomes, notebooks) -> None:
    import warnings

    with warnings.catch_warnings(), _gradebook(course) as gb:
        warnings.simplefilter("ignore")
        for (sid, aid), o in sorted(outcomes.items()):
            gb.update_or_create_student(sid)
            sub_dir = course.root / "submitted" / sid / aid
            ts = None
            ts_file = sub_dir / "timestamp.txt"
            if ts_file.exists():
                try:
                    from nbgrader.utils import parse_utc

                    ts = parse_utc(ts_file.read_text().strip())
                except Exception:
                    ts = None
            kw = {"timestamp": ts} if ts else {}
            gb.update_or_create_submission(aid, sid, **kw)
            snb = gb.find_submission_notebook(aid, aid, sid)
            for grade in snb.grades:
                if grade.name in o.tests:
                    grade.auto_score = (
                        infos[aid].points[grade.name] if o.tests[grade.name]["status"] == "passed"
                        else 0.0
                    )
                    grade.manual_score = None
                    grade.needs_manual_grade = False
            snb.flagged = o.flagged
            gb.db.commit()
            out_dir = course.root / "autograded" / sid / aid
            out_dir.mkdir(parents=True, exist_ok=True)
            nb = notebooks[(sid, aid)]
            nbformat.write(nb, str(out_dir / f"{aid}.ipynb"))
            if ts_file.exists():
                shutil.copy2(ts_file, out_dir / "timestamp.txt")


# -- feedback and export ------------------------------------------------------------------------
def feedback(course: Course) -> list[Path]:
    """One HTML page per student and notebook, under feedback/<student>/<assignment>/."""
    auto = course.root / "autograded"
    if not auto.is_dir():
        raise GradingError("nothing autograded yet: run `python -m grading autograde` first")
    api = _api(course)
    made = []
    graded: dict[str, list[str]] = {}
    for sdir in sorted(p for p in auto.iterdir() if p.is_dir()):
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir()):
            graded.setdefault(adir.name, []).append(sdir.name)
    for aid, students in sorted(graded.items()):
        res = api.generate_feedback(aid, None, force=True)  # all students in one run
        for sid in students:
            html = course.root / "feedback" / sid / aid / f"{aid}.html"
            if html.exists():
                made.append(html)
            else:
                say(f"could not make feedback for {sid} / {aid}: "
                    f"{(res.get('error') or res.get('log') or '')[-500:]}")
    say(f"wrote {len(made)} feedback page(s) under {course.root / 'feedback'}")
    return made


def export(course: Course, out: Path | str | None = None) -> tuple[Path, Path]:
    """grades.csv (one row per student, a column per exercise and per notebook) and
    grades_long.csv (one row per student and exercise)."""
    out = Path(out) if out else course.root / "export"
    out.mkdir(parents=True, exist_ok=True)
    if not course.db_path.exists():
        raise GradingError("no gradebook yet: run `python -m grading release` first")
    infos = _load_sources(course)
    rows = []
    with _gradebook(course) as gb:
        assignments = sorted(a.name for a in gb.assignments)
        students = sorted(s.id for s in gb.students)
        for aid in assignments:
            info = infos.get(aid)
            for sid in students:
                try:
                    sub = gb.find_submission(aid, sid)
                except Exception:
                    sub = None
                order = list(info.points) if info else []
                for nb in (sub.notebooks if sub else []):
                    grades = sorted(nb.grades, key=lambda g: (
                        order.index(g.name) if g.name in order else len(order), g.name))
                    for grade in grades:
                        score = grade.score if sub else 0.0
                        ex = info.exercise_of(grade.name) if info else grade.name
                        rows.append((sid, aid, ex, grade.name, float(score or 0.0),
                                     float(grade.max_score)))
                if sub is None and info:
                    for g, pts in info.points.items():
                        rows.append((sid, aid, info.exercise_of(g), g, 0.0, pts))
    long_path = out / "grades_long.csv"
    with open(long_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "notebook", "exercise", "test", "score", "max_score"])
        w.writerows(rows)
    cols: list[str] = []
    table: dict[str, dict[str, float]] = {}
    maxes: dict[str, float] = {}
    for sid, aid, ex, _g, score, _mx in rows:
        for col in (f"{aid}:{ex}", f"{aid}:total", "total"):
            if col not in cols:
                cols.append(col)
            table.setdefault(sid, {}).setdefault(col, 0.0)
            table[sid][col] += score
    for sid, aid, ex, _g, _score, mx in rows:
        if sid == rows[0][0]:
            for col in (f"{aid}:{ex}", f"{aid}:total", "total"):
                maxes[col] = maxes.get(col, 0.0) + mx
    order = sorted(cols, key=lambda c: (c == "total", c.split(":")[0], c.endswith(":total")))
    wide_path = out / "grades.csv"
    with open(wide_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", *order])
        w.writerow(["(max)", *[f"{maxes.get(c, 0.0):g}" for c in order]])
        for sid in sorted(table):
            w.writerow([sid, *[f"{table[sid].get(c, 0.0):g}" for c in order]])
    say(f"wrote {wide_path} and {long_path}")
    return wide_path, long_path
