"""Notebook 01 (initialization): its autograder cells accept correct solutions in several styles
and reject the classic mistakes with a message that names them; its explorer works."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from tests.nbtools import Notebook

NB = Notebook("01")
pytestmark = NB.pytestmark
EXERCISES = ["initialize_parameters_zeros", "initialize_parameters_random",
             "initialize_parameters_he", "initialize_parameters_xavier"]


def fn(name: str, body: str, args: str = "layers_dims, rng") -> str:
    """A replacement solution cell: ``def name(args):`` with ``body``."""
    return f"def {name}({args}):\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")


def zeros(body: str) -> str:
    return fn("initialize_parameters_zeros", body, "layers_dims")


def random(body: str) -> str:
    return fn("initialize_parameters_random", body, "layers_dims, rng, scale=10.0")


def he(body: str) -> str:
    return fn("initialize_parameters_he", body)


def xavier(body: str) -> str:
    return fn("initialize_parameters_xavier", body)


def gaussian_loop(name: str, std: str, bias: str = "np.zeros((n, 1))",
                  draw: str = "rng.standard_normal((n, n_prev))",
                  args: str = "layers_dims, rng", head: str = "pass",
                  layers: str = "range(1, len(layers_dims))") -> str:
    """A loop-style initializer whose W^[l] = draw * std (n, n_prev in scope) and b^[l] = bias,
    for l in ``layers``, after the statement ``head``."""
    return fn(name, f"""
        parameters = {{}}
        {head}
        for l in {layers}:
            n, n_prev = layers_dims[l], layers_dims[l - 1]
            parameters["W" + str(l)] = {draw} * {std}
            parameters["b" + str(l)] = {bias}
        return parameters
    """, args)


# ---------------------------------------------------------------- the notebook's shape
def test_notebook_structure_and_clean():
    raw = json.loads(NB.path.read_text())
    assert raw["nbformat"] == 4
    assert raw["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in raw["metadata"]
    ids = []
    for cell in raw["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
            src = "".join(cell["source"])
            assert "np.random.seed" not in src or meta.get("grade"), "seeds go through rng"
        if meta:
            assert meta["schema_version"] == 3
            ids.append(meta["grade_id"])
            if meta.get("solution"):
                src = "".join(cell["source"])
                assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src
                assert f"def {meta['grade_id']}(" in src
                assert '"""' in src.split("### BEGIN SOLUTION")[0], "docstring stays visible"
            if meta.get("grade"):
                assert meta["locked"] and meta["points"] > 0
                assert "### BEGIN HIDDEN TESTS" in "".join(cell["source"])
    assert len(ids) == len(set(ids)), "grade_ids are unique"
    for name in EXERCISES:
        assert name in ids and f"test_{name}" in ids


# ---------------------------------------------------------------- the reference passes
@pytest.mark.parametrize("name", EXERCISES)
def test_reference_solution_passes(name):
    NB.must_pass(f"test_{name}")


