"""The trusted side of grading: the course's cells and test cells, run outside the learner's process.

The grader (``sandbox.grade_task``) runs the test cells *here*, in a namespace built from the
source notebook's own cells, never from the learner's. A learner's function is present as a
*trampoline*: a real Python function whose call is sent over the plain-data channel
(:mod:`grading.channel`) to the sandboxed learner process and whose result is the learner's data
rebuilt here. So a test's expected values, NumPy, ``assert`` and the verdict all live in a process
the learner's code never runs in.

A trampoline looks, to the tests that inspect code (anti-delegation checks reading ``__code__``,
``co_names``, ``dis`` or ``__globals__``), like the learner's function: its code object carries
the learner's function compiled here from the *submitted source text* (compiled, never executed)
as a constant, and its ``__globals__`` is a *view* in which the learner's names are the learner's
functions (trampolines), and their imports are the modules they name (or stand-ins).

Arguments that are callables (a test's stand-in function, a course function passed to a learner
function) cross as callback handles: the learner's side gets a stub that asks this side to run the
callable on plain data. A test that rebinds a global the learner's code reads (a test swapping in
another ``forward_propagation_1d``) has the new binding sent with each call, as an override the
learner side binds for the duration of the call only.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import itertools
import linecache
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from . import channel as C
from .notebooks import MAX_PARSE, strip_magics


class LearnerError(RuntimeError):
    """An exception raised by the learner's code (type and message as reported)."""


class LearnerGone(BaseException):
    """The learner's process stopped (died, timed out, or spoke nonsense); no more calls.

    A BaseException, so that a test's ``except Exception`` cannot swallow it: the test fails."""


def learner_exception(err: dict | None) -> Exception:
    err = err if isinstance(err, dict) else {}
    name = str(err.get("type", "Error"))[:100]
    msg = str(err.get("message", ""))[:2000]
    cls = C.BUILTIN_ERRORS.get(str(err.get("builtin")))
    if cls is not None and cls is not StopIteration:
        exc = cls(msg)
    else:
        exc = LearnerError(f"{name}: {msg}" if msg else name)
    exc.learner_type = name  # type: ignore[attr-defined]
    return exc


# -- trampolines ----------------------------------------------------------------------------------
_PLACEHOLDER = "__grading_learner_code__"
_TEMPLATE = compile(
    "def _t(*args, **kwargs):\n"
    f"    return __grading_call__('NAME', {_PLACEHOLDER!r}, args, kwargs)\n",
    "<trampoline>", "exec")
_TEMPLATE_CODE = next(c for c in _TEMPLATE.co_consts if isinstance(c, types.CodeType))


def make_trampoline(name: str, learner_code: types.CodeType | None, view: dict) -> types.FunctionType:
    """A function that calls the learner's ``name`` remotely (via ``view['__grading_call__']``)."""
    consts = tuple(
        name if c == "NAME" else (learner_code if c == _PLACEHOLDER and learner_code else c)
        for c in _TEMPLATE_CODE.co_consts)
    names = _TEMPLATE_CODE.co_names
    if learner_code is not None:  # the learner's names too (unused by the bytecode: inspection only)
        names += tuple(n for n in learner_code.co_names if n not in names)
    code = _TEMPLATE_CODE.replace(
        co_consts=consts, co_names=names, co_name=name, co_qualname=name,
        co_filename=getattr(learner_code, "co_filename", "<learner>"),
        co_firstlineno=getattr(learner_code, "co_firstlineno", 1))
    fn = types.FunctionType(code, view, name)
    fn.__module__ = "__main__"
    fn.__qualname__ = name
    fn.__grading_remote__ = name  # type: ignore[attr-defined]
    if learner_code is not None:
        fn.__signature__ = signature_of(learner_code)  # type: ignore[attr-defined]
    return fn


def remote_name(obj: Any) -> str | None:
    return getattr(obj, "__grading_remote__", None) if isinstance(obj, types.FunctionType) else None


