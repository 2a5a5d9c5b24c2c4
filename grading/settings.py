"""Where things live, and the limits a submission runs under.

Every command works on a :class:`Course`: the folder of source notebooks (``notebooks/``), the
nbgrader course root (``grading/course/``, gitignored) and the learner's workspace
(``workspace/``). The tests build a ``Course`` over their own tiny fixture course.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE_ID = "idnn"

# stderr never costs a point: the course's tests fail by raising, so anything on stderr
# (warnings.warn, TensorFlow's C++ log lines, tqdm) is noise. nbgrader's IgnorePattern removes
# every stderr output matching this regular expression (re.search), so a serial
# `nbgrader autograde` with grading/nbgrader_config.py agrees with our own grader.
IGNORE_STDERR_PATTERN = r"[\s\S]"

# The environment of every kernel we launch (on top of a minimal clean environment).
KERNEL_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "MPLBACKEND": "agg",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "NBGRADER_EXECUTION": "autograde",
    # one BLAS thread per kernel: parallel grading runs one kernel per core
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Defaults suit the course's notebooks (each < ~60 s)."""

    cell_timeout: float = 120.0  # wall seconds per cell
    notebook_timeout: float = 1200.0  # wall seconds for the whole notebook
    cpu_seconds: int = 1200  # RLIMIT_CPU of the kernel process
    memory_bytes: int = 8 * 1024**3  # RLIMIT_AS of the kernel process
    file_bytes: int = 256 * 1024**2  # RLIMIT_FSIZE: largest file the kernel may write
    output_bytes: int = 200_000  # per cell; more is cut with a note
    processes: int = 512  # RLIMIT_NPROC inside one sandbox (threads count too)
    tmpfs_bytes: int = 256 * 1024**2  # each of /tmp, /var/tmp, /dev/shm and the scratch folder
    startup_timeout: float = 60.0


@dataclass(frozen=True)
class Course:
    """The folders one run of the tool works on."""

    source_dir: Path = field(default_factory=lambda: REPO / "notebooks")
    root: Path = field(default_factory=lambda: REPO / "grading" / "course")
    workspace: Path = field(default_factory=lambda: REPO / "workspace")
    extra_dirs: tuple[Path, ...] = field(
        default_factory=lambda: (REPO / "helpers", REPO / "data")
    )
    course_id: str = COURSE_ID

    @property
    def db_path(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    def sources(self) -> list[Path]:
        """The source notebooks, in course order (their file names start with NN_)."""
        if not self.source_dir.is_dir():
            return []
        return sorted(
            p
            for p in self.source_dir.glob("*.ipynb")
            if not p.name.startswith(".") and ".ipynb_checkpoints" not in p.parts
        )

    def assignment_ids(self) -> list[str]:
        return [p.stem for p in self.sources()]

    def source_of(self, assignment_id: str) -> Path:
        return self.source_dir / f"{assignment_id}.ipynb"


def course_from_env() -> Course:
    """The default course, with folders overridable by environment variables (for the tests)."""
    kw = {}
    if os.environ.get("GRADING_SOURCE_DIR"):
        kw["source_dir"] = Path(os.environ["GRADING_SOURCE_DIR"]).resolve()
    if os.environ.get("GRADING_COURSE_ROOT"):
        kw["root"] = Path(os.environ["GRADING_COURSE_ROOT"]).resolve()
    if os.environ.get("GRADING_WORKSPACE"):
        kw["workspace"] = Path(os.environ["GRADING_WORKSPACE"]).resolve()
    return Course(**kw)


def apply_nbgrader_config(c, root: Path | str, course_id: str = COURSE_ID) -> None:
    """Set the nbgrader options this course relies on, on a traitlets Config ``c``."""
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = course_id
    c.Execute.timeout = int(Limits().cell_timeout)
    c.Execute.interrupt_on_timeout = True
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = IGNORE_STDERR_PATTERN
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    # A deleted test cell is *not* put back by nbgrader unless told to; we say so, so a plain
    # serial `nbgrader autograde` also scores it (our own grader scores a deletion 0 and reports it).
    c.OverwriteCells.add_missing_cells = True
    c.Autograde.create_student = True