# ---------------------------------------------------------------- other correct styles pass
ALTERNATIVES = {
    "initialize_parameters_zeros": [
        zeros("""
            return {f"{k}{l}": np.zeros((layers_dims[l], layers_dims[l - 1]) if k == "W" else (layers_dims[l], 1))
                    for l in range(1, len(layers_dims)) for k in "Wb"}
        """),
        zeros("""
            params = dict()
            for l, (n_prev, n) in enumerate(zip(layers_dims[:-1], layers_dims[1:]), start=1):
                params[f"W{l}"] = np.zeros(shape=(n, n_prev), dtype=np.float64)
                params[f"b{l}"] = np.zeros_like(params[f"W{l}"][:, :1])
            return params
        """),
    ],
    "initialize_parameters_random": [
        gaussian_loop("initialize_parameters_random", "1.0", draw="rng.normal(0.0, scale, size=(n, n_prev))",
                      args="layers_dims, rng, scale=10.0"),
        gaussian_loop("initialize_parameters_random", "scale", draw="rng.standard_normal((n_prev, n)).T",
                      args="layers_dims, rng, scale=10.0"),
    ],
    "initialize_parameters_he": [
        gaussian_loop("initialize_parameters_he", "np.sqrt(2) / np.sqrt(n_prev)"),
        gaussian_loop("initialize_parameters_he", "1.0", draw="rng.normal(scale=(2 / n_prev) ** 0.5, size=(n, n_prev))"),
    ],
    "initialize_parameters_xavier": [
        gaussian_loop("initialize_parameters_xavier", "1.0", draw="rng.standard_normal((n, n_prev)) / np.sqrt(n_prev)"),
        gaussian_loop("initialize_parameters_xavier", "1.0", draw="rng.normal(0, 1 / n_prev ** 0.5, (n, n_prev))"),
        gaussian_loop("initialize_parameters_xavier", "(1 / n_prev) ** 0.5", draw="rng.standard_normal((n_prev, n)).T"),
        fn("initialize_parameters_xavier", """
            dims = list(layers_dims)
            return {k: v for l in range(1, len(dims)) for k, v in (
                (f"W{l}", rng.standard_normal((dims[l], dims[l - 1])) * np.sqrt(1 / dims[l - 1])),
                (f"b{l}", np.zeros((dims[l], 1))))}
        """),
    ],
}
# issue 16, a second set: other valid orders of the draws, keyword arguments, float32, the
# global seed touched but every weight from rng
ALTERNATIVES["initialize_parameters_zeros"].append(zeros("""
    parameters = {}
    for l in range(len(layers_dims) - 1):
        parameters[f"W{l + 1}"] = np.zeros([layers_dims[l + 1], layers_dims[l]], dtype=np.float32)
        parameters[f"b{l + 1}"] = np.zeros([layers_dims[l + 1], 1], dtype=np.float32)
    return parameters
"""))
ALTERNATIVES["initialize_parameters_random"] += [
    gaussian_loop("initialize_parameters_random", "scale", bias="np.zeros((n, 1)) * rng.standard_normal()",
                  args="layers_dims, rng, scale=10.0"),
    gaussian_loop("initialize_parameters_random", "scale", draw="rng.normal(size=n * n_prev).reshape(n, n_prev)",
                  args="layers_dims, rng, scale=10.0"),
    gaussian_loop("initialize_parameters_random", "1", draw="rng.normal(loc=0.0, scale=scale, size=(n, n_prev))",
                  args="layers_dims, rng, scale=10.0", layers="range(len(layers_dims) - 1, 0, -1)"),
]
ALTERNATIVES["initialize_parameters_he"] += [
    gaussian_loop("initialize_parameters_he", "1", draw="rng.normal(0.0, np.sqrt(2.0 / n_prev), (n, n_prev))",
                  layers="reversed(range(1, len(layers_dims)))"),
    gaussian_loop("initialize_parameters_he", "np.sqrt(2) / np.sqrt(n_prev)",
                  draw="rng.standard_normal((n, n_prev), dtype=np.float64)", head="np.random.seed(1)"),
]


@pytest.mark.parametrize("name,src", [(n, s) for n, alts in ALTERNATIVES.items() for s in alts])
def test_other_correct_styles_pass(name, src):
    ok, msg = NB.run_test(f"test_{name}", replace={name: src})
    assert ok, f"{name} alternative rejected: {msg}\n{src}"


