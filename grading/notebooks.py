"""Reading source notebooks, making student versions, and rebuilding a submission for grading.

A submission is never executed as it was handed in. :func:`assemble` rebuilds it from the
*source* notebook: every test cell, locked cell and ordinary course cell comes from the source
(with its hidden tests); only the learner's answers (solution cells, matched by ``grade_id``) and
the cells the learner added come from the submission. So edited, moved, duplicated or re-pointed
test cells, changed points and a foreign kernelspec have no effect, and a deleted test cell is
noticed (it scores 0 and is reported).
"""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"

# Roles of the cells of an assembled notebook (what the executor does with them).
SOURCE, STUDENT, TEST, DELETED = "source", "student", "test", "deleted"
# Metadata key, on the solution cells of an assembled notebook, naming what the *source* answer
# binds (the learner's functions the tests call); removed from the autograded notebook.
BINDS_KEY = "grading_binds"
MAX_PARSE = 200_000  # characters: a larger cell is not analysed (it simply runs)


class NotebookError(Exception):
    """A notebook that cannot be read or used; the message says what to do."""


def read(path: Path | str) -> NotebookNode:
    path = Path(path)
    try:
        return nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such notebook") from None
    except Exception as exc:  # malformed JSON, not a notebook, wrong encoding
        raise NotebookError(
            f"{path}: not a readable notebook ({type(exc).__name__}: {str(exc)[:200]}). "
            "Open it in JupyterLab and save it again, or take a fresh copy."
        ) from None


