"""helpers/checks/, the machinery of the notebooks' checks, and the wording it gives learners
(issue 16): every failure one sentence about their code, pass lines that claim only what was
checked, "do exercise X first" before an exercise is done, a warning above a picture made with a
function that failed its checks."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from grading import notebooks as gn
from helpers import checks
from tests.nbtools import NOTEBOOKS, Notebook, stub


@pytest.fixture(autouse=True)
def _fresh_results():
    checks.RESULTS.clear()
    yield
    checks.RESULTS.clear()


def _run(code: str, ns: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<cell>", "exec"), ns)
    return out.getvalue()


# ---------------------------------------------------------------- exercise(): one sentence each
def test_exercise_passes_records_and_prints_only_what_was_checked():
    ns = {"f": lambda x: x, "exercise": checks.exercise}
    out = _run('with exercise("f") as ex:\n    assert f(1) == 1\n    ex.visible_passed()\n', ns)
    assert out.strip() == "`f`: the visible checks passed; more run at grading."
    assert checks.status("f") == "passed"


@pytest.mark.parametrize("code, told, status", [
    # f is itself a stub: do f first; f is recorded as not done
    ("def f(x):\n    raise NotImplementedError()\n", "exercise `f` is not done yet", "not done"),
    # f calls g, a stub: do g first (named as the one f needs); f's check is recorded as failed
    ("def g(x):\n    raise NotImplementedError()\n\ndef f(x):\n    return g(x) + 1\n",
     "`f` needs your `g`: exercise `g`", "failed"),
], ids=["f-is-a-stub", "f-calls-the-stub-g"])
def test_exercise_says_which_exercise_to_do_first(code, told, status):
    ns = {"exercise": checks.exercise}
    exec(code, ns)
    with pytest.raises(checks.ExerciseNotDone, match=told):
        _run('with exercise("f") as ex:\n    f(1)\n', ns)
    assert checks.status("f") == status


def test_exercise_turns_a_library_error_into_a_sentence_with_the_hint():
    ns = {"exercise": checks.exercise, "np": np}
    exec("def f(X):\n    return X - X.mean(axis=0, keepdims=True)[:, :2]\n", ns)
    with pytest.raises(checks.CheckFailed) as info:
        _run('with exercise("f", hints={"ValueError": "mean over axis=1"}):\n'
             '    f(np.ones((3, 4)))\n', ns)
    msg = str(info.value)
    assert msg.startswith("your `f` raised ValueError (") and msg.endswith(": mean over axis=1")
    assert "Traceback" not in msg and checks.status("f") == "failed"


def test_exercise_keeps_an_assertion_message_and_renders_it_without_a_traceback():
    ns = {"exercise": checks.exercise}
    with pytest.raises(checks.CheckFailed) as info:
        _run('with exercise("f"):\n    assert False, "dW1 is missing the 1/m"\n', ns)
    assert str(info.value) == "dW1 is missing the 1/m"
    assert info.value._render_traceback_() == ["\x1b[31m✗ dW1 is missing the 1/m\x1b[0m"]


# ---------------------------------------------------------------- needs(): cells that use exercises
def test_needs_stops_a_cell_before_the_exercise_is_done():
    ns: dict = {}
    exec("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n", ns)
    with pytest.raises(checks.ExerciseNotDone, match="exercise `f` is not done yet"):
        checks.needs(ns["f"])


def test_needs_warns_above_a_picture_made_with_a_function_that_failed(capsys):
    ns = {"exercise": checks.exercise}
    exec("def f(x):\n    return 2 * x\n", ns)
    with pytest.raises(checks.CheckFailed):
        _run('with exercise("f"):\n    assert f(1) == 1, "f doubles"\n', ns)
    checks.needs(ns["f"])
    assert "did not pass its checks" in capsys.readouterr().out
    assert checks.warning(ns["f"]).startswith("Careful: your `f`")
    exec("def f(x):\n    return x\n", ns)               # edited since: its checks are stale
    assert checks.status("f", ns["f"]) == "changed"
    assert "changed since its checks last ran" in checks.warning(ns["f"])


def test_needs_is_silent_for_a_function_that_passed(capsys):
    ns = {"exercise": checks.exercise}
    exec("def f(x):\n    return x\n", ns)
    _run('with exercise("f") as ex:\n    ex.visible_passed()\n', ns)
    checks.needs(ns["f"])
    assert capsys.readouterr().out == "" and checks.warning(ns["f"]) == ""


# ---------------------------------------------------------------- in the notebooks
def _visible(src: str) -> str:
    return gn.strip_hidden(src)


def _needs_line(src: str) -> str:
    """The first statement of a cell (its needs(...) call, which may span lines)."""
    import ast

    first = ast.parse(src).body[0]
    assert isinstance(first, ast.Expr) and first.value.func.id == "needs", src[:80]
    return ast.get_source_segment(src, first)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("0*.ipynb")), ids=lambda p: p.stem)
def test_every_test_cell_says_only_what_its_visible_part_checked(path):
    nb = Notebook(path.name[:2])
    for _, gid, src in nb.cells("test"):
        assert "All tests passed" not in src, gid
        visible = _visible(src).rstrip().splitlines()
        assert visible[-1].strip() == "ex.visible_passed()", f"{gid} ends with {visible[-1]!r}"
        assert f'with exercise("{gid.removeprefix("test_")}"' in src, gid


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("0*.ipynb")), ids=lambda p: p.stem)
def test_every_visible_test_cell_reads_as_a_few_calls(path):
    """Issue 16: a learner reads the visible part of a test cell as a few named calls (at most 20
    non-blank lines, no function of its own); the machinery is in helpers.checks.<topic>."""
    import ast

    for _, gid, src in Notebook(path.name[:2]).cells("test"):
        visible = _visible(src)
        lines = [line for line in visible.splitlines() if line.strip()]
        assert len(lines) <= 20, f"{gid} shows the learner {len(lines)} lines"
        own = [type(n).__name__ for n in ast.walk(ast.parse(visible))
               if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda)]
        assert not own, f"{gid} defines {own} in its visible part: move it to helpers.checks"


@pytest.mark.parametrize("prefix,cell_id,exercise", [
    ("05", "79c831c8", "random_mini_batches"), ("02", "cell-024", "compute_cost_with_regularization"),
    ("07", "487e9cf3", "normalize_inputs"), ("03", "cell-013", "forward_propagation_with_dropout"),
    ("08", "nb08-07", "batchnorm_forward"), ("08", "nb08-18", "batchnorm_forward"),
])
def test_see_it_cells_say_which_exercise_to_do_in_the_release(prefix, cell_id, exercise):
    nb = Notebook(prefix)
    ns = nb.namespace({gid: stub(src) for gid, src in nb.solutions().items()})
    with pytest.raises(checks.ExerciseNotDone, match=f"exercise `{exercise}` is not done yet"):
        exec(_needs_line(nb.code_cell(cell_id)), ns)


def test_see_it_cell_warns_when_momentum_failed_its_checks(capsys):
    """Momentum without (1 - beta) looks *better* than the real one in the optimizers' picture:
    the cell says above it that this function failed its checks."""
    nb = Notebook("05")
    wrong = """