# ---------------------------------------------------------------- classic mistakes fail
ZERO_MUTANTS = {  # keyword the message must hold -> body of initialize_parameters_zeros
    "swapped": """
        return {k: v for l in range(1, len(layers_dims)) for k, v in
                ((f"W{l}", np.zeros((layers_dims[l - 1], layers_dims[l]))), (f"b{l}", np.zeros((layers_dims[l], 1))))}
    """,
    "np.zeros(n)": """
        return {k: v for l in range(1, len(layers_dims)) for k, v in
                ((f"W{l}", np.zeros((layers_dims[l], layers_dims[l - 1]))), (f"b{l}", np.zeros(layers_dims[l])))}
    """,
    "range of your loop": """
        p = {}
        for l in range(1, len(layers_dims) - 1):
            p[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1])); p[f"b{l}"] = np.zeros((layers_dims[l], 1))
        return p
    """,
    "all zeros": """
        p = {}
        for l in range(1, len(layers_dims)):
            p[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1])); p[f"b{l}"] = np.ones((layers_dims[l], 1))
        return p
    """,
    "floats": """
        p = {}
        for l in range(1, len(layers_dims)):
            p[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1]), dtype=int); p[f"b{l}"] = np.zeros((layers_dims[l], 1), dtype=int)
        return p
    """,
    "return": """
        p = {}
        for l in range(1, len(layers_dims)):
            p[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1])); p[f"b{l}"] = np.zeros((layers_dims[l], 1))
    """,
}
UNIFORM = "rng.uniform(-1, 1, (n, n_prev))"  # spread sqrt(1/3): times sqrt(3) it has the std asked for
# exercise -> (keyword the message must hold, W^[l] = draw * std, other arguments of gaussian_loop)
GAUSSIAN_MUTANTS = {
    "initialize_parameters_random": [
        ("global np.random", "scale", {"draw": "np.random.randn(n, n_prev)"}),
        ("generator of your own", "scale", {"draw": "np.random.default_rng(0).standard_normal((n, n_prev))"}),
        ("b1 is not zero", "scale", {"bias": "rng.standard_normal((n, 1)) * scale"}),
        ("[0, 1)", "scale", {"draw": "rng.random((n, n_prev))"}),
        ("`scale`", "10.0", {}),
        ("not a uniform", "scale * np.sqrt(3)", {"draw": UNIFORM}),
        ("swapped", "scale", {"draw": "rng.standard_normal((n_prev, n))"}),
    ],
    "initialize_parameters_he": [
        ("Xavier's scale", "np.sqrt(1 / n_prev)", {}),
        ("layer's own size n^[l]", "np.sqrt(2 / n)", {}),
        ("b1 is not zero", "np.sqrt(2 / n_prev)", {"bias": "0.01 * np.ones((n, 1))"}),
        ("the variance", "(2 / n_prev)", {}),
        ("forgot to multiply", "1", {}),
        ("global np.random", "np.sqrt(2 / n_prev)", {"draw": "np.random.randn(n, n_prev)"}),
        ("centred on 0", "np.sqrt(2 / n_prev)", {"draw": "rng.random((n, n_prev))"}),
        # issue 16 (distribution shape, not only moments): uniform weights of the same spread;
        # the docstring asks for sqrt(2 / n^[l-1]) * N(0, 1), so He's uniform variant is not it
        ("not a uniform distribution", "1.0",
         {"draw": "rng.uniform(-np.sqrt(6 / n_prev), np.sqrt(6 / n_prev), (n, n_prev))"}),
        ("not a uniform distribution", "np.sqrt(2 / n_prev) * np.sqrt(3)", {"draw": UNIFORM}),
    ],
    "initialize_parameters_xavier": [
        ("He's scale", "np.sqrt(2 / n_prev)", {}),
        ("layer's own size n^[l]", "np.sqrt(1 / n)", {}),
        ("Glorot", "np.sqrt(2 / (n_prev + n))", {}),
        ("b1 is not zero", "np.sqrt(1 / n_prev)", {"bias": "rng.standard_normal((n, 1))"}),
        ("generator of your own", "np.sqrt(1 / n_prev)",
         {"draw": "np.random.default_rng(42).standard_normal((n, n_prev))"}),
        ("not a uniform distribution", "np.sqrt(1 / n_prev) * np.sqrt(3)", {"draw": UNIFORM}),
    ],
}
# issue 16, a second, larger set: mistakes beside the ones above, each with its keyword
GAUSSIAN_MUTANTS["initialize_parameters_zeros"] = [
    ("b1 has shape (1, 2)", "1.0", {"draw": "np.zeros((n, n_prev))", "bias": "np.zeros((1, n))"}),
    ("check the range of your loop", "1.0",
     {"draw": "np.zeros((n, n_prev))", "layers": "range(len(layers_dims))"}),
    ("keys should be", "1.0", {"draw": "np.zeros((n, n_prev))", "args": "layers_dims, cache={}",
                               "head": "parameters = cache"}),  # a mutable default
    ("changed its argument layers_dims", "1.0",  # not "the range of your loop": it is right
     {"draw": "np.zeros((n, n_prev))", "head": "layers_dims.append(1)",
      "layers": "range(1, len(layers_dims) - 1)"}),
    ("W2 should be all zeros", "1.0", {"draw": "np.empty((n, n_prev))"}),
]
GAUSSIAN_MUTANTS["initialize_parameters_random"] += [
    ("scale=10 asks for 10", "1.0", {"draw": "rng.normal(0, scale ** 2, (n, n_prev))"}),
    ("centred on 0", "1.0", {"draw": "rng.normal(scale, 1, (n, n_prev))"}),
    ("scale=10 asks for 10", "np.sqrt(scale)", {}),
    ("the default scale is 10.0", "scale", {"args": "layers_dims, rng, scale=1.0"}),
    ("the default scale is 10.0", "scale", {"args": "layers_dims, rng, scale=0.01"}),
    ("not a generator of your own", "scale",
     {"head": "np.random.seed(3)", "draw": "np.random.randn(n, n_prev)"}),
    ("not a generator of your own", "scale", {"head": "rng = np.random.default_rng(1)"}),
    ("changed its argument layers_dims", "scale",
     {"head": "layers_dims.insert(0, layers_dims[0])", "layers": "range(1, len(layers_dims) - 1)"}),
    ("must hold floats", "scale", {"bias": "np.zeros((n, 1), dtype=int)"}),
]
GAUSSIAN_MUTANTS["initialize_parameters_he"] += [
    ("integer division", "(2 // n_prev) ** 0.5", {}),
    ("should be 0.05", "np.sqrt(2) / n_prev", {}),
    ("standard deviation of W2", "np.sqrt(2 / layers_dims[0])", {}),  # W1 is right: W2 is named
    ("standard deviation of W1 (shape (4000, 3)", "np.sqrt(2 / (n_prev + 1))", {}),
    ("Glorot", "np.sqrt(2 / (n_prev + n))", {}),
    ("keys should be", "np.sqrt(2 / n_prev)", {"layers": "range(1, len(layers_dims) - 1)"}),
    ("not a generator of your own", "np.sqrt(2 / n_prev)",
     {"head": "rng = np.random.default_rng(len(layers_dims))"}),
]
GAUSSIAN_MUTANTS["initialize_parameters_xavier"] += [
    ("should be 0.03536", "np.sqrt(1 / (n_prev + n))", {}),
    ("should be 0.03536", "np.sqrt(5 / 3 / n_prev)", {}),  # once told "Glorot" (4% tolerance)
    ("is 0.03631, but it should be 0.03536", "np.sqrt(1 / n_prev) * 1.03", {}),  # 3% off, in W1
    ("standard deviation of W1 (shape (4000, 3)", "np.sqrt(1 / (n_prev + 1))", {}),
    ("not a uniform distribution", "1.0",
     {"draw": "rng.uniform(-np.sqrt(6 / (n + n_prev)), np.sqrt(6 / (n + n_prev)), (n, n_prev))"}),
    ("global np.random", "np.sqrt(1 / n_prev)", {"draw": "np.random.standard_normal((n, n_prev))"}),
]
ARGS = {"initialize_parameters_random": "layers_dims, rng, scale=10.0",
        "initialize_parameters_zeros": "layers_dims"}
