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
import html
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from . import jail, review
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


def printable(text: object, limit: int = 1000) -> str:
    """``text`` as one line of visible characters: control characters (newlines, terminal escape
    sequences) and invisible format characters (bidirectional overrides) written as escapes, so a
    submission's words can never add or hide a line of the report or the terminal."""
    text = str(text)[:limit]
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


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


MAX_MEMBER_BYTES = 4 * 64 * 1024**2  # one file of a submissions .zip, uncompressed
MAX_ZIP_BYTES = 8 * 1024**3  # all of them


def _safe_extract(zip_path: Path, dest: Path, report: CollectReport) -> None:
    """Extract a .zip of submissions into ``dest``: a member whose path leaves ``dest`` is never
    written; one larger than MAX_MEMBER_BYTES uncompressed (a "zip bomb" compresses gigabytes of
    zeros into kilobytes), or past MAX_ZIP_BYTES in all, is listed as unplaced and not written.
    ``zipfile`` reads no more than a member's declared size, so the declared sizes bound what is
    written."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise GradingError(f"{zip_path} is not a readable .zip file") from None
    total = 0
    with zf:
        for info in zf.infolist():
            target = (dest / info.filename).resolve()
            if not str(target).startswith(str(dest.resolve()) + os.sep):
                continue  # a path leaving the folder: never extracted
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            total += info.file_size
            if info.file_size > MAX_MEMBER_BYTES or total > MAX_ZIP_BYTES:
                report.unplaced.append((info.filename, f"{info.file_size / 1024**2:.0f} MB "
                                        "uncompressed, more than a submission can be: not "
                                        "extracted"))
                total -= info.file_size
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
            _safe_extract(path, top, report)
        else:
            top = path
        top = _unwrap(top)
        chosen: dict[tuple[str, str], Path] = {}
        for student, file, rel in _distinct_ids(_candidates(top, report), report):
            _consider(student, file, rel, top, aids, chosen, report)
        for (sid, aid), file in sorted(chosen.items()):
            rel = str(file.relative_to(top))
            if _place(course, sid, aid, file, _raw_student(file, top)):
                report.placed.append((sid, aid, rel))
            else:
                report.unplaced.append((rel, f"{sid} / {aid} was placed earlier under another "
                                        "student name; not overwritten (rename, or remove the "
                                        "earlier one from submitted/)"))
        if report.unplaced:
            report.kept_in = _keep_unplaced(course.root / "unplaced" / stamp, top, report)
    for sid, aid, rel in report.placed:
        say(f"placed   {printable(rel)}  ->  {sid} / {aid}")
    for rel, reason in report.unplaced:
        say(f"UNPLACED {printable(rel)}: {printable(reason)}")
    if report.unplaced:
        say(f"{len(report.unplaced)} file(s) could not be placed; copies kept in {report.kept_in}")
    say(f"collected {len(report.placed)} submission(s) from {len({p[0] for p in report.placed})} "
        "student(s)")
    return report


SYMLINK = "a symbolic link: never followed (submit the notebook file itself)"


def _distinct_ids(cands: list[tuple[str, Path, str]],
                  report: CollectReport) -> list[tuple[str, Path, str]]:
    """The candidates whose student id no other student name becomes ("bob." and "bob!" both
    become "bob"): a name that *is* its id keeps it; the others are unplaced, never merged."""
    names: dict[str, set[str]] = {}
    for student, _f, _r in cands:
        names.setdefault(_student_id(student), set()).add(student)
    out = []
    for student, file, rel in cands:
        sid = _student_id(student)
        if len(names[sid]) > 1 and student != sid:
            others = sorted(names[sid] - {student})
            report.unplaced.append((rel, f"the student name {student!r} becomes the id {sid!r}, "
                                    f"as {', '.join(map(repr, others))} does; rename it"))
        else:
            out.append((student, file, rel))
    return out


def _raw_student(file: Path, top: Path) -> str:
    rel = file.relative_to(top)
    return rel.parts[0] if len(rel.parts) > 1 else file.stem.split("_", 1)[0]


def _entries(top: Path) -> list[Path]:
    return [e for e in top.iterdir() if not e.name.startswith((".", "__MACOSX"))]


def _unwrap(top: Path) -> Path:
    """Step into single wrapping folders (a zip of a folder of student folders)."""
    entries = _entries(top)
    while (len(entries) == 1 and entries[0].is_dir()
           and not any(f.suffix == ".ipynb" for f in entries[0].iterdir())
           and any(d.is_dir() for d in entries[0].iterdir())):
        top = entries[0]
        entries = _entries(top)
    return top


def _candidates(top: Path, report: CollectReport) -> list[tuple[str, Path, str]]:
    """(student, file, path relative to top) of every file that may be a submission."""
    out = []
    for entry in sorted(_entries(top)):
        if entry.is_symlink():  # a link to the course's sources or to a classmate's folder
            report.unplaced.append((entry.name, SYMLINK))
        elif entry.is_dir():
            for f in sorted(entry.rglob("*")):  # rglob lists links but never enters them
                if f.is_symlink():
                    report.unplaced.append((str(f.relative_to(top)), SYMLINK))
                elif f.is_file():
                    out.append((entry.name, f, str(f.relative_to(top))))
        elif entry.is_file() and "_" in entry.stem:
            out.append((entry.stem.split("_", 1)[0], entry, entry.name))
        elif entry.is_file():
            report.unplaced.append((entry.name, "a file outside any student folder, and its "
                                    "name does not start with <student>_"))
    return out


def _consider(student: str, file: Path, rel: str, top: Path, aids: list[str],
              chosen: dict[tuple[str, str], Path], report: CollectReport) -> None:
    """Choose ``file`` for (student, notebook) in ``chosen``, or say in ``report`` why not."""
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
            (str(older.relative_to(top)), f"a second file for {sid} / {aid}; the newer one was kept"))
        return
    chosen[key] = file


def _place(course: Course, sid: str, aid: str, file: Path, name: str) -> bool:
    """Copy ``file`` to submitted/<sid>/<aid>/; False (nothing written) when an earlier collect
    placed it there under another student name (``student_name.txt``)."""
    dest = course.root / "submitted" / sid / aid
    owner = dest / "student_name.txt"
    if owner.is_file() and owner.read_text(encoding="utf-8") != name:
        return False
    dest.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW)  # a link swapped in meanwhile: an error
    with os.fdopen(fd, "rb") as src, open(dest / f"{aid}.ipynb", "wb") as dst:
        shutil.copyfileobj(src, dst)
        mtime = dt.datetime.fromtimestamp(os.fstat(src.fileno()).st_mtime, dt.UTC)
    (dest / "timestamp.txt").write_text(mtime.strftime(TIMESTAMP_FORMAT))
    owner.write_text(name, encoding="utf-8")
    return True


def _keep_unplaced(keep: Path, top: Path, report: CollectReport) -> Path:
    for rel, _ in report.unplaced:
        src = top / rel
        if src.is_file() and not src.is_symlink():
            (keep / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, keep / rel)
    return keep


# -- autograde ----------------------------------------------------------------------------------
GRADED, NOT_GRADED = "graded", "not_graded"


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
    status: str = GRADED  # NOT_GRADED: the sandbox failed (infrastructure); never a score
    reason: str = ""

    def __post_init__(self) -> None:  # the learner's words (grade ids, messages) stay one line
        self.problems = [printable(x) for x in self.problems]
        self.events = [printable(x) for x in self.events]
        self.suspicious = [printable(x, 200) for x in self.suspicious]
        self.reason = printable(self.reason)

    @property
    def flagged(self) -> bool:
        return bool(self.problems or self.events or self.suspicious or self.status != GRADED)


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
    writes there, and no sandbox can reach them, so a change means a bug or a person; files
    outside it (notebooks/, helpers/, data/) may be edited by a person while a batch runs, so a
    change there is reported, never overwritten."""
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
            say(f"WARNING: {path} changed while submissions ran (by a person?): check it, "
                "e.g. with `git diff`")
    for j in ("-journal", "-wal", "-shm"):
        extra = Path(str(course.db_path) + j)
        if extra.exists():
            extra.unlink()
    return restored