def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    for k in parameters:
        v["d" + k] = beta * v["d" + k] + grads["d" + k]
        parameters[k] = parameters[k] - learning_rate * v["d" + k]
    return parameters, v
"""
    ns = nb.namespace({"update_parameters_with_momentum": wrong})
    for _, _gid, src in nb.cells("test"):      # the learner runs every test cell, in order
        try:
            _run(src, ns)
        except AssertionError:
            pass
    capsys.readouterr()
    exec(_needs_line(nb.code_cell("0d61e129")), ns)
    out = capsys.readouterr().out
    assert "Careful: your `update_parameters_with_momentum` did not pass its checks" in out
    assert "update_parameters_with_gd" not in out


# ---------------------------------------------------------------- statistics bounds
def test_bounds_hold_for_correct_samplers_on_many_seeds():
    for seed in range(200):
        u = np.random.default_rng(seed).random(1000)
        assert checks.ks_uniform(u) < checks.ks_bound(1000)
        c = np.bincount(np.random.default_rng(seed).integers(0, 4, 4000), minlength=4)
        assert np.all(np.abs(c - 1000) < checks.counts_bound(4000, 0.25))


def test_snapshot_names_the_changed_entry():
    grads = {"dW1": np.ones((2, 2)), "db1": np.zeros((2, 1))}
    snap = checks.Snapshot(grads=grads, X=np.arange(3.0))
    grads["dW1"] *= 2
    assert snap.changed() == ["grads['dW1']"]
    with pytest.raises(checks.CheckFailed, match=r"changed its argument grads\['dW1'\]"):
        snap.check_unchanged("update")


@pytest.mark.parametrize("prefix", ["01", "02", "03", "04", "05", "06", "07", "08"])
def test_every_test_cell_says_do_this_exercise_first_in_the_release(prefix):
    """The untouched release: each test cell names its own exercise as not done, in a sentence."""
    nb = Notebook(prefix)
    stubs = {gid: stub(src) for gid, src in nb.solutions().items()}
    ns = nb.namespace(stubs)
    for _, test_id, _ in nb.cells("test"):
        ok, msg = nb.run_test(test_id, ns=ns)
        own = test_id.removeprefix("test_")
        assert not ok and msg.startswith("ExerciseNotDone: ") and f"`{own}`" in msg, (test_id, msg)


_CONTRACT = ("unchanged", "not changed", "in place", "read-only")


@pytest.mark.parametrize("prefix", ["01", "02", "03", "04", "05", "06", "07", "08"])
def test_every_graded_function_states_whether_it_changes_its_arguments(prefix):
    """Guide §4: the docstring says whether the function may change its arguments (functions
    of numbers and tensors only, which cannot be changed, are exempt)."""
    import ast

    nb = Notebook(prefix)
    scalar_only = {"diagnose_bias_variance", "forward_propagation_1d", "backward_propagation_1d",
                   "gradient_check_1d", "update_lr", "schedule_lr_decay", "sample_log_uniform",
                   "sample_beta", "one_hot_matrix", "compute_total_loss", "train_step"}
    for src in nb.solutions().values():
        for node in ast.parse(src).body:
            if isinstance(node, ast.FunctionDef) and node.name not in scalar_only:
                doc = ast.get_docstring(node) or ""
                assert any(w in doc for w in _CONTRACT), f"{prefix} {node.name}: no contract in {doc!r}"


def test_uses_sees_a_helper_under_another_name():
    """An alias does not hide a forbidden helper: `uses` matches the object's own name too."""
    ns: dict = {}
    exec("from helpers.network import model_backward as mb\n"
         "def fixed(X, Y, cache):\n"
         "    return mb(cache, Y)\n", ns)
    assert checks.uses(ns["fixed"], names=("model_backward",)) == ["model_backward"]
    exec("def honest(X, Y, cache):\n    return {}\n", ns)
    assert checks.uses(ns["honest"], names=("model_backward",)) == []