MUTANTS = [("initialize_parameters_zeros", keyword, zeros(body)) for keyword, body in ZERO_MUTANTS.items()] + [
    (name, keyword, gaussian_loop(name, std, **{"args": ARGS.get(name, "layers_dims, rng"), **other}))
    for name, rows in GAUSSIAN_MUTANTS.items() for keyword, std, other in rows]


@pytest.mark.parametrize("name,keyword,src", MUTANTS, ids=[f"{m[0][22:]}-{m[1]}" for m in MUTANTS])
def test_classic_mistake_fails_with_a_message_naming_it(name, keyword, src):
    ok, msg = NB.run_test(f"test_{name}", replace={name: src})
    assert not ok, f"the mistake '{keyword}' passed test_{name}:\n{src}"
    assert keyword in msg, f"test_{name} failed, but its message does not say '{keyword}': {msg}"


def test_not_done_exercise_fails_its_test():
    for name in EXERCISES:
        src = [s for kind, gid, s in NB.cells("solution") if gid == name][0]
        head = src.split("### BEGIN SOLUTION")[0]
        ok, msg = NB.run_test(f"test_{name}", replace={name: head.rstrip(" ") + "    raise NotImplementedError()\n"})
        assert not ok and "NotImplementedError" in msg


# ---------------------------------------------------------------- the explorer
@pytest.fixture(scope="module")
def nb_ns():
    return NB.namespace()


