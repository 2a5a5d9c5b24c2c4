"""The project's shape rule: no function outside the notebooks is longer than MAX_LINES lines.

A function's length is counted from its ``def`` line to its last line (``end_lineno - lineno +
1``: decorators are not counted; its docstring, comments and blank lines inside it are).
Methods and nested functions are measured on their own (and still count inside their parent).
Every ``.py`` file under the project's Python folders is read; the virtual environment, the
learner's workspace and the instructor's course folder (grading/course) are not project code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("helpers", "grading", "tests", "bench", "docs", "data")
SKIP = {".venv", "workspace", "__pycache__", ".ipynb_checkpoints", "node_modules"}
SKIP_PATHS = (Path("grading") / "course",)
MAX_LINES = 60


def python_files(root: Path = ROOT) -> list[Path]:
    """Every project .py file under FOLDERS (paths relative to ``root``), sorted."""
    files = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root)
            if SKIP & set(rel.parts) or any(rel.is_relative_to(p) for p in SKIP_PATHS):
                continue
            files.append(rel)
    return files


def function_lengths(source: str) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length in lines) of every function and method in some
    code, nested ones included (``Class.method``, ``outer.inner``)."""
    return list(_functions(ast.parse(source), ""))


def _functions(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + child.name
            yield name, child.lineno, child.end_lineno - child.lineno + 1
            yield from _functions(child, name + ".")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, prefix + child.name + ".")
        else:
            yield from _functions(child, prefix)


def too_long(root: Path = ROOT, limit: int = MAX_LINES) -> list[str]:
    """"file:function:length" of every function longer than ``limit`` lines, longest first."""
    rows = []
    for rel in python_files(root):
        for name, line, n in function_lengths((root / rel).read_text(encoding="utf-8")):
            if n > limit:
                rows.append((n, f"{rel.as_posix()}:{name}:{n} (line {line})"))
    return [text for _n, text in sorted(rows, key=lambda r: (-r[0], r[1]))]


def test_no_function_is_longer_than_the_limit():
    assert python_files(), f"no Python files found under {FOLDERS} of {ROOT}"
    long = too_long()
    assert not long, (
        f"{len(long)} function(s) longer than {MAX_LINES} lines (def line to last line, "
        "decorators not counted) — split each into short, well-named functions that pass "
        "their state through arguments and return values:\n  " + "\n  ".join(long))


SAMPLE = '''
import functools

@functools.cache
def short():
    return 1

class Box:
    def method(self):
{method_body}
        def inner():
{inner_body}
        return inner

async def coroutine():
{coroutine_body}
'''


def _body(n: int, indent: int) -> str:
    return "\n".join(" " * indent + f"x{i} = {i}" for i in range(n))


@pytest.mark.parametrize("limit, expected", [
    (100, []),
    (12, ["Box.method:17", "coroutine:13"]),
    # `short` is 2 lines from its def (3 with its decorator, which is not counted)
    (2, ["Box.method:17", "coroutine:13", "Box.method.inner:11"]),
])
def test_the_measure_sees_methods_nested_functions_and_coroutines(tmp_path, limit, expected):
    code = SAMPLE.format(method_body=_body(4, 8), inner_body=_body(10, 12),
                         coroutine_body=_body(12, 4))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "sample.py").write_text(code)
    (tmp_path / "grading" / "course").mkdir(parents=True)
    (tmp_path / "grading" / "course" / "skipped.py").write_text(
        "def f():\n" + _body(200, 4) + "\n")
    found = too_long(tmp_path, limit)
    assert [row.split(" (")[0] for row in found] == [f"tests/sample.py:{e}" for e in expected]