MAX_NOTEBOOK_BYTES = 64 * 1024**2  # a course notebook is < 1 MB; its outputs (figures) a few MB
MAX_CELLS = 5000  # a course notebook has ~100-200 cells; each cell costs time on both sides


def _read_capped(path: Path) -> bytes:
    """The bytes of a submission, at most one more than MAX_NOTEBOOK_BYTES (a 4 GB notebook is
    never read whole: the grader's memory is every student's)."""
    with open(path, "rb") as fh:
        return fh.read(MAX_NOTEBOOK_BYTES + 1)


def make_task(info: N.SourceInfo, raw: bytes, task_id, limits: Limits, hidden: bool = True,
              sandbox: bool = True, readonly: tuple[Path, ...] = ()):
    """(task, assembled, problems) for one submitted notebook; task is None if unreadable."""
    if len(raw) > MAX_NOTEBOOK_BYTES:
        return None, None, [f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB: not "
                            "graded, every test scores 0 (clear its outputs and hand it in again)"]
    if raw.count(b'"cell_type"') > MAX_CELLS:  # counted before parsing: 200k cells cost minutes
        return None, None, [f"the notebook has more than {MAX_CELLS} cells: not graded, every "
                            "test scores 0 (remove the cells you added and hand it in again)"]
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
        "limits": asdict(limits),
        "sandbox": sandbox,
        "readonly": [str(p) for p in readonly],
    }
    return task, asm, list(asm.problems)


