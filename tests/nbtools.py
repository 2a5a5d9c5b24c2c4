"""Run pieces of a source notebook in-process, to test its autograder cells.

Import it one way only, ``from tests.nbtools import Notebook`` (one module object, one cache).
A test file starts with::

    NB = Notebook("05")
    pytestmark = NB.pytestmark

``NB.must_fail("test_f", {"f": src}, "keyword")`` executes the notebook's setup cells, every
solution cell (the one whose grade_id is "f" replaced by ``src``, a plausible mistake), then the
test cell ``test_f``, and asserts that it fails with a message containing ``keyword``;
``NB.must_pass("test_f", {"f": src})`` asserts that a correct solution in another style passes.

Conventions of the source notebooks that this relies on (cells read with grading.notebooks):
* setup cells: code cells whose nbgrader grade_id starts with "setup" (imports, data, seeds);
* solution cells: nbgrader ``solution: true``, grade_id = the function's name;
* test cells: nbgrader ``grade: true``, grade_id = ``test_<function>``;
* none of these cells uses IPython magics (lines starting with % or ! are skipped anyway).
"""

from __future__ import annotations

import ast
import hashlib
import linecache
import os
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from grading import notebooks as gn

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HELPERS_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def notebook_path(prefix: str) -> Path:
    """The source notebook whose file name starts with ``prefix`` (e.g. "02")."""
    found = sorted(NOTEBOOKS.glob(f"{prefix}*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no notebook notebooks/{prefix}*.ipynb")
    return found[0]


def _kind(cell) -> str:
    gid = gn.grade_id(cell) or ""
    if gn.is_solution(cell):
        return "solution"
    if gn.is_test(cell):
        return "test"
    return "setup" if gid.startswith("setup") else "other"


@cache
def _cells(path: str) -> tuple:
    nb = gn.read(path)
    return tuple((_kind(c), gn.grade_id(c) or "", gn.source_text(c))
                 for c in nb.cells if c.get("cell_type") == "code")


def cells(path: Path | str, kind: str | None = None) -> list[tuple[str, str, str]]:
    """[(kind, grade_id, source)] of the notebook's code cells, optionally of one kind."""
    return [c for c in _cells(str(path)) if kind is None or c[0] == kind]


def _clean(src: str) -> str:
    return "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))


def stub(src: str) -> str:
    """The release's version of a solution cell: every function it defines raises
    NotImplementedError (as nbgrader's ``raise NotImplementedError()`` stub does)."""
    tree = ast.parse(textwrap.dedent(src))
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            node.body = [ast.parse("raise NotImplementedError()").body[0]]
            out.append(ast.unparse(node))
    return "\n\n".join(out)


def run_cell(src: str, label: str, ns: dict) -> None:
    """Execute one cell's code in ``ns`` as a Jupyter kernel does: its text is kept in
    ``linecache`` (as IPython and the grader's learner process keep it), so ``inspect.getsource``
    and TensorFlow's AutoGraph (which converts ``float(t)``, ``if t > 0:``… inside
    ``tf.function``) see the source and behave as in JupyterLab. Each text gets its own file name,
    so a mutant never reads another version's source."""
    filename = f"<{label} {hashlib.sha1(src.encode()).hexdigest()[:10]}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec"), ns)


def namespace(path: Path | str, replace: dict[str, str] | None = None) -> dict:
    """Execute setup cells and solution cells (some replaced) in a fresh namespace."""
    replace = replace or {}
    ns: dict = {"__name__": "__main__"}
    for kind, gid, src in cells(path):
        if kind == "setup":
            run_cell(_clean(src), gid, ns)
        elif kind == "solution":
            run_cell(_clean(textwrap.dedent(replace.get(gid, src))), gid, ns)
    return ns


def run_test(path: Path | str, test_id: str, replace: dict[str, str] | None = None,
             ns: dict | None = None) -> tuple[bool, str]:
    """Run test cell ``test_id`` after the setup and solution cells; (passed, message)."""
    src = {gid: s for kind, gid, s in cells(path, "test")}
    if test_id not in src:
        raise KeyError(f"{path} has no test cell {test_id!r}; it has {sorted(src)}")
    ns = dict(ns) if ns is not None else namespace(path, replace)
    try:
        run_cell(_clean(src[test_id]), test_id, ns)
    except Exception as exc:  # a failing test: AssertionError, or the learner's code raising
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


@dataclass(frozen=True)
class Notebook:
    """One source notebook's test tools: ``Notebook("05")``."""

    prefix: str

    @property
    def path(self) -> Path:
        return notebook_path(self.prefix)

    @property
    def pytestmark(self):
        return pytest.mark.xdist_group(f"nb{self.prefix}")

    def cells(self, kind: str | None = None) -> list[tuple[str, str, str]]:
        return cells(self.path, kind)

    def solutions(self) -> dict[str, str]:
        return {gid: src for _, gid, src in self.cells("solution")}

    def namespace(self, replace: dict[str, str] | None = None) -> dict:
        return namespace(self.path, replace)

    def run_test(self, test_id: str, replace: dict[str, str] | None = None,
                 ns: dict | None = None) -> tuple[bool, str]:
        return run_test(self.path, test_id, replace, ns)

    def must_fail(self, test_id: str, replace: dict[str, str], keyword: str | list[str]) -> str:
        """The test rejects this mistake with a message naming it (every keyword, any case)."""
        ok, msg = self.run_test(test_id, replace)
        keywords = [keyword] if isinstance(keyword, str) else keyword
        assert not ok, f"{test_id} accepted a wrong solution ({keywords} expected)"
        for k in keywords:
            assert k.lower() in msg.lower(), f"{test_id}: message {msg!r} lacks {k!r}"
        return msg

    def code_cell(self, cell_id: str) -> str:
        return code_cell(self.path, cell_id)

    def failing_tests(self) -> dict[str, str]:
        """{test_id: message} of the test cells the reference solutions fail, all run in one
        namespace in notebook order (empty: every test passes)."""
        ns = self.namespace()
        results = {gid: self.run_test(gid, ns=ns) for _, gid, _ in self.cells("test")}
        return {gid: msg for gid, (ok, msg) in results.items() if not ok}

    def must_pass(self, test_id: str, replace: dict[str, str] | None = None,
                  ns: dict | None = None) -> None:
        """The test accepts this correct solution (another style)."""
        ok, msg = self.run_test(test_id, replace, ns)
        assert ok, f"{test_id} rejected a correct solution: {msg}"


def code_cell(path: Path | str, cell_id: str) -> str:
    """The source of the code cell whose nbformat id is ``cell_id`` (e.g. a "See it" cell)."""
    for c in gn.read(path).cells:
        if c.get("id") == cell_id and c.get("cell_type") == "code":
            return gn.source_text(c)
    raise KeyError(f"{path} has no code cell with id {cell_id!r}")