def learner_codes(cells: list[str], tag: str = "",
                  functions: set[str] = frozenset()) -> dict[str, types.CodeType]:
    """The code object of each top-level function the learner's cells define (the last
    definition wins), compiled from the text; nothing is executed. Each cell's text is put in
    ``linecache`` under its file name, so ``inspect.getsource`` of a trampoline gives the
    learner's source (:func:`forget_sources` removes them)."""
    found: dict[str, types.CodeType] = {}
    other: dict[str, list[str]] = {}  # name -> what its other bindings refer to
    for n, text in enumerate(cells):
        src = strip_magics(text)
        if len(src) > MAX_PARSE:
            continue
        filename = f"<learner cell {n}{tag}>"
        try:
            tree = ast.parse(src)
            module = compile(tree, filename, "exec", dont_inherit=True)
            bindings = other_bindings(tree)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        names = {node.name for node in tree.body
                 if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
        for const in module.co_consts:
            if isinstance(const, types.CodeType) and const.co_name in names:
                found[const.co_name] = const
        for name, refs in bindings.items():
            other.setdefault(name, []).extend(refs)
    for name, refs in other.items():  # a def (or an answer's function) also bound otherwise
        if name in found or name in functions:
            try:
                found[name] = _combined(name, refs, found.get(name))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue  # never: the names are identifiers from a parsed tree
    return found


# -- names bound otherwise than by a plain ``def`` (delegation: ``f = helper``, ``@deco``, imports)
def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _refs(nodes: list[ast.AST]) -> list[str]:
    """The dotted names some code reads (``helpers.training._gradient_descent``, ``np``…)."""
    out = []
    for top in nodes:
        for node in ast.walk(top):
            if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
                name = _dotted(node)
                if name:
                    out.append(name)
    return out


def _statement_bindings(node: ast.stmt) -> tuple[set[str], list[str], list[ast.AST]]:
    """(names bound, dotted names they refer to, nested statements to look into)."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        mod = node.module if isinstance(node, ast.ImportFrom) else None
        out = {}
        for a in node.names:
            out[a.asname or a.name.split(".")[0]] = f"{mod}.{a.name}" if mod else a.name
        return set(out), list(out.values()), []
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        declared = {n for sub in ast.walk(node) if isinstance(sub, ast.Global) for n in sub.names}
        if isinstance(node, ast.ClassDef) or node.decorator_list:
            declared.add(node.name)
        return declared, _refs([node]), []
    nested = [s for f in ("body", "orelse", "finalbody") for s in getattr(node, f, [])]
    nested += [s for h in getattr(node, "handlers", []) + getattr(node, "cases", []) for s in h.body]
    header = [v for f, v in ast.iter_fields(node) if f not in ("body", "orelse", "finalbody",
                                                                   "handlers", "cases")]
    heads = [x for v in header for x in (v if isinstance(v, list) else [v]) if isinstance(x, ast.AST)]
    heads += [c.pattern for c in getattr(node, "cases", [])]  # `case f:` binds f to the subject
    bound = {n.id for h in heads for n in ast.walk(h)
             if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {name for h in heads for n in ast.walk(h)
              for name in (getattr(n, "name", None), getattr(n, "rest", None))
              if isinstance(n, ast.MatchAs | ast.MatchStar | ast.MatchMapping) and name}
    return bound, _refs(heads), nested


def other_bindings(tree: ast.Module) -> dict[str, list[str]]:
    """For every name a learner's cell binds at module level otherwise than by a plain ``def``
    (an assignment, an import, a decorator, a class, ``global`` in a function, in any block), the
    dotted names that binding refers to."""
    out: dict[str, list[str]] = {}
    todo: list[ast.AST] = list(tree.body)
    while todo:
        bound, refs, nested = _statement_bindings(todo.pop())
        todo += nested
        for name in bound:
            out.setdefault(name, []).extend(refs)
    return out


def _combined(name: str, refs: list[str], code: types.CodeType | None) -> types.CodeType:
    """A code object (compiled, never run) that names everything a function bound otherwise
    than by a plain ``def`` may be, plus the ``def``'s own code if there is one: what an
    anti-delegation check reading ``co_names`` must see."""
    refs = list(dict.fromkeys(refs))[:2000]
    src = f"def {name}():\n    return ({', '.join(refs)}{',' if refs else ''})\n"
    module = compile(src, code.co_filename if code else "<learner bindings>", "exec",
                     dont_inherit=True)
    made = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    if code is None:
        return made
    return made.replace(co_consts=(*made.co_consts, code), co_firstlineno=code.co_firstlineno)


class _Default:
    """A default value as the learner wrote it (shown by ``inspect.signature``; never evaluated)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def signature_of(code: types.CodeType) -> inspect.Signature | None:
    """The signature of a learner's function, read from its source text (defaults are literal
    values when they are literals, else their source text)."""
    lines = linecache.cache.get(code.co_filename, (0, None, []))[2]
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                 and n.name == code.co_name and n.lineno == code.co_firstlineno), None)
    if node is None:
        return None
    a, P = node.args, inspect.Parameter
    positional = [(x, P.POSITIONAL_ONLY) for x in a.posonlyargs] + [
        (x, P.POSITIONAL_OR_KEYWORD) for x in a.args]
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    params = [P(x.arg, kind, default=_literal(d)) for (x, kind), d in zip(positional, defaults)]
    if a.vararg:
        params.append(P(a.vararg.arg, P.VAR_POSITIONAL))
    params += [P(x.arg, P.KEYWORD_ONLY, default=_literal(d)) for x, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        params.append(P(a.kwarg.arg, P.VAR_KEYWORD))
    try:
        return inspect.Signature(params)
    except ValueError:
        return None


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return inspect.Parameter.empty
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        pass
    try:
        return _Default(ast.unparse(node))
    except (RecursionError, MemoryError):  # a default too deeply nested to write out
        return _Default("...")


def forget_sources(tag: str) -> None:
    for key in [k for k in linecache.cache if k.startswith("<learner cell ") and k.endswith(f"{tag}>")]:
        del linecache.cache[key]


def import_standins(cells: list[str]) -> dict[str, Any]:
    """What the learner's top-level imports bind, as the modules / objects they name when this
    process already has them loaded, else as inert stand-ins carrying the module name."""
    out: dict[str, Any] = {}
    for text in cells:
        if len(text) > MAX_PARSE:
            continue
        try:
            tree = ast.parse(strip_magics(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    target = a.name if a.asname else a.name.split(".")[0]
                    out[a.asname or target] = _module(target)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if a.name != "*":
                        out[a.asname or a.name] = _member(node.module, a.name)
                    else:
                        out.update(_star(node.module))
    return out


def _star(module: str) -> dict[str, Any]:
    """What ``from module import *`` binds, when this process has the module (the course's own
    package, ``helpers``, is imported for it: course code), so that a check reading the names a
    learner's function refers to sees where they come from."""
    mod = sys.modules.get(module)
    if mod is None and module.split(".")[0] == "helpers":
        try:
            mod = importlib.import_module(module)
        except Exception:
            return {}
    if not isinstance(mod, types.ModuleType):
        return {}
    names = vars(mod).get("__all__")
    if not isinstance(names, list | tuple):
        names = [k for k in vars(mod) if not k.startswith("_")]
    return {k: vars(mod)[k] for k in names
            if isinstance(k, str) and not k.startswith("__") and k in vars(mod)}


def _module(name: str) -> Any:
    mod = sys.modules.get(name)
    return mod if isinstance(mod, types.ModuleType) else types.ModuleType(name)


def _member(module: str, name: str) -> Any:
    mod = sys.modules.get(module)
    if isinstance(mod, types.ModuleType) and name in vars(mod):  # no module __getattr__ runs
        return vars(mod)[name]
    if f"{module}.{name}" in sys.modules:
        return sys.modules[f"{module}.{name}"]
    return types.SimpleNamespace(__module__=module, __name__=name)


# -- the remote ----------------------------------------------------------------------------------
class Remote:
    """Calls into the learner's process for one grading (see :class:`grading.sandbox.Learner`).

    ``request(message, blobs, on_callback)`` sends one request and returns (reply, blobs); it
    raises :class:`LearnerGone` when the process is gone or out of time.
    """

    def __init__(self, request: Callable, tf_adapter: Any = None):
        self.request = request
        self.tf = tf_adapter
        self.handles = 0

    def _sendable(self, value: Any) -> bool:
        """Whether a test's rebinding can be sent as an override (else the learner keeps its own)."""
        try:
            C.Encoder(ext=self.tf.encode if self.tf else None, on_callable=lambda o: {"$cb": 0})(value)
        except (C.ChannelError, RecursionError):
            return False
        return True

    def _callable_node(self, callbacks: dict) -> Callable:
        def node(obj: Any) -> dict:
            name = remote_name(obj)
            if name is not None:
                return {"$fn": name}
            self.handles += 1
            callbacks[self.handles] = obj
            return {"$cb": self.handles}

        return node

    def call(self, name: str, args: tuple, kwargs: dict, overrides: dict, mode: str = "plain") -> Any:
        callbacks: dict[int, Callable] = {}
        enc = C.Encoder(ext=self.tf.encode if self.tf else None,
                        on_callable=self._callable_node(callbacks), iterables=True)
        enc.tf_in = []
        node_args, node_kwargs = enc(tuple(args)), enc(dict(kwargs))
        watch = list(enc.tf_in)
        node_over = enc({k: v for k, v in overrides.items() if self._sendable(v)})
        objects = {enc.memo[id(o)]: o for o in enc.keep}
        if mode == "plain" and self.tf is not None and self.tf.wants_tape(watch):
            mode = "tape"
        message = {"op": "call", "name": name, "args": node_args, "kwargs": node_kwargs,
                   "overrides": node_over, "mode": mode}
        reply, blobs = self.request(message, enc.blobs, lambda m, b: self._callback(callbacks, m, b))
        if not reply.get("ok"):
            raise learner_exception(reply.get("error"))
        return self._result(reply, blobs, objects, watch, mode)

    def _result(self, reply: dict, blobs: list[bytes], objects: dict, watch: list, mode: str) -> Any:
        dec = C.Decoder(blobs, objects=dict(objects), ext=self.tf.decode if self.tf else None,
                        on_callable=_no_callables)
        states = reply.get("states", [])
        if not isinstance(states, list):
            raise C.ChannelError("malformed states")
        new_states = []
        for entry in states:
            if (not isinstance(entry, list) or len(entry) != 2 or type(entry[0]) is not int
                    or entry[0] not in objects):
                raise C.ChannelError("a state for an unknown argument")
            new_states.append((objects[entry[0]], dec(entry[1])))
        for target, value in new_states:
            apply_state(target, value, self.tf)
        dec.tf_out = []
        result = dec(reply.get("result"))
        if mode == "tape" and self.tf is not None:
            result = self.tf.attach(result, dec.tf_out, watch, reply.get("call"), self.vjp)
        return result

    def vjp(self, call_no: Any, upstream: list) -> list:
        enc = C.Encoder()
        node = enc([None if u is None else np.asarray(u) for u in upstream])
        reply, blobs = self.request({"op": "vjp", "call": call_no, "upstream": node}, enc.blobs, None)
        if not reply.get("ok"):
            raise learner_exception(reply.get("error"))
        grads = C.Decoder(blobs)(reply.get("grads"))
        if not isinstance(grads, list):
            raise C.ChannelError("malformed gradients")
        return grads

    def _callback(self, callbacks: dict, message: dict, blobs: list[bytes]) -> tuple[dict, list]:
        handle = message.get("id")
        fn = callbacks.get(handle) if type(handle) is int else None
        if fn is None:
            return {"ok": False,
                    "error": C.describe_error(RuntimeError("this callback is no longer valid"))}, []
        dec = C.Decoder(blobs, ext=self.tf.decode if self.tf else None, on_callable=_no_callables)
        args, kwargs = dec(message.get("args")), dec(message.get("kwargs"))
        if not isinstance(args, tuple) or not isinstance(kwargs, dict) or not all(
                isinstance(k, str) for k in kwargs):
            raise C.ChannelError("malformed callback arguments")
        try:
            value = fn(*args, **kwargs)
            enc = C.Encoder(ext=self.tf.encode if self.tf else None,
                            on_callable=self._callable_node(callbacks), iterables=True)
            return {"ok": True, "result": enc(value)}, enc.blobs
        except LearnerGone:
            raise
        except Exception as exc:
            return {"ok": False, "error": C.describe_error(exc)}, []

    def get(self, name: str) -> Any:
        reply, blobs = self.request({"op": "get", "name": name}, [], None)
        if not reply.get("ok"):
            raise learner_exception(reply.get("error"))
        return C.Decoder(blobs, ext=self.tf.decode if self.tf else None,
                         on_callable=_no_callables)(reply.get("value"))


def _no_callables(node: dict) -> Any:
    raise C.ChannelError("the learner's side may not send functions")


def apply_state(target: Any, value: Any, tf_adapter: Any = None) -> None:
    """Make the caller's argument look as the learner's call left it (in-place contracts)."""
    if isinstance(target, np.ndarray) and isinstance(value, np.ndarray):
        if target.shape != value.shape and target.size == value.size:
            try:  # ``a.shape = …`` in the learner's code reshapes the caller's array in place too
                target.shape = value.shape
            except AttributeError:  # not possible without a copy here, nor was it there
                return
        if target.shape == value.shape and target.flags.writeable:
            target[...] = value.astype(target.dtype, copy=False)
    elif isinstance(target, list) and isinstance(value, list):
        target[:] = value
    elif isinstance(target, dict) and isinstance(value, dict):
        target.clear()
        target.update(value)
    elif isinstance(target, set) and isinstance(value, set | frozenset):
        target.clear()
        target.update(value)
    elif isinstance(target, np.random.Generator) and isinstance(value, np.random.Generator):
        target.bit_generator.state = value.bit_generator.state
    elif tf_adapter is not None:
        tf_adapter.apply_state(target, value)


_GRADINGS = itertools.count(1)


# -- the trusted notebook namespace -----------------------------------------------------------------
class Namespace:
    """The test cells' globals: course cells (from the source) run here; learner names are
    trampolines; overrides are found by comparing bindings with what the course made them."""

    def __init__(self, remote: Remote, solution_functions: set[str], learner_cells: list[str],
                 learner_names: set[str]):
        self.remote = remote
        self.ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        self.view: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins,
                                     "__grading_call__": self._call}
        self.baseline: dict[str, Any] = {}
        self.tag = f" #{next(_GRADINGS)}"
        codes = learner_codes(learner_cells, self.tag, solution_functions)
        imported = import_standins(learner_cells)
        self.view.update({k: v for k, v in imported.items() if not k.startswith("__")})
        for name in sorted((learner_names - set(imported)) | set(codes)):
            if name.startswith("__") and name.endswith("__"):
                continue  # __builtins__, __name__, __grading_call__: the view's own
            self.view[name] = make_trampoline(name, codes.get(name), self.view)
        for name in solution_functions:
            tramp = self.view.get(name) if remote_name(self.view.get(name)) else \
                make_trampoline(name, codes.get(name), self.view)
            self.ns[name] = tramp
            self.baseline[name] = tramp
        self.learner_names = learner_names

    def bind_learner(self, names: set[str]) -> None:
        """After an answer cell: its functions are the learner's again (over a course binding)."""
        for name in names:
            tramp = self.view.get(name) if remote_name(self.view.get(name)) else self.baseline.get(name)
            if remote_name(tramp):
                self.ns[name] = self.baseline[name] = tramp

    def close(self) -> None:
        forget_sources(self.tag)

    def _call(self, name: str, _code: Any, args: tuple, kwargs: dict, mode: str = "plain") -> Any:
        return self.remote.call(name, args, kwargs, self.overrides(), mode)

    def overrides(self) -> dict:
        """Globals a test rebound since the course (or the grader) last set them."""
        out = {}
        for name, base in self.baseline.items():
            now = self.ns.get(name, base)
            if now is not base:
                out[name] = now
        return out

    def after_course_cell(self, bound: set[str]) -> None:
        """Record what a course cell bound here; the learner view sees the course's objects."""
        if self.remote.tf is not None and any(name in self.ns for name in bound):
            self.remote.tf.patch()  # TensorFlow may have been imported by this cell
        for name in bound:
            if name in self.ns:
                self.baseline[name] = self.ns[name]
                if name not in self.learner_names:
                    self.view[name] = self.ns[name]

    def run(self, code: str, filename: str) -> None:
        exec(compile(strip_magics(code), filename, "exec"), self.ns)  # noqa: S102 - course code


# -- TensorFlow: the course's adapter, trusted half ---------------------------------------------------
class TrustedTF:
    """Tensors and variables cross as their values; Keras optimizers as their class and
    configuration (kept by handle on the learner's side, so their state persists). A call whose
    arguments hold float tensors keeps a tape on the learner's side: its outputs here are joined
    to its inputs by a custom gradient that asks the learner's side for vector-Jacobian products,
    so a test's GradientTape differentiates through the call. ``tf.function`` of a learner's
    function runs ``tf.function`` there."""

    def __init__(self) -> None:
        self.optimizers: dict[int, tuple[int, Any]] = {}

    @staticmethod
    def tf() -> Any:
        return sys.modules.get("tensorflow")

    def encode(self, obj: Any, enc: C.Encoder, depth: int) -> dict | None:
        """A variable (with its trainable flag), tensor, dtype or Keras optimizer as its node;
        the variables and tensors of a call's arguments are kept in ``enc.tf_in`` (what a tape
        on the learner's side watches)."""
        tf = self.tf()
        if tf is None:
            return None
        node = C.tf_node(tf, obj, enc, "a symbolic tensor cannot be sent to the learner's code")
        if node is None:
            return self.optimizer_node(obj, enc, depth)
        if node["$x"] in ("variable", "tensor"):
            getattr(enc, "tf_in", []).append(obj)
        if node["$x"] == "variable":
            node["trainable"] = bool(obj.trainable)
        return node

    def optimizer_node(self, obj: Any, enc: C.Encoder, depth: int) -> dict | None:
        """A Keras optimizer as its class and configuration, with a handle that names the same
        optimizer object on the learner's side in every later call; None for anything else."""
        if "keras" in type(obj).__module__ and hasattr(obj, "apply_gradients"):
            handle = self.optimizers.setdefault(id(obj), (len(self.optimizers) + 1, obj))[0]
            return {"$x": "optimizer", "handle": handle, "class": type(obj).__name__,
                    "config": enc(obj.get_config(), depth + 1)}
        return None

    def decode(self, node: dict, dec: C.Decoder, depth: int) -> Any:
        import tensorflow as tf

        kind = node["$x"]
        if kind in ("tensor", "variable"):
            arr = C.tensor_values(node, dec)
            if kind == "tensor":
                obj = tf.constant(arr)
                getattr(dec, "tf_out", []).append(obj)
            else:
                obj = tf.Variable(arr, trainable=bool(node.get("trainable", True)))
            return dec.register(node, obj)
        if kind == "dtype":
            return tf.as_dtype(C.dtype_name(node))
        raise C.ChannelError(f"the learner's side may not send a {kind!r}")

    def apply_state(self, target: Any, value: Any) -> None:
        tf = self.tf()
        if tf is not None and isinstance(target, tf.Variable):
            arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
            if tuple(arr.shape) == tuple(target.shape):
                target.assign(arr.astype(target.dtype.as_numpy_dtype))

    def wants_tape(self, watch: list) -> bool:
        return any(getattr(getattr(w, "dtype", None), "is_floating", False) for w in watch)

    def attach(self, result: Any, outputs: list, watch: list, call_no: Any, vjp: Callable) -> Any:
        import tensorflow as tf

        outs = [o for o in outputs if o.dtype.is_floating]
        if not outs or not watch:
            return result
        xs = [tf.convert_to_tensor(w) for w in watch]

        @tf.custom_gradient
        def joined(*inputs):
            def grad(*upstream):
                got = vjp(call_no, [None if u is None else np.asarray(u.numpy()) for u in upstream])
                if len(got) != len(inputs):
                    raise C.ChannelError("one gradient per input is needed")
                return [tf.zeros_like(x) if g is None else tf.cast(tf.constant(g), x.dtype)
                        for g, x in zip(got, inputs)]

            return [tf.identity(o) for o in outs], grad

        mapping = {id(o): n for o, n in zip(outs, joined(*xs))}
        return _replace(result, mapping)

    def patch(self) -> None:
        """``tf.function(f)`` of a learner's trampoline runs ``tf.function(f)`` on their side."""
        tf = self.tf()
        if tf is None or getattr(tf.function, "__grading_wrapper__", False):
            return
        original = tf.function

        def function(func=None, *args, **kwargs):
            if func is None:
                return lambda f: function(f, *args, **kwargs)
            name = remote_name(func)
            if name is None:
                return original(func, *args, **kwargs)
            call = func.__globals__["__grading_call__"]

            def graph_call(*a, **k):
                return call(name, None, a, k, "graph")

            return graph_call

        function.__grading_wrapper__ = True  # type: ignore[attr-defined]
        tf.function = function


def _replace(obj: Any, mapping: dict[int, Any]) -> Any:
    if id(obj) in mapping:
        return mapping[id(obj)]
    if type(obj) is list:
        obj[:] = [_replace(x, mapping) for x in obj]
        return obj
    if type(obj) is tuple:
        return tuple(_replace(x, mapping) for x in obj)
    if type(obj) is dict:
        for k in list(obj):
            obj[k] = _replace(obj[k], mapping)
    return obj