def _failed(task: dict, reason: str) -> dict:
    """The result of a task whose worker broke (an infrastructure failure, not a grade)."""
    return {"id": task["id"], "status": NOT_GRADED, "reason": reason, "tests": {}, "events": [],
            "seconds": 0.0, "notebook": task["notebook"]}


def _run_tasks(tasks: list[dict], workers: int | None, scheduler: str | None):
    """Yield one result per task, in completion order; a worker that raises or dies yields a
    not-graded result for its task instead of stopping the batch."""
    if not tasks:
        return
    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = client.map(grade_task, tasks, pure=False)
            by_key = {f.key: t for f, t in zip(futures, tasks)}
            for fut in dask_completed(futures):
                try:
                    yield fut.result()
                except Exception as exc:
                    yield _failed(by_key[fut.key], f"the Dask worker failed: {exc!r}"[:500])
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        for t in tasks:
            try:
                yield grade_task(t)
            except Exception as exc:
                yield _failed(t, f"the grader failed: {exc!r}"[:500])
        return
    import multiprocessing as mp

    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)),
                             mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(grade_task, t): t for t in tasks}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # a worker process that died (BrokenProcessPool) …
                yield _failed(futures[fut], f"the worker process failed: {exc!r}"[:500])


def _run_apart(tasks: list[dict], workers: int | None, scheduler: str | None):
    """A retry: with local workers, each task in a process pool of its own (still ``workers`` at
    a time), so that a submission whose worker process dies (killed, out of memory) cannot again
    break the pool of the classmates retried with it."""
    if scheduler or workers == 1:
        yield from _run_tasks(tasks, workers, scheduler)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as threads:
        futures = [threads.submit(lambda t=t: list(_run_tasks([t], 2, None))) for t in tasks]
        for fut in as_completed(futures):
            yield from fut.result()


