"""Review flags: what in a learner's code deserves a human look.

Flags never change a score (the sandbox and the trusted test process decide scores); they point
the instructor at code that does something an exercise never needs. A word list is beaten by
``getattr(sys, "set" + "trace")``, so this reads the code's syntax tree and flags *kinds* of
operation, whatever the names are spelled with:

- imports of modules outside the course's toolbox (``os``, ``ctypes``, ``socket``,
  ``subprocess``, ``importlib``, ``gc``, ``inspect``, ``threading``, ``signal``…), including
  ``__import__`` and ``importlib`` calls;
- dynamic code and dynamic names: ``exec``, ``eval``, ``compile``, ``getattr``/``setattr``/
  ``delattr``/``hasattr`` with a name that is not a string literal, ``globals()``, ``vars()``,
  ``locals()``, ``__dict__`` subscripts;
- attributes that reach the interpreter or the machine (``.modules``, ``.settrace``,
  ``._getframe`` and every other private attribute, ``.f_back``, ``.kill``, ``.environ``…);
- any dunder attribute other than a few harmless ones (``__code__``, ``__globals__``,
  ``__class__``, ``__subclasses__``, ``__builtins__``, ``__array_ufunc__``, ``__eq__``…), and the
  definition of comparison/array-protocol dunders in a class (objects that agree with any test);
- monkeypatching: assigning to, or deleting, an attribute of an imported module or name;
- file and process access: ``open``, ``breakpoint``, ``input``, IPython magics and shell escapes;
- code that cannot be parsed at all (it is then flagged as such).
"""

from __future__ import annotations

import ast

from .notebooks import strip_magics

# modules an exercise of this course may import
ALLOWED_MODULES = {
    "numpy", "math", "helpers", "matplotlib", "tensorflow", "random", "functools", "itertools",
    "collections", "dataclasses", "typing", "copy", "statistics", "time", "warnings", "scipy",
    "sklearn", "__future__", "sys",
}
# attributes (of any object) that reach the interpreter's machinery
RISKY_ATTRIBUTES = {"modules", "settrace", "setprofile", "addaudithook", "excepthook",
                    "displayhook", "meta_path", "path_hooks", "path_importer_cache", "f_back",
                    "f_locals", "f_globals", "tb_frame", "gi_frame", "cr_frame", "kill", "fork",
                    "system", "popen", "spawnv", "execv", "environ", "unlink", "remove", "rmtree"}
HARMLESS_DUNDERS = {"__init__", "__name__", "__doc__", "__len__", "__repr__", "__str__",
                    "__iter__", "__next__", "__getitem__", "__call__", "__future__"}
DYNAMIC_CALLS = {"exec", "eval", "compile", "globals", "vars", "locals", "__import__", "get_ipython",
                 "breakpoint", "input", "open", "memoryview"}
NAME_CALLS = {"getattr", "setattr", "delattr", "hasattr"}
MAX_CODE = 2_000_000  # characters of learner code analysed (the parser needs ~100x in memory)


def flags(code: str) -> list[str]:
    """Short descriptions of what deserves review in ``code`` (empty: nothing)."""
    out: list[str] = []
    if len(code) > MAX_CODE:
        return [f"code too large to analyse (more than {MAX_CODE} characters)"]
    lines = code.splitlines()
    if any(ln.lstrip().startswith(("%", "!")) for ln in lines):
        out.append("IPython magic or shell command")
    text = strip_magics(code)  # as the grader runs it: an indented magic keeps its indentation
    try:
        tree = ast.parse(text)
        modules = _imported_names(tree)
        for node in ast.walk(tree):
            out += _node_flags(node) + _patch_flags(node, modules)
    except SyntaxError as exc:
        return [*out, f"code that does not parse ({exc.msg})"]
    except (RecursionError, MemoryError, ValueError):  # e.g. 1+1+…+1 five thousand times
        return [*out, "code too deeply nested to analyse"]
    seen: set[str] = set()
    return [f for f in out if not (f in seen or seen.add(f))]


def _node_flags(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [f"imports {a.name}" for a in node.names if _top(a.name) not in ALLOWED_MODULES]
    if isinstance(node, ast.ImportFrom):
        mod = node.module or ""
        return [f"imports {mod or '(relative)'}"] if node.level or _top(mod) not in ALLOWED_MODULES \
            else []
    if isinstance(node, ast.Call):
        return _call_flags(node)
    if isinstance(node, ast.Attribute):
        if _is_dunder(node.attr):
            return [f"uses {node.attr}"] if node.attr not in HARMLESS_DUNDERS else []
        if node.attr in RISKY_ATTRIBUTES or node.attr.startswith("_"):
            return [f"uses .{node.attr}"]
        return []
    if isinstance(node, ast.Name) and _is_dunder(node.id) and node.id not in HARMLESS_DUNDERS:
        return [f"uses {node.id}"]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_dunder(node.value):
        return [f"names {node.value} in a string"] if node.value not in HARMLESS_DUNDERS else []
    if isinstance(node, ast.ClassDef):
        return [f"class {node.name} defines {item.name}" for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and _is_dunder(item.name) and item.name not in HARMLESS_DUNDERS]
    return []


def _imported_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _patch_flags(node: ast.AST, modules: set[str]) -> list[str]:
    """Monkeypatching: assigning to (or deleting) an attribute of something imported."""
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    elif isinstance(node, ast.Delete):
        targets = list(node.targets)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
            "setattr", "delattr") and node.args and _root(node.args[0]) in modules:
        return [f"{node.func.id}() on {_root(node.args[0])}"]
    out = []
    for t in targets:
        for sub in ast.walk(t):
            if isinstance(sub, ast.Attribute) and _root(sub) in modules:
                out.append(f"changes {_root(sub)}.{sub.attr}")
                break
    return out


def _call_flags(node: ast.Call) -> list[str]:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else None
    if name in DYNAMIC_CALLS:
        return [f"calls {name}()"]
    if name in NAME_CALLS:
        literal = (len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                   and isinstance(node.args[1].value, str))
        if not literal:
            return [f"{name}() with a computed name"]
        if _is_dunder(node.args[1].value):
            return [f"{name}() on {node.args[1].value}"]
    if name in ("import_module", "reload", "__import__"):
        return [f"calls {name}()"]
    return []


def _top(module: str) -> str:
    return module.split(".")[0]


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")
