"""Autograde the same N submissions with a plain serial `nbgrader autograde` and with our parallel
autograde, in one run; print both times, the ratio, the time per notebook, and confirm that the
scores are identical.

    .venv/bin/python bench/grading_speed.py                # N=20 over all notebooks/
    .venv/bin/python bench/grading_speed.py --n 24 --notebooks 01 04 07 --workers 2
    .venv/bin/python bench/grading_speed.py --scheduler tcp://host:8786   # a Dask cluster

The submissions are honest: the source notebook itself (full marks), the untouched student
version (zero) and a half-done one (the first half of the answers), in turn. With no notebooks in
notebooks/ yet, the fixture course of the tests is used. Ours runs every submission's learner
code in its own bubblewrap sandbox and its tests in the trusted worker (see grading/README.md),
so the figure includes the sandbox's cost. Target: >= 1.8x the serial throughput on a 2-core
machine. For thousands of submissions, start `dask scheduler` and `dask worker ADDRESS
--nthreads 1` on every machine (each with this course installed) and pass --scheduler ADDRESS:
the same task function, grading.sandbox.grade_task, runs on the workers.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grading import course as C  # noqa: E402
from grading import notebooks as N  # noqa: E402
from grading.settings import Course  # noqa: E402
from tests import serial_nbgrader as serial  # noqa: E402


def half_done(info: N.SourceInfo):
    """The student version with the first half of the answers filled in from the source."""
    nb = N.student_version(info.nb)
    keep = set(info.solutions[: len(info.solutions) // 2])
    answers = {N.grade_id(c): c.source for c in info.nb.cells if N.grade_id(c) in keep}
    for cell in nb.cells:
        if N.grade_id(cell) in answers:
            cell.source = answers[N.grade_id(cell)]
    return nb


def write_submissions(sources: list[Path], infos: dict, subs: Path, n: int) -> None:
    """n honest submissions, in turn over the notebooks: solution, untouched, half done."""
    kinds = ["solution", "untouched", "half"]
    for i in range(n):
        aid = sources[i % len(sources)].stem
        kind = kinds[(i // len(sources)) % len(kinds)]
        info = infos[aid]
        nb = {"solution": info.nb, "untouched": N.student_version(info.nb),
              "half": half_done(info)}[kind]
        d = subs / f"s{i:03d}_{kind}"
        d.mkdir(parents=True)
        (d / f"{aid}.ipynb").write_text(N.dumps(nb))


def serial_nbgrader(sources: list[Path], serial_root: Path) -> tuple[float, dict[str, float]]:
    """Plain serial nbgrader, one `nbgrader autograde` per notebook, BLAS free to use every core:
    (total s, s per notebook)."""
    times = {}
    t0 = time.perf_counter()
    for p in sources:
        t = time.perf_counter()
        r = serial.autograde(serial_root, p.stem, one_blas_thread=False)
        times[p.stem] = time.perf_counter() - t
        if r.returncode != 0:
            print(f"serial nbgrader failed on {p.stem}:\n{r.stderr[-2000:]}")
    return time.perf_counter() - t0, times


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="number of submissions (default 20)")
    ap.add_argument("--notebooks", nargs="*", help="only notebooks starting with these prefixes")
    ap.add_argument("--workers", type=int, default=os.cpu_count(), help="local workers")
    ap.add_argument("--scheduler", help="address of a Dask scheduler")
    ap.add_argument("--keep", action="store_true", help="keep the temporary course folders")
    return ap.parse_args()


def select_sources(prefixes: list[str] | None) -> list[Path]:
    """The course's source notebooks (the tests' fixture course while notebooks/ is empty)
    whose names start with one of ``prefixes`` (all when None or empty)."""
    course = Course()
    if not course.sources():
        print("no notebooks in notebooks/ yet: using the tests' fixture course")
        course = Course(source_dir=REPO / "tests" / "fixtures" / "grading" / "notebooks")
    return [p for p in course.sources()
            if not prefixes or any(p.stem.startswith(x) for x in prefixes)]


def make_courses(sources: list[Path], n: int, tmp: Path) -> tuple[Course, Path]:
    """A released course under ``tmp`` with ``n`` collected submissions (ours), and a copy of
    its root for the serial nbgrader run: (our course, the serial root)."""
    src_dir = tmp / "notebooks"
    src_dir.mkdir()
    for p in sources:
        shutil.copy2(p, src_dir / p.name)
    ours = Course(source_dir=src_dir, root=tmp / "ours", workspace=tmp / "ws", extra_dirs=())
    with redirect_stdout(io.StringIO()):
        C.release(ours)
    infos = {p.stem: N.load_source(src_dir / p.name) for p in sources}
    write_submissions(sources, infos, tmp / "subs", n)
    with redirect_stdout(io.StringIO()):
        C.collect(ours, tmp / "subs")
    shutil.copytree(ours.root, tmp / "serial")
    return ours, tmp / "serial"


def print_figures(args: argparse.Namespace, sources: list[Path], serial_s: float,
                  serial_times: dict[str, float], parallel_s: float, outcomes: dict) -> None:
    print(f"serial nbgrader autograde : {serial_s:8.1f} s")
    where = f"Dask at {args.scheduler}" if args.scheduler else f"{args.workers} local workers"
    print(f"parallel (ours, {where}): {parallel_s:8.1f} s")
    print(f"speed-up                  : {serial_s / parallel_s:8.2f}x  (target >= 1.8x on 2 cores)")
    print("per notebook (serial nbgrader s/submission | ours: kernel s/submission):")
    for p in sources:
        n = sum(1 for (_s, aid) in outcomes if aid == p.stem)
        mine = [o.seconds for (s, aid), o in outcomes.items() if aid == p.stem]
        print(f"  {p.stem:28s} {serial_times[p.stem] / max(n, 1):7.1f} | "
              f"{sum(mine) / max(len(mine), 1):7.1f}   ({n} submissions)")


def compare_scores(a: dict, b: dict) -> bool:
    """Print whether the serial (``a``) and our (``b``) gradebooks agree, and where not."""
    same = a == b
    print(f"scores identical: {same}  ({len(a)} grades compared)")
    if not same:
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                print(f"  {key}: serial {a.get(key)} vs ours {b.get(key)}")
    return same


def main() -> int:
    args = parse_args()
    sources = select_sources(args.notebooks)
    if not sources:
        print("no notebook matches --notebooks", args.notebooks)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="grading-bench-"))
    ours, serial_root = make_courses(sources, args.n, tmp)
    print(f"{args.n} submissions over {len(sources)} notebook(s): "
          f"{', '.join(p.stem for p in sources)}")

    # 1. plain serial nbgrader, one `nbgrader autograde` per notebook (all students)
    serial_s, serial_times = serial_nbgrader(sources, serial_root)

    # 2. ours, in parallel
    t0 = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        outcomes = C.autograde(ours, workers=args.workers, scheduler=args.scheduler)
    parallel_s = time.perf_counter() - t0

    print_figures(args, sources, serial_s, serial_times, parallel_s, outcomes)
    same = compare_scores(serial.auto_scores(serial_root / "gradebook.db"),
                          serial.auto_scores(ours.db_path))
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