def grade_with_retries(tasks: list[dict], workers: int | None, scheduler: str | None,
                       retries: int = 3, backoff: float = 2.0):
    """Yield the final result of every task. A not-graded result (the sandbox or the learner
    process did not start) is retried up to ``retries`` more times, after ``backoff``,
    2·``backoff``… seconds; what still fails is yielded as not graded."""
    pending = list(tasks)
    for attempt in range(retries + 1):
        failed = []
        run = _run_tasks if attempt == 0 else _run_apart
        for res in run(pending, workers, scheduler):
            if res.get("status", GRADED) == NOT_GRADED and attempt < retries:
                failed.append(res)
            else:
                res.setdefault("status", GRADED)
                res["attempts"] = attempt + 1
                yield res
        if not failed:
            return
        ids = {json.dumps(r["id"]) for r in failed}
        pending = [t for t in tasks if json.dumps(t["id"]) in ids]
        wait = backoff * 2**attempt
        why = printable(failed[0].get("reason", ""), 200)
        say(f"  {len(pending)} submission(s) not graded ({why}); "
            f"retrying in {wait:g} s")
        time.sleep(wait)


def _state_path(course: Course) -> Path:
    return course.root / "reports" / "grading_state.json"


def load_state(course: Course) -> dict[str, dict]:
    """{"student/notebook": {"status", "digest", "reason"}} of the last autograde runs."""
    try:
        return json.loads(_state_path(course).read_text())
    except (OSError, ValueError):
        return {}


def _save_state(course: Course, state: dict[str, dict]) -> None:
    path = _state_path(course)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)


def _find_jobs(course: Course, infos, assignments, students) -> list[tuple[str, str, Path]]:
    import sqlite3

    submitted = course.root / "submitted"
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
    return jobs


def _job_digest(info: N.SourceInfo, raw: bytes) -> str:
    return hashlib.sha256(info.path.read_bytes() + b"\0" + raw).hexdigest()


