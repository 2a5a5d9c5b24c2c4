"""Find graded answers in code: each graded function's distinctive code, as syntax patterns.

A pattern is a Python expression or statement in which the name ``_`` stands for any expression
(and any name of a lambda's argument), and a name such as ``_b`` (an underscore and a letter)
stands for an expression that must be the same at each place ``_b`` appears. It is compared
with every node of the scanned code's syntax tree, so spacing, line breaks, parentheses and the
learner's variable names do not matter. Besides:

* a call matches by the *last* name of what is called (``sqrt(_)`` matches ``np.sqrt(x)``,
  ``math.sqrt(x)`` and ``sqrt(x)``), and a method's receiver may stand as its first argument
  (``sum(_, axis=0)`` matches ``E.sum(axis=0)``);
* ``a + b`` and ``a * b`` match in either order; numbers match by value (``2`` matches ``2.0``);
* the code may pass keyword arguments the pattern does not name (``sum(_, axis=0)`` matches
  ``np.sum(E, axis=0, keepdims=True)``).

``PATTERNS`` maps every graded function of the course (the ``grade_id`` of its solution cell)
to the patterns of its answer. The release test (tests/test_release_answers.py) checks that
each solution matches its own patterns, and that nothing a learner receives matches any.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_INIT_SHAPE = "(_[_], _[_ - 1])"
_RANDN = [f"standard_normal({_INIT_SHAPE})", f"normal(size={_INIT_SHAPE})",
          "randn(_[_], _[_ - 1])"]
_L2_COST = ["_ / (2 * _) * _", "_ * _ / (2 * _)", "_ / 2 / _ * _", "_ / _ / 2 * _",
            "_ * (_ / (2 * _))"]
_L2_GRAD = ["_ @ _.T / _ + _ / _ * _", "_ @ _.T / _ + _ * _ / _",
            "dot(_, _.T) / _ + _ / _ * _", "dot(_, _.T) / _ + _ * _ / _"]
_DROPOUT_SCALE = ["_ * _ / keep_prob", "_ / keep_prob * _", "multiply(_, _) / keep_prob"]
_CENTRED = ["(_ - _) / (2 * _)", "(_ - _) / 2 / _", "(_ - _) * 0.5 / _"]
_REL_DIFF = ["norm(_ - _) / (norm(_) + norm(_))"]
_EWA = ["_b * _ + (1 - _b) * _[_]", "_b * _[_] + (1 - _b) * _"]
_SQUARED_EWA = ["_b * _ + (1 - _b) * _ ** 2", "_b * _ + (1 - _b) * square(_)",
                "_b * _ + (1 - _b) * (_g * _g)"]
_BIAS_CORRECTION = ["_ / (1 - _ ** _)", "_ / (1 - power(_, _))"]
_ADAPTIVE_STEP = ["_ / (sqrt(_) + _)", "_ / (_ ** 0.5 + _)"]
_ZERO_STATE = ["zeros_like(_[_ + str(_)])", "zeros_like(_[f'W{_}'])", "zeros_like(_[f'b{_}'])",
               "{'d' + _: zeros_like(_) for _, _ in _}", "{f'd{_}': zeros_like(_) for _, _ in _}",
               "_['d' + _] = zeros_like(_)", "_[f'd{_}'] = zeros_like(_)"]
_LOG_UNIFORM = ["uniform(log10(_), log10(_), _)", "uniform(log10(_), log10(_), size=_)",
                "uniform(log(_), log(_), _)", "uniform(log(_), log(_), size=_)"]

PATTERNS_BY_NOTEBOOK: dict[str, dict[str, list[str]]] = {
    "01": {  # initialization
        "initialize_parameters_zeros": [f"zeros({_INIT_SHAPE})"],
        "initialize_parameters_random": [f"{r} * _" for r in _RANDN],
        "initialize_parameters_he": ["sqrt(2 / _[_ - 1])", "standard_normal(_) * sqrt(2 / _)",
                                     "normal(_, sqrt(2 / _), _)", "normal(scale=sqrt(2 / _), size=_)"],
        "initialize_parameters_xavier": ["sqrt(1 / _[_ - 1])", "standard_normal(_) * sqrt(1 / _)",
                                         "normal(_, sqrt(1 / _), _)", f"{_RANDN[0]} / sqrt(_[_ - 1])",
                                         f"{_RANDN[1]} / sqrt(_[_ - 1])"],
    },
    "02": {  # regularization
        "split_train_dev_test": ["round(_[0] * _)", "round(_[1] * _)", "cumsum(_)[:-1] * _",
                                 "split(permutation(_), _)", "_[:, permutation(_)]"],
        "diagnose_bias_variance": ["train_error - base_error > _", "dev_error - train_error > _"],
        "compute_cost_with_regularization": _L2_COST,
        "backward_propagation_with_regularization": _L2_GRAD,
    },
    "03": {  # dropout (l2_from_notebook_02: the learner's two L2 functions of notebook 02, again)
        "forward_propagation_with_dropout": ["random(_.shape) < _", "rand(*_.shape) < _",
                                             "random(_) < keep_prob", *_DROPOUT_SCALE],
        "backward_propagation_with_dropout": _DROPOUT_SCALE,
        "l2_from_notebook_02": _L2_COST + _L2_GRAD,
    },
    "04": {  # gradient checking
        "forward_propagation_1d": ["theta * x"],
        "gradient_check_1d": _CENTRED + _REL_DIFF,
        "gradient_check_n": _CENTRED + _REL_DIFF,
        # backward_propagation_fixed: the two fixes of the colleague's pass (its other lines are given)
        "backward_propagation_fixed": ["_ * (1 - A1 ** 2)", "_ * (1 - square(A1))",
                                       "_ * (1 - A1 * A1)", "sum(dZ3, axis=1) / _"],
    },
    "05": {  # optimization
        "update_parameters_with_gd": [f"{a} {op} _ * _[{k}]" for a, op in (("_", "-"), ("_[_]", "-="))
                                      for k in ("'d' + _", "f'd{_}'", "'dW' + _", "'db' + _")],
        "random_mini_batches": ["_[:, _ * _:(_ + 1) * _]", "slice(_ * _, (_ + 1) * _)",
                                "range(0, _, mini_batch_size)", "_[:, _:_ + mini_batch_size]",
                                "_[:, _[_:_ + mini_batch_size]]", "array_split(_, _)"],
        "exponentially_weighted_average": _EWA + _BIAS_CORRECTION,
        "initialize_velocity": _ZERO_STATE,
        "update_parameters_with_momentum": _EWA,
        "initialize_rmsprop": _ZERO_STATE,
        "update_parameters_with_rmsprop": _SQUARED_EWA + _ADAPTIVE_STEP,
        "initialize_adam": _ZERO_STATE,
        "update_parameters_with_adam": _BIAS_CORRECTION + _ADAPTIVE_STEP + _SQUARED_EWA,
        "update_lr": ["_ / (1 + _ * _)", "_ * 1 / (1 + _ * _)"],
        "schedule_lr_decay": ["_ / (1 + _ * (_ // _))", "_ / (1 + _ * floor(_ / _))"],
    },
    "06": {  # softmax, then TensorFlow
        "softmax": ["exp(_ - max(_, axis=0))", "_ / sum(_, axis=0)", "_ - max(_, axis=0)",
                    "_ - amax(_, axis=0)", "exp(_) / sum(exp(_), axis=0)"],
        "one_hot": ["_[_, arange(_)] = 1", "eye(_)[:, _]", "eye(_)[_].T",
                    "(_ == arange(_)[:, None])", "(arange(_)[:, None] == _)"],
        "softmax_cross_entropy": ["_ - log(sum(exp(_), axis=0))",
                                  "logsumexp(_, axis=0)", "-sum(_ * log(_)) / _",
                                  "-sum(_ * _) / _", "_ - max(_, axis=0)"],
        "one_hot_matrix": ["one_hot(_, _, axis=0)", "transpose(one_hot(_, _))"],
        "initialize_parameters_tf": ["GlorotUniform(seed=_)",
                                     "Variable(_(shape=(_[_], _[_ - 1])), name=_)"],
        "forward_propagation_tf": ["relu(matmul(_, _) + _)", "matmul(_[f'W{_}'], _) + _[f'b{_}']"],
        "compute_total_loss": ["categorical_crossentropy(_, _, from_logits=True)",
                               "softmax_cross_entropy_with_logits(labels=_, logits=_)"],
        "train_step": ["apply_gradients(zip(_, _))", "_.gradient(_, list(_.values()))"],
    },
    "07": {  # hyperparameter search
        "sample_log_uniform": [f"10 ** {u}" for u in _LOG_UNIFORM] +
                              [f"power(10, {u})" for u in _LOG_UNIFORM] + _LOG_UNIFORM,
        "sample_beta": ["1 - sample_log_uniform(1 - _, 1 - _, _, _)",
                        *(f"1 - 10 ** {u}" for u in _LOG_UNIFORM)],
        "random_search": ["sort(key=lambda _: _['score'], reverse=True)",
                          "sorted(_, key=lambda _: _['score'], reverse=True)"],
        "zoom": ["(_, min(_), max(_))"],
        # normalize_inputs: measuring a spread (std alone) is no answer; dividing by it is
        "normalize_inputs": ["_ / std(_, axis=1)", "where(_ == 0, 1, _)",
                             "_[_ == 0] = 1", "(_ - mean(_, axis=1, keepdims=True)) / _"],
    },
    "08": {  # batch normalization
        "batchnorm_forward": ["(_ - _) / sqrt(_ + _)", "var(_, axis=1)",
                              "mean((_ - _) ** 2, axis=1)",
                              "_ - mean(_, axis=1, keepdims=True)"],
        "batchnorm_backward": ["_ * _ - sum(_, axis=1) - "
                               "_ * sum(_ * _, axis=1)",
                               "(_ + _) ** -1.5", "(_ + _) ** (-3 / 2)",
                               "sum(_ * _, axis=1) / _ * _"],
        "update_running_stats": ["momentum * _ + (1 - momentum) * _"],
        "batchnorm_inference": ["(_ - _) / sqrt(_ + _)", "_ * (_ - _) / sqrt(_ + _)"],
    },
}
# every graded function of the course -> the patterns of its answer
PATTERNS: dict[str, list[str]] = {ex: pats for group in PATTERNS_BY_NOTEBOOK.values()
                                  for ex, pats in group.items()}

_IGNORED_FIELDS = {"ctx", "type_comment", "kind", "lineno", "col_offset", "end_lineno",
                   "end_col_offset", "type_params"}


def _parse_pattern(text: str) -> ast.AST:
    node = ast.parse(text).body[0]
    return node.value if isinstance(node, ast.Expr) else node


def _last_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _match_list(ps: list, ns: list, env: dict) -> bool:
    return len(ps) == len(ns) and all(match(p, n, env) for p, n in zip(ps, ns))


def _match_call(p: ast.Call, n: ast.Call, env: dict) -> bool:
    if not (isinstance(p.func, ast.Name) and p.func.id == "_") and \
            _last_name(p.func) != _last_name(n.func):
        return False
    keywords = {k.arg: k.value for k in n.keywords}
    if not all(k.arg in keywords and match(k.value, keywords[k.arg], env) for k in p.keywords):
        return False
    for args in (n.args, [n.func.value, *n.args] if isinstance(n.func, ast.Attribute) else None):
        trial = dict(env)
        if args is not None and _match_list(p.args, args, trial):
            env.update(trial)
            return True
    return False


def _match_binop(p: ast.BinOp, n: ast.BinOp, env: dict) -> bool:
    if type(p.op) is not type(n.op):
        return False
    orders = [(n.left, n.right)] + ([(n.right, n.left)] if isinstance(p.op, ast.Add | ast.Mult) else [])
    for left, right in orders:
        trial = dict(env)
        if match(p.left, left, trial) and match(p.right, right, trial):
            env.update(trial)
            return True
    return False


def _wildcard(p: object, n: object, env: dict) -> bool | None:
    """True/False for a wildcard pattern node, None for any other node."""
    if isinstance(p, ast.arg) and p.arg == "_":
        return isinstance(n, ast.arg)
    if not (isinstance(p, ast.Name) and re.fullmatch(r"_([a-z]\w*)?", p.id)):
        return None
    if not isinstance(n, ast.expr):
        return False
    if p.id == "_":
        return True
    code = ast.dump(n)
    return env.setdefault(p.id, code) == code


def match(p: object, n: object, env: dict | None = None) -> bool:
    """Whether code node ``n`` has the shape of pattern node ``p`` (``env`` holds what the
    named wildcards such as ``_b`` stand for)."""
    env = {} if env is None else env
    wild = _wildcard(p, n, env)
    if wild is not None:
        return wild
    if isinstance(p, ast.Constant) and isinstance(n, ast.Constant):
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool)
                      for v in (p.value, n.value))
        return p.value == n.value if numeric else (type(p.value), p.value) == (type(n.value), n.value)
    if type(p) is not type(n):
        return False
    if isinstance(p, ast.Call):
        return _match_call(p, n, env)
    if isinstance(p, ast.BinOp):
        return _match_binop(p, n, env)
    if isinstance(p, ast.AST):
        return all(match(getattr(p, f, None), getattr(n, f, None), env)
                   for f in p._fields if f not in _IGNORED_FIELDS)
    if isinstance(p, list):
        return _match_list(p, n, env) if isinstance(n, list) else False
    return p == n


@dataclass(frozen=True)
class Hit:
    """Graded function ``exercise``'s pattern found in ``where`` (a file or cell), line
    ``line``, inside function ``function`` ("" at module level)."""

    exercise: str
    pattern: str
    where: str
    line: int
    function: str
    code: str

    def __str__(self) -> str:
        inside = f" in {self.function}()" if self.function else ""
        return (f"{self.where}:{self.line}{inside}: {self.code.strip()!r} is the answer of "
                f"{self.exercise} (pattern {self.pattern!r})")


_COMPILED = {ex: [(text, _parse_pattern(text)) for text in pats] for ex, pats in PATTERNS.items()}


def _nodes_with_function(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every node, with the name of the innermost function around it."""
    todo: list[tuple[ast.AST, str]] = [(tree, "")]
    while todo:
        node, fn = todo.pop()
        yield node, fn
        inner = node.name if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else fn
        todo.extend((child, inner) for child in ast.iter_child_nodes(node))


def python_source(code: str) -> str:
    """Notebook cell code as plain Python: IPython magics and shell lines become comments."""
    return "\n".join("# " + line if re.match(r"\s*[%!]", line) else line
                     for line in code.splitlines())


def scan(code: str, where: str, exercises: list[str] | None = None) -> list[Hit]:
    """The hits of the patterns of ``exercises`` (all graded functions by default) in
    ``code``. Code that does not parse raises SyntaxError (the course's files all parse)."""
    tree = ast.parse(python_source(code))
    lines = code.splitlines()
    hits = []
    chosen = {ex: _COMPILED[ex] for ex in (exercises or _COMPILED)}
    for node, fn in _nodes_with_function(tree):
        if not isinstance(node, ast.expr | ast.stmt):
            continue
        for ex, pats in chosen.items():
            for text, pat in pats:
                if type(pat) is type(node) and match(pat, node):
                    line = getattr(node, "lineno", 1)
                    hits.append(Hit(ex, text, where, line, fn, lines[line - 1] if lines else ""))
    return hits


def scan_file(path: Path, root: Path) -> list[Hit]:
    return scan(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