def reads(text: str | bytes, name: str = "notebook") -> NotebookNode:
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        nb = nbformat.reads(text, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
        return valid_unicode(nb)
    except Exception as exc:
        raise NotebookError(
            f"{name}: not a readable notebook ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None


def valid_unicode(nb: NotebookNode) -> NotebookNode:
    """``nb`` with every lone surrogate (``"\\ud800"`` in the JSON: text no file can hold, which
    would stop the writing of the autograded notebook, the report or the feedback) as ``?``."""
    text = json.dumps(nb, ensure_ascii=False)
    try:
        text.encode("utf-8")
        return nb
    except UnicodeEncodeError:
        return nbformat.reads(text.encode("utf-8", "replace").decode("utf-8"), as_version=4)


def meta(cell) -> dict:
    md = cell.get("metadata") or {}
    nbg = md.get("nbgrader") if isinstance(md, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def grade_id(cell) -> str | None:
    gid = meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def source_text(cell) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(str(s) for s in src)
    return src if isinstance(src, str) else ""


def is_solution(cell) -> bool:
    return bool(meta(cell).get("solution"))


def is_test(cell) -> bool:
    m = meta(cell)
    return bool(m.get("grade")) and not m.get("solution") and cell.get("cell_type") == "code"


def strip_hidden(text: str) -> str:
    """The visible part of a test cell (hidden test regions and their markers removed)."""
    out, hidden = [], False
    for line in text.splitlines(keepends=True):
        if BEGIN_HIDDEN in line:
            hidden = True
        elif END_HIDDEN in line:
            hidden = False
        elif not hidden:
            out.append(line)
    return "".join(out).rstrip("\n")


@dataclass
class Exercise:
    name: str  # the solution cell's grade_id (the function's name)
    tests: list[str] = field(default_factory=list)  # grade_ids of its test cells


@dataclass
class SourceInfo:
    """What the grader needs to know about one source notebook."""

    path: Path
    nb: NotebookNode
    points: dict[str, float]  # test grade_id -> points, in notebook order
    solutions: list[str]
    exercises: list[Exercise]

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))

    def exercise_of(self, test_id: str) -> str:
        for ex in self.exercises:
            if test_id in ex.tests:
                return ex.name
        return test_id


def load_source(path: Path | str) -> SourceInfo:
    path = Path(path)
    nb = read(path)
    points: dict[str, float] = {}
    solutions: list[str] = []
    exercises: list[Exercise] = []
    seen: set[str] = set()
    last_solution: str | None = None
    for i, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if meta(cell) and not gid and (is_solution(cell) or meta(cell).get("grade")):
            raise NotebookError(f"{path.name}: cell {i} is an nbgrader cell without a grade_id")
        if gid is None:
            continue
        if gid in seen:
            raise NotebookError(f"{path.name}: grade_id {gid!r} is used by two cells")
        seen.add(gid)
        if is_solution(cell):
            solutions.append(gid)
            last_solution = gid
        elif is_test(cell):
            try:
                points[gid] = float(meta(cell).get("points", 0))
            except (TypeError, ValueError):
                raise NotebookError(f"{path.name}: test cell {gid!r} has no numeric points") from None
            target = gid[5:] if gid.startswith("test_") and gid[5:] in solutions else last_solution
            ex = next((e for e in exercises if e.name == target), None)
            if ex is None:
                ex = Exercise(target or gid)
                exercises.append(ex)
            ex.tests.append(gid)
    return SourceInfo(path, nb, points, solutions, exercises)


def solution_regions(nb: NotebookNode) -> list[str]:
    """The text of every solution region and hidden-test region of a source notebook."""
    regions = []
    for cell in nb.cells:
        lines = source_text(cell).splitlines()
        inside, buf = None, []
        for line in lines:
            if BEGIN_SOLUTION in line or BEGIN_HIDDEN in line:
                inside, buf = line, []
            elif (END_SOLUTION in line or END_HIDDEN in line) and inside is not None:
                text = "\n".join(b for b in buf if b.strip())
                if text.strip():
                    regions.append(text)
                inside = None
            elif inside is not None:
                buf.append(line)
    return regions


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def leaked_regions(source_nb: NotebookNode, release_nb: NotebookNode) -> list[str]:
    """The solution / hidden-test regions of a source notebook whose code is still in a release:
    a region leaks when all its lines appear, in order and consecutively, as whole lines of one
    cell of the release (a formula quoted inside a sentence of a docstring does not count)."""
    cells = [_lines(source_text(c)) for c in release_nb.cells]
    leaked = []
    for region in solution_regions(source_nb):
        want = _lines(region)
        n = len(want)
        if n and any(cell[i : i + n] == want for cell in cells for i in range(len(cell) - n + 1)):
            leaked.append(region)
    return leaked


def student_version(nb: NotebookNode) -> NotebookNode:
    """The learner's version of a source notebook, made by nbgrader's own preprocessors."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    nb = copy.deepcopy(nb)
    resources: dict = {}
    for pp in (
        LockCells,
        ClearSolutions,
        ClearOutput,
        CheckCellMetadata,
        ComputeChecksums,
        ClearHiddenTests,
        ClearMarkScheme,
        ComputeChecksums,
        CheckCellMetadata,
    ):
        nb, resources = pp().preprocess(nb, resources)
    return nb


def _parse(code: str) -> ast.Module | None:
    if len(code) > MAX_PARSE:
        return None
    try:
        return ast.parse(strip_magics(code))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def top_level_names(code: str) -> set[str]:
    """The names some code binds at its top level (assignments, defs, classes, imports)."""
    tree = _parse(code)
    names: set[str] = set()
    for node in tree.body if tree else []:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For | ast.With):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


@dataclass
class Assembled:
    nb: NotebookNode
    roles: list[str]
    problems: list[str]  # what was wrong with the submission (reported to the instructor)
    deleted: list[str]  # grade_ids of test cells missing from the submission


def _clean_cell(cell: dict, cell_type: str, src: str, md: dict | None = None) -> NotebookNode:
    if cell_type == "code":
        new = nbformat.v4.new_code_cell(src)
    elif cell_type == "markdown":
        new = nbformat.v4.new_markdown_cell(src)
    else:
        new = nbformat.v4.new_raw_cell(src)
    if md:
        new.metadata.update(copy.deepcopy(md))
    if isinstance(cell, dict) and isinstance(cell.get("id"), str):
        new["id"] = cell["id"]
    return new


def assemble(source: SourceInfo, submitted: NotebookNode | None, hidden: bool = True) -> Assembled:
    """The notebook to execute: the source's own cells plus the learner's answers and cells.

    ``submitted`` is None when the submission could not be read: then every answer is empty.
    With ``hidden=False`` (the learner's self-check) hidden tests are left out.
    """
    sub_cells = list(submitted.cells) if submitted is not None else []
    first, attached, problems = _match_submission(source, sub_cells, hidden)
    cells, roles, rebuilt_problems, deleted = _rebuild(
        source, first, attached, hidden, submitted is not None)
    _unique_ids(cells)
    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(source.nb.metadata)  # the course's kernelspec, never the learner's
    nb.cells = cells
    return Assembled(nb, roles, problems + rebuilt_problems, deleted)


# An anchor: the source cell a learner's added cells follow — ("gid", grade_id) or ("id", cell id);
# None for cells above every source cell.
Anchor = tuple[str, str] | None


def _match_submission(source: SourceInfo, sub_cells: list, hidden: bool
                      ) -> tuple[dict[str, dict], dict[Anchor, list[NotebookNode]], list[str]]:
    """Read a submission's cells against the source: (the first submitted cell of each source
    grade_id, the learner's added cells by the anchor they follow, the problems found)."""
    src_gids = {grade_id(c): c for c in source.nb.cells if grade_id(c)}
    src_ids = {c.get("id"): c for c in source.nb.cells if c.get("id") and not grade_id(c)}
    first: dict[str, dict] = {}
    attached: dict[Anchor, list[NotebookNode]] = {}
    problems: list[str] = []
    anchor: Anchor = None
    for n, cell in enumerate(sub_cells):
        if not isinstance(cell, dict):
            problems.append(f"cell {n} is not a cell; ignored")
            continue
        gid = grade_id(cell)
        ctype = cell.get("cell_type")
        if ctype not in ("code", "markdown", "raw"):
            problems.append(f"cell {n} has unknown type {ctype!r}; ignored")
            continue
        if gid in src_gids and gid not in first:
            first[gid] = cell
            problems += _graded_cell_problems(source, src_gids[gid], cell, gid, hidden)
            anchor = ("gid", gid)
            continue
        problems += _foreign_metadata_problems(n, cell, gid, gid in src_gids)
        cid = cell.get("id")
        if gid is None and cid in src_ids and not meta(cell):
            anchor = ("id", cid)
            continue
        if ctype != "raw":
            attached.setdefault(anchor, []).append(_clean_cell(cell, ctype, source_text(cell)))
    return first, attached, problems


def _graded_cell_problems(source: SourceInfo, src_cell: dict, cell: dict, gid: str,
                          hidden: bool) -> list[str]:
    """What the learner changed in the submitted copy of a source answer or test cell."""
    problems = []
    if is_solution(src_cell) and not is_solution(cell):
        problems.append(f"cell {gid!r}: its nbgrader metadata was changed")
    if is_test(src_cell):
        if source_text(cell).strip() != source_text(src_cell).strip() and hidden:
            # the learner sees only the visible part; compare with that
            if source_text(cell).strip() != strip_hidden(source_text(src_cell)).strip():
                problems.append(f"test cell {gid!r} was edited; the original was graded")
        try:
            pts = float(meta(cell).get("points", -1))
        except (TypeError, ValueError):
            pts = -1
        if pts != source.points.get(gid):
            problems.append(f"test cell {gid!r}: points changed; the course's points used")
    return problems


def _foreign_metadata_problems(n: int, cell: dict, gid: str | None, known: bool) -> list[str]:
    """A learner's cell (the ``n``-th) that claims a grade_id already taken (``known``) or
    carries nbgrader metadata the course does not have: it runs as an ordinary cell."""
    if known:
        return [f"a second cell claims grade_id {gid!r}; run as an ordinary cell"]
    if meta(cell) and (gid or meta(cell).get("grade") or meta(cell).get("solution")):
        return [f"cell {n} carries nbgrader metadata unknown to the course"
                f" ({gid or 'no grade_id'}); run as an ordinary cell"]
    return []


def _rebuild(source: SourceInfo, first: dict[str, dict],
             attached: dict[Anchor, list[NotebookNode]], hidden: bool, readable: bool
             ) -> tuple[list[NotebookNode], list[str], list[str], list[str]]:
    """The source's cells in order, each followed by the learner's cells anchored to it:
    (cells, their roles, problems, grade_ids of deleted test cells). ``readable``: the
    submission could be read (else a missing test cell is not "deleted")."""
    cells: list[NotebookNode] = list(attached.get(None, []))
    roles: list[str] = [STUDENT] * len(cells)
    problems: list[str] = []
    deleted: list[str] = []
    for sc in source.nb.cells:
        gid = grade_id(sc)
        cell, role, problem = _rebuilt_cell(sc, first, hidden, readable)
        cells.append(cell)
        roles.append(role)
        if problem:
            problems.append(problem)
        if role == DELETED:
            deleted.append(gid)
        extra = attached.get(("gid", gid) if gid else ("id", sc.get("id")), [])
        cells.extend(extra)
        roles.extend([STUDENT] * len(extra))
    return cells, roles, problems, deleted


def _rebuilt_cell(sc: dict, first: dict[str, dict], hidden: bool, readable: bool
                  ) -> tuple[NotebookNode, str, str | None]:
    """One source cell as it is executed: (cell, role, the problem it reveals or None)."""
    gid = grade_id(sc)
    ctype = sc.get("cell_type", "code")
    md = {"nbgrader": copy.deepcopy(meta(sc))} if meta(sc) else None
    if gid and is_solution(sc):
        return _answer_cell(sc, ctype, md, first.get(gid))
    if gid and is_test(sc):
        return _test_cell(sc, ctype, md, hidden, deleted=readable and gid not in first)
    return _clean_cell(sc, ctype, source_text(sc), md), SOURCE, None


def _answer_cell(sc: dict, ctype: str, md: dict | None, sub: dict | None
                 ) -> tuple[NotebookNode, str, str | None]:
    """A source answer cell holding the learner's answer (``sub``, None when missing); a code
    answer carries what the source answer binds (BINDS_KEY), for the grader."""
    gid = grade_id(sc)
    problem = None if sub is not None else f"answer cell {gid!r} is missing from the submission"
    text = source_text(sub) if sub is not None else ""
    if ctype == "code":
        funcs, values = functions_defined(source_text(sc))
        md = {**(md or {}), BINDS_KEY: {"functions": sorted(funcs), "values": sorted(values)}}
    return _clean_cell(sc, ctype, text, md), STUDENT if ctype == "code" else SOURCE, problem


def _test_cell(sc: dict, ctype: str, md: dict | None, hidden: bool, deleted: bool
               ) -> tuple[NotebookNode, str, str | None]:
    """A source test cell (hidden tests left out unless ``hidden``); one the learner deleted
    scores 0 and says so in its output."""
    text = source_text(sc) if hidden else strip_hidden(source_text(sc))
    cell = _clean_cell(sc, ctype, text, md)
    if not deleted:
        return cell, TEST, None
    cell.outputs = [nbformat.v4.new_output(
        "stream", name="stdout",
        text="This test cell was deleted from the submission; it scores 0.\n")]
    return (cell, DELETED,
            f"test cell {grade_id(sc)!r} was deleted from the submission: it scores 0")


def _unique_ids(cells: list[NotebookNode]) -> None:
    """Give every cell a valid id no other cell has (learners' ids may be missing or clash)."""
    used: set[str] = set()
    for n, cell in enumerate(cells):
        cid = cell.get("id")
        if not isinstance(cid, str) or cid in used or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", cid):
            cell["id"] = f"cell-{n}"
            while cell["id"] in used:
                cell["id"] += "x"
        used.add(cell["id"])


def learner_code(asm: Assembled) -> str:
    """The code the learner wrote in an assembled submission (answers and added cells), without
    the course's own cells: tests rebuilt from the source use words like __code__ honestly."""
    return "\n".join(source_text(c) for c, role in zip(asm.nb.cells, asm.roles)
                     if role == STUDENT and c.get("cell_type") == "code")


def dumps(nb: NotebookNode) -> str:
    return json.dumps(nb, ensure_ascii=False, indent=1) + "\n"


# -- which cells each side must run --------------------------------------------------------------
def strip_magics(code: str) -> str:
    """IPython line magics and shell escapes as `pass` (the grader runs plain Python)."""
    lines = []
    for line in code.splitlines():
        body = line.lstrip()
        if body.startswith(("%", "!")):
            line = line[: len(line) - len(body)] + "pass"
        lines.append(line)
    return "\n".join(lines)


@dataclass
class CellNames:
    binds: set[str]  # names bound at the top level (or declared global and assigned)
    uses: set[str]  # global names read anywhere in the cell (function bodies included)
    mutates: set[str]  # names whose object the cell may change (x.a = …, x[i] = …, x.m(…), f(x))
    fixed: set[str]  # names bound by import, def or class (modules and functions: not "mutated")
    args: set[str] = field(default_factory=set)  # names passed to a call
    generators: set[str] = field(default_factory=set)  # names assigned a random generator
    parsed: bool = True


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _scope_locals(node: ast.AST) -> set[str]:
    """Names local to a function / lambda / comprehension (parameters and assigned names)."""
    local: set[str] = set()
    declared: set[str] = set()
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        a = node.args
        local |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
        local |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        body = node.body if isinstance(node.body, list) else [node.body]
    else:
        body = [g.target for g in node.generators]  # type: ignore[attr-defined]
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                local.add(sub.id)
            elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                local.add(sub.name)
            elif isinstance(sub, ast.Global | ast.Nonlocal):
                declared.update(sub.names)
            elif isinstance(sub, ast.alias):
                local.add((sub.asname or sub.name).split(".")[0])
    return local - declared


def _global_loads(node: ast.AST, local: frozenset, out: set[str]) -> None:
    if isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id not in local:
            out.add(node.id)
        return
    if isinstance(node, _SCOPES):
        inner = local | _scope_locals(node)
        for child in ast.iter_child_nodes(node):
            outer = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and (
                child in getattr(node, "decorator_list", []) or child is node.args)
            _global_loads(child, local if outer else frozenset(inner), out)
        return
    for child in ast.iter_child_nodes(node):
        _global_loads(child, local, out)


def _targets(node: ast.AST | None) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node is not None else set()


def _block_uses(stmts: list[ast.stmt], bound: set[str]) -> set[str]:
    """Global names a block reads before the block itself binds them (in statement order)."""
    bound = set(bound)
    out: set[str] = set()
    for stmt in stmts:
        out |= _statement_uses(stmt, bound)
        if isinstance(stmt, _DEFINITE):
            bound |= _stmt_binds(stmt)
    return out


def _stmt_binds(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.For | ast.AsyncFor):
        return _targets(stmt.target)
    if isinstance(stmt, ast.With | ast.AsyncWith):
        return set().union(*(_targets(i.optional_vars) for i in stmt.items))
    return top_level_names(ast.unparse(stmt))


def _statement_uses(stmt: ast.stmt, bound: set[str]) -> set[str]:
    """Global names a top-level statement reads that are not bound before it."""
    out: set[str] = set()
    if isinstance(stmt, ast.For | ast.AsyncFor):
        _global_loads(stmt.iter, frozenset(), out)
        inner = _block_uses(stmt.body, bound | _targets(stmt.target))
        return (out - bound) | inner | _block_uses(stmt.orelse, bound)
    if isinstance(stmt, ast.While | ast.If):
        _global_loads(stmt.test, frozenset(), out)
        return (out - bound) | _block_uses(stmt.body, bound) | _block_uses(stmt.orelse, bound)
    if isinstance(stmt, ast.With | ast.AsyncWith):
        for item in stmt.items:
            _global_loads(item.context_expr, frozenset(), out)
        return (out - bound) | _block_uses(stmt.body, bound | _stmt_binds(stmt))
    if isinstance(stmt, ast.Try):
        parts = _block_uses(stmt.body, bound) | _block_uses(stmt.orelse, bound)
        parts |= _block_uses(stmt.finalbody, bound)
        for h in stmt.handlers:
            if h.type is not None:
                _global_loads(h.type, frozenset(), out)
            parts |= _block_uses(h.body, bound | ({h.name} if h.name else set()))
        return (out - bound) | parts
    _global_loads(stmt, frozenset(), out)
    return out - bound


_DEFINITE = (ast.Assign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.Import, ast.ImportFrom,
             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With)


def cell_names(code: str) -> CellNames:
    if len(code) > MAX_PARSE:
        return CellNames(set(), set(), set(), set(), parsed=False)
    try:
        tree = ast.parse(strip_magics(code))
        return _cell_names(code, tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep to analyse: it runs
        return CellNames(set(), set(), set(), set(), parsed=False)


def _cell_names(code: str, tree: ast.Module) -> CellNames:
    binds = top_level_names(strip_magics(code))
    mutates, fixed = set(), set()
    uses = _block_uses(tree.body, set())
    for stmt in tree.body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            fixed |= {a.asname or a.name.split(".")[0] for a in stmt.names}
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            fixed.add(stmt.name)
    args: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            binds.update(node.names)
        elif isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            mutates |= _base_names(node.value)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                mutates |= _base_names(node.func.value)
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                args |= _base_names(arg)
    return CellNames(binds, uses, mutates, fixed, args=args, generators=_generator_names(tree))


def _generator_names(tree: ast.Module) -> set[str]:
    """Names assigned a random generator (``…default_rng(…)``): passing one to a function
    advances it, so such a call counts as changing it."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("default_rng", "Generator", "RandomState"):
                out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return out


def _base_names(node: ast.AST) -> set[str]:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return {node.id} if isinstance(node, ast.Name) else set()


def needed_cells(codes: list[str | None], roots: list[bool]) -> list[bool]:
    """Which code cells must run so that every root cell sees what it would see after running
    the whole notebook in order: a backward slice over the names cells bind, change and read.
    ``codes[i]`` is None for a cell that is not code. Cells that cannot be parsed always run."""
    info = [cell_names(c) if c is not None else None for c in codes]
    cells = [i for i in info if i is not None]
    fixed = set().union(*(i.fixed for i in cells))
    rngs = set().union(*(i.generators for i in cells))
    needed = [False] * len(codes)
    want: set[str] = set()
    for i in range(len(codes) - 1, -1, -1):
        cell = info[i]
        if cell is None:
            continue
        changed = cell.binds | ((cell.mutates | (cell.args & rngs)) - fixed)
        touches = changed & want
        if roots[i] or touches or not cell.parsed:
            needed[i] = True
            want |= cell.uses | cell.mutates
    return needed


def functions_defined(code: str) -> tuple[set[str], set[str]]:
    """(functions, other names) that some code binds at its top level."""
    tree = _parse(code)
    funcs = {n.name for n in (tree.body if tree else [])
             if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    return funcs, top_level_names(code) - funcs