def autograde(
    course: Course,
    assignments: list[str] | None = None,
    students: list[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    limits: Limits | None = None,
    sandbox: bool = True,
    regrade: bool = False,
    retries: int = 3,
    backoff: float = 2.0,
) -> dict[tuple[str, str], Outcome]:
    """Grade the collected submissions in parallel, each in its own sandbox; then write the
    gradebook (serially, here: no sandbox can reach it).

    ``regrade=False`` (the default, as on the command line) grades only submissions that are new,
    changed, or were *not graded* last time (the sandbox failed); ``True`` grades all."""
    limits = limits or Limits()
    infos = _load_sources(course)
    _check_ready(course, limits, sandbox)
    state = load_state(course)
    raws = {(sid, aid): _read_capped(p)
            for sid, aid, p in _find_jobs(course, infos, assignments, students)}
    if not regrade:
        raws = _skip_graded(raws, infos, state)
    if not raws:
        say("nothing to grade")
        return {}
    protected = _protected_files(course)
    tasks, found, done = _make_tasks(course, infos, raws, limits, sandbox)
    where = (f"the Dask cluster at {scheduler}" if scheduler
             else f"{workers or os.cpu_count()} local worker(s)")
    say(f"grading {len(tasks)} submission(s) with {where}")
    done.update(_grade(tasks, found, infos, workers, scheduler, retries, backoff))
    outcomes = {key: o for key, (o, _nb) in done.items()}
    _restore_protected(course, protected)
    _write_results(course, infos, outcomes, {key: nb for key, (_o, nb) in done.items()}, limits)
    for (sid, aid), o in outcomes.items():
        state[f"{sid}/{aid}"] = {"status": o.status, "reason": o.reason,
                                 "digest": _job_digest(infos[aid], raws[(sid, aid)])}
    _save_state(course, state)
    _write_report(course, outcomes, state)
    return outcomes


# (student, notebook) -> its outcome and its autograded notebook (None when not graded)
Graded = dict[tuple[str, str], tuple[Outcome, nbformat.NotebookNode | None]]


def _make_tasks(course: Course, infos: dict[str, N.SourceInfo],
                raws: dict[tuple[str, str], bytes], limits: Limits, sandbox: bool
                ) -> tuple[list[dict], dict[tuple[str, str], tuple[list[str], list[str]]], Graded]:
    """(the grading tasks, {(student, notebook): (problems found, review flags)} of each task,
    the outcomes of the unreadable submissions: every test 0, no task)."""
    tasks, found, unreadable = [], {}, {}
    for (sid, aid), raw in raws.items():
        info = infos[aid]
        task, asm, problems = make_task(info, raw, [sid, aid], limits, sandbox=sandbox,
                                        readonly=course.extra_dirs)
        sus = review.flags(raw.decode("utf-8", "replace") if task is None
                           else N.learner_code(asm))
        if task is None:
            tests = {g: {"status": "not run", "message": "unreadable notebook"} for g in info.points}
            unreadable[(sid, aid)] = (
                Outcome(sid, aid, 0.0, info.max_score, tests, problems,
                        ["the notebook could not be read; every test scores 0"], sus),
                N.assemble(info, None).nb)
            continue
        tasks.append(task)
        found[(sid, aid)] = (problems, sus)
    return tasks, found, unreadable


def _grade(tasks: list[dict], found: dict, infos: dict[str, N.SourceInfo], workers: int | None,
           scheduler: str | None, retries: int, backoff: float) -> Graded:
    """Run the tasks (retrying infrastructure failures) and say each score as it arrives."""
    graded: Graded = {}
    for res in grade_with_retries(tasks, workers, scheduler, retries, backoff):
        key = tuple(res["id"])
        o, nb = _outcome(infos[key[1]], res, *found[key])
        graded[key] = (o, nb)
        shown = f"{o.score:g} / {o.max_score:g}" if o.status == GRADED else "NOT GRADED"
        say(f"  {o.student} / {o.assignment}: {shown}  ({res.get('seconds', 0.0):.1f} s)")
    return graded


def _check_ready(course: Course, limits: Limits, sandbox: bool) -> None:
    """A released, collected course, and a sandbox that starts (or an explicit --no-sandbox)."""
    if not course.db_path.exists():
        raise GradingError("no gradebook yet: run `python -m grading release` first")
    if not (course.root / "submitted").is_dir():
        raise GradingError(f"nothing collected yet ({course.root / 'submitted'} is missing): run "
                           "`python -m grading collect FOLDER_OR_ZIP` first")
    if not sandbox:
        say(NO_SANDBOX_WARNING)
        print(NO_SANDBOX_WARNING, file=sys.stderr, flush=True)
        return
    try:
        jail.check_available(limits)
    except jail.SandboxUnavailable as exc:
        raise GradingError(f"the sandbox cannot start: {exc}\nGrading untrusted code without it "
                           "is unsafe; fix the above, or (only for code you trust) pass "
                           "--no-sandbox.") from None


def _skip_graded(raws: dict, infos: dict, state: dict) -> dict:
    """Only the submissions not graded yet with exactly these bytes (and this source)."""
    todo = {}
    for (sid, aid), raw in raws.items():
        last = state.get(f"{sid}/{aid}", {})
        if not (last.get("status") == GRADED
                and last.get("digest") == _job_digest(infos[aid], raw)):
            todo[(sid, aid)] = raw
    if len(todo) < len(raws):
        say(f"{len(raws) - len(todo)} submission(s) already graded and unchanged: kept "
            "(--all grades them again)")
    return todo


NO_SANDBOX_WARNING = (
    "WARNING: --no-sandbox: learners' code runs as YOUR user, with your files, your network and "
    "the grader's own files within its reach. Use it only for code you trust.")


def _outcome(info: N.SourceInfo, res: dict, problems, sus):
    sid, aid = res["id"]
    if res.get("status") == NOT_GRADED:
        tests = {g: {"status": "not graded", "message": ""} for g in info.points}
        o = Outcome(sid, aid, 0.0, info.max_score, tests, problems, list(res.get("events", [])),
                    sus, res.get("seconds", 0.0), NOT_GRADED,
                    res.get("reason") or "the sandbox did not start")
        return o, None
    tests = {g: res["tests"].get(g, {"status": "not run", "message": ""}) for g in info.points}
    score = sum(info.points[g] for g, r in tests.items() if r["status"] == "passed")
    o = Outcome(sid, aid, score, info.max_score, tests, problems, list(res.get("events", [])),
                sus, res.get("seconds", 0.0))
    return o, nbformat.reads(res["notebook"], as_version=4)


def _write_report(course: Course, outcomes: dict, state: dict) -> None:
    report_dir = course.root / "reports"
    report_dir.mkdir(parents=True, exist_ok=True)
    with open(report_dir / "autograde_report.txt", "w", encoding="utf-8") as fh:
        for o in sorted(outcomes.values(), key=lambda o: (o.assignment, o.student)):
            if o.status == GRADED:
                fh.write(f"{o.student} / {o.assignment}: {o.score:g} / {o.max_score:g}\n")
            else:
                fh.write(f"{o.student} / {o.assignment}: NOT GRADED ({o.reason}); run "
                         "autograde again\n")
            for line in o.problems + o.events:
                fh.write(f"    - {line}\n")
            if o.suspicious:
                fh.write(f"    - flagged for review: {'; '.join(o.suspicious)}\n")
    for o in (o for o in outcomes.values() if o.flagged):
        say(f"flagged: {o.student} / {o.assignment}")
        for line in o.problems + o.events:
            say(f"    - {line}")
        if o.suspicious:
            say(f"    - review by hand: {'; '.join(o.suspicious)}")
    missing = sorted(k for k, v in state.items() if v.get("status") == NOT_GRADED)
    if missing:
        say(f"NOT GRADED ({len(missing)}): {', '.join(missing)} — the sandbox failed for them "
            "(not a score). Run `python -m grading autograde` again: it grades exactly those.")
    say(f"graded {sum(o.status == GRADED for o in outcomes.values())} submission(s); report in "
        f"{report_dir / 'autograde_report.txt'}")


def not_graded(course: Course) -> list[str]:
    """The "student/notebook" keys whose last autograde was an infrastructure failure."""
    return sorted(k for k, v in load_state(course).items() if v.get("status") == NOT_GRADED)


def cap_outputs(nb: nbformat.NotebookNode, limit: int) -> nbformat.NotebookNode:
    """Cut every cell's outputs (streams, errors, rich data) to about ``limit`` bytes."""
    for cell in nb.cells:
        outs, size, cut = [], 0, False
        for out in cell.get("outputs", []) or []:
            n = len(json.dumps(out))
            if size + n <= limit:
                outs.append(out)
                size += n
                continue
            room = max(limit - size, 0) // 2
            if out.get("output_type") == "stream":
                out["text"] = str(out.get("text", ""))[:room]
                outs.append(out)
            elif out.get("output_type") == "error":
                out["evalue"] = str(out.get("evalue", ""))[:room]
                out["traceback"] = [str(t)[:room] for t in out.get("traceback", [])[-3:]]
                outs.append(out)
            size, cut = limit, True
        if cut:
            outs.append(nbformat.v4.new_output("stream", name="stdout",
                                               text=f"\n[output cut: more than {limit} bytes]\n"))
        if "outputs" in cell:
            cell["outputs"] = outs
    return nb


def _write_results(course, infos, outcomes, notebooks, limits: Limits) -> None:
    import warnings

    with warnings.catch_warnings(), _gradebook(course) as gb:
        warnings.simplefilter("ignore")
        for (sid, aid), o in sorted(outcomes.items()):
            gb.update_or_create_student(sid)
            sub_dir = course.root / "submitted" / sid / aid
            ts_file = sub_dir / "timestamp.txt"
            ts = _timestamp(ts_file)
            gb.update_or_create_submission(aid, sid, **({"timestamp": ts} if ts else {}))
            snb = gb.find_submission_notebook(aid, aid, sid)
            for grade in snb.grades:
                if grade.name not in o.tests:
                    continue
                if o.status == GRADED:
                    grade.auto_score = (infos[aid].points[grade.name]
                                        if o.tests[grade.name]["status"] == "passed" else 0.0)
                    grade.needs_manual_grade = False
                else:  # no score at all: "needs grading", never 0
                    grade.auto_score = None
                    grade.needs_manual_grade = True
                grade.manual_score = None
            snb.flagged = o.flagged
            gb.db.commit()
            out_dir = course.root / "autograded" / sid / aid
            if o.status != GRADED:
                shutil.rmtree(out_dir, ignore_errors=True)
                continue
            out_dir.mkdir(parents=True, exist_ok=True)
            nbformat.write(cap_outputs(notebooks[(sid, aid)], limits.output_bytes),
                           str(out_dir / f"{aid}.ipynb"))
            (out_dir / "results.json").write_text(json.dumps(
                {"student": sid, "notebook": aid, "score": o.score, "max_score": o.max_score,
                 "tests": {g: {**r, "points": infos[aid].points[g]} for g, r in o.tests.items()},
                 "problems": o.problems, "events": o.events}, indent=1))
            if ts_file.exists():
                shutil.copy2(ts_file, out_dir / "timestamp.txt")


def _timestamp(ts_file: Path):
    if not ts_file.exists():
        return None
    try:
        from nbgrader.utils import parse_utc

        return parse_utc(ts_file.read_text().strip())
    except Exception:
        return None


# -- feedback and export ------------------------------------------------------------------------
def feedback(course: Course) -> list[Path]:
    """One HTML page per student and notebook, under feedback/<student>/<assignment>/: each
    test's name, points and message (never the tests' code), and the learner's own answers."""
    auto = course.root / "autograded"
    if not auto.is_dir():
        raise GradingError("nothing autograded yet: run `python -m grading autograde` first")
    infos = _load_sources(course)
    made = []
    for res_file in sorted(auto.glob("*/*/results.json")):
        sid, aid = res_file.parent.parent.name, res_file.parent.name
        results = json.loads(res_file.read_text())
        nb_file = res_file.parent / f"{aid}.ipynb"
        answers = _answers(infos.get(aid), nb_file)
        page = course.root / "feedback" / sid / aid / f"{aid}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(feedback_html(results, infos.get(aid), answers), encoding="utf-8")
        made.append(page)
    say(f"wrote {len(made)} feedback page(s) under {course.root / 'feedback'}")
    return made


def _answers(info: N.SourceInfo | None, nb_file: Path) -> list[tuple[str, str]]:
    """(label, code) of the learner's answer cells in an autograded notebook."""
    if info is None or not nb_file.exists():
        return []
    nb = N.read(nb_file)
    out = []
    for cell in nb.cells:
        gid = N.grade_id(cell)
        if cell.get("cell_type") == "code" and gid in info.solutions:
            out.append((gid, N.source_text(cell)))
    return out


def feedback_html(results: dict, info: N.SourceInfo | None,
                  answers: list[tuple[str, str]]) -> str:
    """The feedback page: a table of tests (name, exercise, points, message) and the answers."""
    esc = html.escape
    rows = []
    for gid, r in results["tests"].items():
        earned = r["points"] if r["status"] == "passed" else 0.0
        ex = info.exercise_of(gid) if info else gid
        rows.append(f"<tr class='{esc(r['status'].replace(' ', '-'))}'><td>{esc(ex)}</td>"
                    f"<td>{esc(gid)}</td><td>{earned:g} / {r['points']:g}</td>"
                    f"<td>{esc(r['status'])}</td><td>{esc(r.get('message', ''))}</td></tr>")
    notes = "".join(f"<li>{esc(x)}</li>" for x in results.get("problems", []) +
                    results.get("events", []))
    code = "".join(f"<h3>{esc(label)}</h3><pre>{esc(src)}</pre>" for label, src in answers)
    title = f"{results['student']} / {results['notebook']}"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Feedback: {esc(title)}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}"
        "table{border-collapse:collapse}tr.passed td:nth-child(4){color:#080}"
        "tr.failed td:nth-child(4){color:#b00}pre{background:#f6f6f6;padding:.6em}"
        "</style></head><body>"
        f"<h1>Feedback: {esc(results['notebook'])}</h1><p>Student: {esc(results['student'])}</p>"
        f"<p class='score'>Score: {results['score']:g} / {results['max_score']:g}</p>"
        "<table><tr><th>exercise</th><th>test</th><th>points</th><th>result</th>"
        f"<th>message</th></tr>{''.join(rows)}</table>"
        + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
        + (f"<h2>Your answers</h2>{code}" if code else "")
        + "</body></html>\n"
    )


