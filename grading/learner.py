"""The learner's side: the workspace of student notebooks, and the local self-check.

The self-check (``make check NB=02``) grades the learner's notebook with the same machinery as
autograde (:func:`grading.sandbox.grade_task`: the learner's code in a sandboxed process, the
visible tests in this one), without the hidden tests. It never depends on the instructor's
module (``grading/course.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict
from pathlib import Path

import nbformat

from . import notebooks as N
from .sandbox import grade_task
from .settings import REPO, Course, Limits


class GradingError(N.NotebookError):
    """A problem the learner can fix; the message says what is wrong and what to do."""


def say(msg: str = "") -> None:
    print(msg, flush=True)

_BACKUP = re.compile(r"\.\d{8}-\d{6}(-\d+)?\.ipynb$")


def _match_source(course: Course, which: str) -> Path:
    sources = course.sources()
    hits = [p for p in sources if p.stem == which or p.name == which]
    hits = hits or [p for p in sources if p.stem.startswith(which)]
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(p.stem for p in sources) or "none yet"
    if not hits:
        raise GradingError(f"no course notebook starts with {which!r}. The notebooks: {names}")
    raise GradingError(f"{which!r} matches several notebooks ({', '.join(p.stem for p in hits)}); "
                       "give more of the name")


def workspace(course: Course, fresh: str | None = None) -> list[Path]:
    """Copy student versions of new notebooks into the workspace; never overwrite a file.

    With ``fresh``, the learner's copy of that one notebook is renamed with a timestamp and a
    new student version takes its place.
    """
    ws = course.workspace
    ws.mkdir(parents=True, exist_ok=True)
    added = []
    if fresh is not None:
        src = _match_source(course, fresh)
        target = ws / src.name
        if target.exists():
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            backup = ws / f"{src.stem}.{stamp}.ipynb"
            n = 1
            while backup.exists():
                backup = ws / f"{src.stem}.{stamp}-{n}.ipynb"
                n += 1
            target.rename(backup)
            say(f"kept your old copy as {backup.name}")
        nbformat.write(N.student_version(N.read(src)), str(target))
        say(f"fresh copy: {target}")
        return [target]
    sources = course.sources()
    if not sources:
        say(f"No notebooks in {course.source_dir} yet; your workspace {ws} is ready.")
        return []
    for src in sources:
        target = ws / src.name
        if target.exists():
            continue
        try:
            nb = N.student_version(N.read(src))
        except N.NotebookError as exc:
            say(f"skipped {src.name}: {exc}")
            continue
        tmp = target.with_suffix(".ipynb.part")
        nbformat.write(nb, str(tmp))
        if target.exists():  # appeared meanwhile: never overwrite
            tmp.unlink()
            continue
        tmp.rename(target)
        added.append(target)
        say(f"added {target.relative_to(ws.parent) if ws.parent in target.parents else target}")
    kept = len(sources) - len(added)
    say(f"workspace {ws}: {len(added)} notebook(s) added, {kept} already there (left untouched)")
    return added


def _find_workspace_notebook(course: Course, which: str) -> Path:
    p = Path(which)
    if p.suffix == ".ipynb" and p.exists():
        return p
    ws = course.workspace
    if not ws.is_dir():
        raise GradingError(f"no workspace at {ws}: run `make lab` (or `python -m grading "
                           "workspace`) first")
    cands = sorted(f for f in ws.glob("*.ipynb") if not _BACKUP.search(f.name))
    hits = [f for f in cands if f.stem == which] or [f for f in cands if f.name.startswith(which)]
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(f.stem for f in cands) or "none"
    if not hits:
        raise GradingError(f"no notebook in {ws} starts with {which!r}. Your notebooks: {names}. "
                           "Usage: make check NB=02")
    raise GradingError(f"{which!r} matches several notebooks ({', '.join(f.stem for f in hits)}); "
                       "give more of the name")


def check_task(info: N.SourceInfo, raw: bytes, name: str, limits: Limits,
               sandbox: bool = True) -> tuple[dict | None, list[str]]:
    """(task for grade_task, problems) for the visible tests of one notebook; None if unreadable."""
    try:
        asm = N.assemble(info, N.reads(raw, name), hidden=False)
    except N.NotebookError as exc:
        return None, [str(exc)]
    test_ids = {str(i): N.grade_id(c) for i, c in enumerate(asm.nb.cells)
                if asm.roles[i] in (N.TEST, N.DELETED)}
    task = {"id": name, "notebook": nbformat.writes(asm.nb), "roles": asm.roles,
            "test_ids": test_ids, "limits": asdict(limits), "sandbox": sandbox,
            "readonly": [str(REPO / "helpers"), str(REPO / "data")]}
    return task, list(asm.problems)


def _verdict(statuses: list[dict]) -> tuple[str, str]:
    """(status, message) of one exercise from the results of its visible test cells."""
    failed = [s for s in statuses if s["status"] != "passed"]
    if not failed:
        return "passed", ""
    first = failed[0]
    msg = first.get("message") or first["status"]
    if "NotImplementedError" in msg:
        return "not done", "not implemented yet (replace `raise NotImplementedError()`)"
    if first["status"] == "deleted":
        return "failed", "its test cell was deleted: take a fresh copy to get it back"
    if first["status"] == "not run":
        return "failed", "the test did not run (see the notes below)"
    return "failed", msg


def check(course: Course, which: str, limits: Limits | None = None) -> dict:
    """Run the visible tests of the learner's notebook (read only) and print, per exercise,
    passed / failed with the test's message. Returns {exercise: (status, message)}."""
    if not which:
        raise GradingError("say which notebook to check, e.g. `make check NB=02`")
    path = _find_workspace_notebook(course, which)
    raw = path.read_bytes()  # the only access to the learner's file
    src_path = course.source_of(path.stem)
    try:
        info = N.load_source(src_path if src_path.exists() else path)
    except N.NotebookError as exc:
        raise GradingError(str(exc)) from None
    task, problems = check_task(info, raw, path.name, limits or Limits())
    if task is None:
        raise GradingError(f"{problems[0]}\nYour file was not changed. To start over from a "
                           f"fresh copy (your old one is kept): make fresh NB={path.stem[:2]}")
    say(f"Checking {path.name} (visible checks only; your file is not modified) ...")
    res = grade_task(task)
    if res["status"] != "graded":  # no sandbox on this machine: your own code, run as you
        say(f"  note: {res['reason']}; checking without the sandbox")
        res = grade_task({**task, "sandbox": False})
    if res["status"] != "graded":
        raise GradingError(f"the check could not run: {res['reason']}")
    results = {}
    for ex in info.exercises:
        statuses = [res["tests"].get(t, {"status": "not run", "message": ""}) for t in ex.tests]
        status, msg = _verdict(statuses)
        results[ex.name] = (status, msg)
        say(f"  {status.upper():7} {ex.name}" + (f": {msg}" if msg else ""))
    for line in problems + res["events"]:
        say(f"  note: {line}")
    n_pass = sum(1 for s, _ in results.values() if s == "passed")
    if n_pass == len(results):
        say(f"{n_pass} of {len(results)} exercise(s): the visible checks passed; more run at grading.")
    else:
        say(f"{n_pass} of {len(results)} exercise(s) pass the visible checks; more run at grading.")
    return results
