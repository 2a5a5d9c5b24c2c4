"""``python -m grading VERB``: the one command-line entry point of the grading tools."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from .course import (
    GradingError,
    autograde,
    collect,
    export,
    feedback,
    not_graded,
    release,
)
from .learner import check, workspace
from .notebooks import NotebookError
from .settings import Course, Limits, course_from_env

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m grading",
        description="Learner: workspace, check.  Instructor: release, collect, autograde, "
        "feedback, export (nbgrader course root: grading/course/).",
    )
    p.add_argument("--source-dir", type=Path, help="source notebooks (default: notebooks/)")
    p.add_argument("--course-root", type=Path, help="nbgrader course root (default: grading/course/)")
    p.add_argument("--workspace-dir", type=Path, help="learner workspace (default: workspace/)")
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    w = sub.add_parser("workspace", help="put new student notebooks into workspace/ (never overwrites)")
    w.add_argument("--fresh", metavar="NB", help="a fresh copy of notebook NB (e.g. 02); "
                   "your old copy is kept with a timestamp")
    c = sub.add_parser("check", help="run the visible tests of your notebook NB (e.g. 02)")
    c.add_argument("nb", nargs="?", default="", metavar="NB")
    c.add_argument("--strict", action="store_true", help="exit with status 1 unless all pass")
    c.add_argument("--timeout", type=float, help="seconds per cell (default 120)")

    sub.add_parser("release", help="student versions of every notebook + a learner bundle")
    co = sub.add_parser("collect", help="place a folder or .zip of submissions into submitted/")
    co.add_argument("path", type=Path)
    a = sub.add_parser("autograde", help="grade every collected submission, in parallel")
    a.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    a.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://host:8786")
    a.add_argument("--assignment", action="append", help="only this notebook (repeatable)")
    a.add_argument("--student", action="append", help="only this student (repeatable)")
    a.add_argument("--timeout", type=float, help="seconds per cell (default 120)")
    a.add_argument("--memory-gb", type=float, help="memory limit per kernel (default 8)")
    a.add_argument("--all", action="store_true", help="grade every submission again (default: "
                   "only new, changed and not-graded ones)")
    a.add_argument("--retries", type=int, default=3,
                   help="retries of a submission whose sandbox failed to start (default 3)")
    a.add_argument("--no-sandbox", action="store_true",
                   help="run learners' code WITHOUT the bubblewrap sandbox, as your own user "
                   "(unsafe: only for code you trust; a warning is printed on every run)")
    sub.add_parser("feedback", help="HTML feedback per student under feedback/")
    e = sub.add_parser("export", help="grades.csv and grades_long.csv")
    e.add_argument("--out", type=Path, help="folder for the CSV files (default: <course>/export)")
    return p


def _limits(args) -> Limits:
    lim = Limits()
    if getattr(args, "timeout", None):
        lim = replace(lim, cell_timeout=args.timeout)
    if getattr(args, "memory_gb", None):
        lim = replace(lim, memory_bytes=int(args.memory_gb * 1024**3))
    return lim


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    course = course_from_env()
    kw = {}
    if args.source_dir:
        kw["source_dir"] = args.source_dir.resolve()
    if args.course_root:
        kw["root"] = args.course_root.resolve()
    if args.workspace_dir:
        kw["workspace"] = args.workspace_dir.resolve()
    if kw:
        course = Course(**{**course.__dict__, **kw})
    try:
        if args.verb == "workspace":
            workspace(course, fresh=args.fresh)
        elif args.verb == "check":
            results = check(course, args.nb, _limits(args))
            if args.strict and any(s != "passed" for s, _ in results.values()):
                return 1
        elif args.verb == "release":
            release(course)
        elif args.verb == "collect":
            collect(course, args.path)
        elif args.verb == "autograde":
            autograde(course, assignments=args.assignment, students=args.student,
                      workers=args.workers, scheduler=args.scheduler, limits=_limits(args),
                      sandbox=not args.no_sandbox, regrade=args.all, retries=args.retries)
            if not_graded(course):
                print(f"error: {len(not_graded(course))} submission(s) could not be graded (the "
                      "sandbox failed; no score was recorded). Run autograde again.",
                      file=sys.stderr)
                return 1
        elif args.verb == "feedback":
            feedback(course)
        elif args.verb == "export":
            export(course, args.out)
    except (GradingError, NotebookError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