def export(course: Course, out: Path | str | None = None) -> tuple[Path, Path]:
    """grades.csv (one row per student, a column per exercise and per notebook) and
    grades_long.csv (one row per student and exercise)."""
    out = Path(out) if out else course.root / "export"
    out.mkdir(parents=True, exist_ok=True)
    if not course.db_path.exists():
        raise GradingError("no gradebook yet: run `python -m grading release` first")
    missing = set(not_graded(course))
    rows = _grade_rows(course, _load_sources(course), missing)
    long_path, wide_path = out / "grades_long.csv", out / "grades.csv"
    _write_long(long_path, rows)
    _write_wide(wide_path, rows)
    say(f"wrote {wide_path} and {long_path}")
    if missing:
        say(f"{len(missing)} submission(s) are NOT GRADED (marked '{NOT_GRADED_CELL}', not 0): "
            "run `python -m grading autograde` again")
    return wide_path, long_path


# (student, notebook, exercise, test, score or None when not graded, max score)
Row = tuple[str, str, str, str, float | None, float]


def _grade_rows(course: Course, infos: dict[str, N.SourceInfo], missing: set[str]) -> list[Row]:
    """A row per student and test of every notebook in the gradebook, in the source's test
    order; a notebook a student did not submit scores 0, one NOT GRADED (``missing``) None."""
    rows: list[Row] = []
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
                if sub is not None:
                    rows += _submission_rows(sub, info, sid, aid, f"{sid}/{aid}" in missing)
                elif info:
                    rows += [(sid, aid, info.exercise_of(g), g, 0.0, pts)
                             for g, pts in info.points.items()]
    return rows