def small_explorer(init, ns, **kw):
    from helpers.explorers.initialization import HE_SCALE, explore_weight_scale

    kw.setdefault("options", [("0.01", 0.01), ("He", HE_SCALE), ("10", 10.0)])
    kw.setdefault("num_iterations", 60)
    return explore_weight_scale(init, ns["X_train"], ns["Y_train"], ns["X_test"], ns["Y_test"],
                                show=False, **kw)


def test_explorer_moving_controls_redraws(nb_ns):
    ex = small_explorer(nb_ns["initialize_parameters_random"], nb_ns)
    assert ex.message == "" and ex.png
    first = ex.png
    after_scale = ex.set(scale=10.0)
    assert after_scale != first
    assert ex.set(activation="tanh") != after_scale
    ex.warm()
    assert len(ex.frames) == 6, "every (scale, activation) setting can be drawn"
    assert len(ex.cache["circles"]) == 3, "the circles net is trained once per scale"


def test_explorer_not_done_shows_friendly_message(nb_ns):
    def initialize_parameters_random(layers_dims, rng, scale=10.0):
        raise NotImplementedError()

    ex = small_explorer(initialize_parameters_random, nb_ns)
    assert "Not yet" in ex.message
    assert "initialize_parameters_random" in ex.message
    assert ex.png is None


def test_explorer_diverged_run_is_drawn_as_diverged(nb_ns):
    ex = small_explorer(nb_ns["initialize_parameters_random"], nb_ns, learning_rate=500.0,
                        options=[("1", 1.0)])
    result = next(iter(ex.cache["circles"].values()))
    assert result["history"].diverged
    assert ex.png and ex.message == ""
    titles = " ".join(ax.get_title() for ax in ex.figure.axes)
    legends = " ".join(t.get_text() for ax in ex.figure.axes if ax.get_legend()
                       for t in ax.get_legend().get_texts())
    assert "diverged" in titles and "diverged" in legends


def test_deep_net_signal_vanishes_explodes_or_holds(nb_ns):
    from helpers.explorers.initialization import HE_SCALE, XAVIER_SCALE, deep_signals

    init = nb_ns["initialize_parameters_random"]

    def ratio(scale, act, what):
        s = deep_signals(init, scale, act)[what]["std"]
        return s[-1] / s[0] if what == "activations" else s[0] / s[-1]

    for what in ("activations", "gradients"):
        assert 0.2 < ratio(HE_SCALE, "relu", what) < 5, "He keeps a ReLU net's signal steady"
        assert 0.1 < ratio(XAVIER_SCALE, "tanh", what) < 2
        assert ratio(0.01, "relu", what) < 1e-8, "tiny weights make the signal vanish"
        assert ratio(1.0, "relu", what) > 1e5, "large weights make it explode"
    sat = deep_signals(init, 10.0, "tanh")
    assert sat["activations"]["near_one"].min() > 0.9, "tanh saturates with large weights"
    dead = deep_signals(init, 100.0, "tanh")
    assert dead["gradients"]["zeros"][0] > 0.5, "fully saturated tanh units pass back exact zeros"


def test_scale_options_cover_the_range_and_mark_he():
    from helpers.explorers.initialization import HE_SCALE, scale_options

    opts = scale_options()
    values = [v for _, v in opts]
    assert values == sorted(values) and np.isclose(values[0], 0.01) and np.isclose(values[-1], 100)
    assert any("He" in label and np.isclose(v, HE_SCALE) for label, v in opts)
    assert any("Xavier" in label for label, _ in opts)


def test_explorer_pictures_follow_the_controls(nb_ns):
    ex = small_explorer(nb_ns["initialize_parameters_random"], nb_ns)
    ex.set(scale=10.0, activation="tanh")
    axes = ex.figure.axes
    titles = " ".join(ax.get_title() for ax in axes)
    texts = " ".join(t.get_text() for ax in axes for t in ax.texts)
    assert "tanh, σ = 10" in titles and "saturated" in texts
    assert "σ = 10" in axes[2].get_title() and "σ = 10" in axes[3].get_legend().get_texts()[0].get_text()
    ex.set(scale=0.01)
    texts = " ".join(t.get_text() for ax in ex.figure.axes for t in ax.texts)
    titles = " ".join(ax.get_title() for ax in ex.figure.axes)
    assert "σ = 0.01" in titles and "saturated" not in texts
