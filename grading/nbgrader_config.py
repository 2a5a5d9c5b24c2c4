"""nbgrader's configuration for this course (read by `nbgrader …` run from grading/).

The course root is grading/course/ (gitignored): source/, release/, submitted/, autograded/,
feedback/ and gradebook.db live there. The same settings are applied by `python -m grading`,
which drives nbgrader through its Python API (see grading/settings.py).
"""

from pathlib import Path

from grading.settings import apply_nbgrader_config

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)
apply_nbgrader_config(c, Path(__file__).resolve().parent / "course")