def _submission_rows(sub, info: N.SourceInfo | None, sid: str, aid: str,
                     not_graded: bool) -> list[Row]:
    """The rows of one gradebook submission (score None when it is NOT GRADED)."""
    order = list(info.points) if info else []
    rows: list[Row] = []
    for nb in sub.notebooks:
        grades = sorted(nb.grades, key=lambda g: (
            order.index(g.name) if g.name in order else len(order), g.name))
        for grade in grades:
            score = None if not_graded else float(grade.score or 0.0)
            ex = info.exercise_of(grade.name) if info else grade.name
            rows.append((sid, aid, ex, grade.name, score, float(grade.max_score)))
    return rows


def _write_long(path: Path, rows: list[Row]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "notebook", "exercise", "test", "score", "max_score"])
        w.writerows([(*r[:4], NOT_GRADED_CELL if r[4] is None else r[4], r[5]) for r in rows])


def _write_wide(path: Path, rows: list[Row]) -> None:
    """A row per student, a column per exercise, per notebook and the total; then the maxima
    (from the first student's rows: every student has the same tests)."""
    cols: list[str] = []
    table: dict[str, dict[str, float | None]] = {}
    maxes: dict[str, float] = {}
    for sid, aid, ex, _g, score, _mx in rows:
        for col in (f"{aid}:{ex}", f"{aid}:total", "total"):
            if col not in cols:
                cols.append(col)
            now = table.setdefault(sid, {}).setdefault(col, 0.0)
            table[sid][col] = None if now is None or score is None else now + score
    for sid, aid, ex, _g, _score, mx in rows:
        if sid == rows[0][0]:
            for col in (f"{aid}:{ex}", f"{aid}:total", "total"):
                maxes[col] = maxes.get(col, 0.0) + mx
    order = sorted(cols, key=lambda c: (c == "total", c.split(":")[0], c.endswith(":total")))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", *order])
        w.writerow(["(max)", *[f"{maxes.get(c, 0.0):g}" for c in order]])
        for sid in sorted(table):
            w.writerow([sid, *[_cell(table[sid].get(c, 0.0)) for c in order]])


NOT_GRADED_CELL = "not graded"


def _cell(value: float | None) -> str:
    return NOT_GRADED_CELL if value is None else f"{value:g}"
