"""The notebooks' demonstrations show what their prose says (issue 17).

Each test runs the notebook's own setup and solution cells (and, where it can, the demo cell
itself, found by its cell id), then checks the number or the picture property that the prose
claims, with a margin. Training-heavy checks are marked slow.
"""

from __future__ import annotations

import ast
import csv
import os
from functools import cache
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HELPERS_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import nbformat  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@cache
def _notebook(prefix: str):
    (path,) = sorted((ROOT / "notebooks").glob(f"{prefix}_*.ipynb"))
    return nbformat.read(path, as_version=4)


def _source(prefix: str, cell_id: str) -> str:
    for cell in _notebook(prefix).cells:
        if cell.get("id") == cell_id:
            return cell.source
    raise KeyError(f"notebook {prefix} has no cell {cell_id!r}")


def _markdown(prefix: str) -> str:
    return "\n".join(c.source for c in _notebook(prefix).cells if c.cell_type == "markdown")


def _namespace(prefix: str, *demo_ids: str) -> dict:
    """Run the setup and solution cells of the notebook, in order, then the demo cells named."""
    ns: dict = {"__name__": "__main__"}
    for cell in _notebook(prefix).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("solution")
                                         or meta.get("grade_id", "").startswith("setup")):
            exec(compile(cell.source, f"<{prefix} {cell.get('id')}>", "exec"), ns)
    for cell_id in demo_ids:
        exec(compile(_source(prefix, cell_id), f"<{prefix} {cell_id}>", "exec"), ns)
    return ns


def _definitions(prefix: str, cell_id: str, ns: dict) -> dict:
    """Run only the imports, function definitions and constant assignments of a demo cell."""
    tree = ast.parse(_source(prefix, cell_id))
    keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))
            or (isinstance(n, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper()
                                                  for t in n.targets))]
    exec(compile(ast.Module(body=keep, type_ignores=[]), f"<{prefix} {cell_id} defs>", "exec"), ns)
    return ns


def _planted() -> np.ndarray:
    """The training kicks of the goalkeeper data that lie in the planted surprise clusters."""
    with open(ROOT / "data" / "goalkeeper.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(r["cluster"] == "0" for r in rows if r["split"] != "train"), "clusters in the dev set"
    return np.array([r["cluster"] == "1" for r in rows if r["split"] == "train"])


# --------------------------------------------------------------------------- 01
def test_01_vanishing_and_exploding_figure():
    ns = _namespace("01")
    _definitions("01", "vanish-code", ns)
    X = np.random.default_rng(1).standard_normal((100, 256))
    dims = [100] * 31
    small = ns["initialize_parameters_random"](dims, np.random.default_rng(1), scale=0.1)
    he = ns["initialize_parameters_he"](dims, np.random.default_rng(1))
    large = ns["initialize_parameters_random"](dims, np.random.default_rng(1), scale=0.2)
    (f_s, b_s), (f_h, b_h), (f_l, b_l) = (ns["signal_sizes"](P, X, np.random.default_rng(2))
                                          for P in (small, he, large))
    assert f_s[-1] < 1e-3 and b_s[0] < 1e-3, "σ = 0.1 should make activations and gradients vanish"
    assert f_l[-1] > 1e3 and b_l[0] > 1e3, "σ = 0.2 should make them explode"
    assert 0.1 < f_h[-1] < 10 and 0.1 < b_h[0] < 10, "He's σ should keep them near 1"
    assert f_l[-1] / f_s[-1] > 1e8, "the prose says nine orders of magnitude between the two"


def test_01_explorer_prose_names_each_nets_he_value():
    text = _source("01", "a98f70df")
    assert "0.141" in text and "0.45" in text and "0.63" in text


# --------------------------------------------------------------------------- 02
def test_02_planted_clusters_are_blue_kicks_in_the_other_teams_zone_of_the_training_set():
    planted = _planted()
    ns = _namespace("02")
    Y = ns["Y_train"][0]
    assert planted.sum() == 25 and planted.size == ns["X_train"].shape[1]
    assert np.all(Y[planted] == 1), "the prose says the clusters are blue (our player) kicks"
    assert np.all(ns["X_train"][1, planted] < 0), "… in the lower half, the other team's zone"


def test_02_data_plot_circles_the_clusters_and_shows_the_dev_set():
    import matplotlib.pyplot as plt

    ns = _namespace("02", "cell-011")
    fig = plt.gcf()
    train_ax, dev_ax = fig.axes[:2]
    assert any("cluster" in t.get_text() for t in train_ax.get_legend().get_texts())
    assert "Dev set" in dev_ax.get_title()
    assert ns["in_cluster"].sum() == 25
    plt.close("all")


@pytest.mark.slow
def test_02_diagnosis_reads_right_once_the_planted_kicks_are_counted():
    ns = _namespace("02", "cell-015", "cell-024")
    diagnose, planted = ns["diagnose_bias_variance"], _planted()
    plain, l2 = ns["plain"], ns["l2"]
    assert l2["dev_acc"] > l2["train_acc"] + 0.02, "the prose explains dev accuracy above train"
    assert plain["train_acc"] > plain["dev_acc"] + 0.05
    wrong = (ns["predict"](ns["X_train"], l2["parameters"]) != ns["Y_train"])[0]
    assert 8 <= wrong[planted].sum() <= 16, "the prose says L2 gets about half (12) wrong"
    assert wrong[~planted].mean() < 1 - l2["dev_acc"], "outside the clusters, L2 train err < dev err"
    base = planted.mean()
    assert diagnose(1 - l2["train_acc"], 1 - l2["dev_acc"], 0.0) == "high bias"
    assert diagnose(1 - l2["train_acc"], 1 - l2["dev_acc"], base) == "good fit"
    assert diagnose(1 - plain["train_acc"], 1 - plain["dev_acc"], base) == "high variance"


def test_02_no_tanh_argument_for_the_relu_net():
    text = _markdown("02")
    assert "where the network behaves almost linearly" not in text
    assert "kink" in text


# --------------------------------------------------------------------------- 03
@pytest.mark.slow
def test_03_dropout_cost_is_noisy_against_the_whole_nets_cost_and_keeps_the_clusters():
    ns = _namespace("03")
    from helpers.explorers.regularization import dev_cost_monitor, weight_norms
    from helpers.network import predict

    X, Y = ns["X_train"], ns["Y_train"]
    hist = ns["train"](X, Y, ns["LAYERS_DIMS"], init=ns["glorot_uniform"],
                       rng=np.random.default_rng(ns["SEED"]), learning_rate=ns["LEARNING_RATE"],
                       num_iterations=ns["NUM_ITERATIONS"],
                       forward=ns["forward_propagation_with_dropout"],
                       backward=ns["backward_propagation_with_dropout"],
                       hyper={"keep_prob": ns["KEEP_PROB"]},
                       monitor=dev_cost_monitor(X, Y, ns["X_dev"], ns["Y_dev"]), monitor_every=100)
    thinned = np.std(np.diff(hist.costs[-5000:]))
    whole = np.std(np.diff([rec["train_cost"] for _, rec in hist.monitor][-50:]))
    assert thinned > 3 * whole, "the whole net's cost should be far smoother than the thinned one"
    fitted = (predict(X, hist.parameters) == Y)[0, _planted()].sum()
    assert fitted >= 20, "the prose says dropout still walls in most planted kicks (23 of 25)"
    norms = weight_norms(hist.parameters)
    assert norms[2] > 9.0 and norms[0] < 12.0, "the prose says ‖W3‖ grows (7.91 → 9.67), ‖W1‖ shrinks"


def test_03_what_to_remember_does_not_claim_dropout_shrinks_the_weights():
    assert "spreads out and shrinks" not in _markdown("03")


# --------------------------------------------------------------------------- 04
def test_04_centred_difference_error_is_second_order():
    J, dJ = np.sin, np.cos
    errors = [abs((J(1 + e) - J(1 - e)) / (2 * e) - dJ(1)) for e in (1e-2, 1e-3)]
    assert 80 < errors[0] / errors[1] < 120, "ε ten times smaller, error a hundred times smaller"
    text = _markdown("04")
    assert "the $\\varepsilon^2$ terms cancel" not in text
    assert "after some training" in text


# --------------------------------------------------------------------------- 05
def _runs_05(ns, name, lr, epochs, seed):
    return ns["train"](ns["X_train"], ns["Y_train"], ns["layers_dims"], init=ns["glorot_uniform"],
                       rng=np.random.default_rng(seed), mini_batches=ns["random_mini_batches"],
                       mini_batch_size=64, learning_rate=lr, num_epochs=epochs,
                       hyper={"beta": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
                       **ns["optimizers"][name])


@pytest.fixture(scope="module")
def nb05():
    ns = _namespace("05")
    src = _source("05", "0d61e129")
    ns["optimizers"] = {
        "mini-batch GD": dict(update=ns["update_parameters_with_gd"]),
        "momentum": dict(update=ns["update_parameters_with_momentum"],
                         state_init=ns["initialize_velocity"]),
    }
    assert "learning_rate=0.001" in src
    _definitions("05", "momentum-fast", ns)
    return ns


def test_05_momentum_changes_nothing_at_a_small_learning_rate(nb05):
    gd, mom = (_runs_05(nb05, n, 0.001, 300, nb05["SEED"]) for n in ("mini-batch GD", "momentum"))
    assert abs(gd.costs[-1] - mom.costs[-1]) < 2e-3


@pytest.mark.slow
def test_05_momentum_helps_at_a_large_learning_rate(nb05):
    assert "learning_rate=0.3" in _source("05", "momentum-fast")
    gd, mom = (_runs_05(nb05, n, 0.3, 2000, nb05["SEED"]) for n in ("mini-batch GD", "momentum"))
    wobble, first = nb05["wobble"], nb05["first_epoch_below"]
    assert wobble(mom) < 0.3 * wobble(gd), "momentum's cost should jump far less (0.0014 vs 0.0102)"
    assert first(mom) is not None and first(gd) is not None and first(mom) * 5 < first(gd), (
        "momentum should leave the plateau much sooner from the notebook's start (76 vs 1022)")
    for seed in range(1, 7):
        gd, mom = (_runs_05(nb05, n, 0.3, 500, seed) for n in ("mini-batch GD", "momentum"))
        assert wobble(mom) < wobble(gd), f"seed {seed}: the prose says momentum is smoother from every start"


def test_05_decay_demo_has_a_control_and_four_schedules():
    src = _source("05", "5ccdbbe5")
    assert '"no decay (control)": fast["momentum"]' in src and "learning_rate=0.3" in src
    assert "learning_rate=0.3" in _source("05", "momentum-fast")
    schedules = _source("05", "22f01c1e")
    for name in ("update_lr", "schedule_lr_decay", "exponential_decay", "staircase_decay"):
        assert name in schedules


@pytest.mark.slow
def test_05_decay_settles_the_end_of_training(nb05):
    ns = _definitions("05", "22f01c1e", nb05)
    control = _runs_05(ns, "momentum", 0.3, 2000, ns["SEED"])
    wobble = ns["wobble"]
    for fn, settings in ((ns["schedule_lr_decay"], {"decay_rate": 1.0, "time_interval": 500}),
                         (ns["staircase_decay"], {"drop": 0.5, "time_interval": 500})):
        h = ns["train"](ns["X_train"], ns["Y_train"], ns["layers_dims"], init=ns["glorot_uniform"],
                        rng=np.random.default_rng(ns["SEED"]), mini_batches=ns["random_mini_batches"],
                        mini_batch_size=64, learning_rate=0.3, num_epochs=2000, lr_decay=fn,
                        hyper={"beta": 0.9, **settings}, **ns["optimizers"]["momentum"])
        assert wobble(h) < wobble(control) / 3, f"{fn.__name__} should settle the end of training"
        assert abs(h.costs[-1] - control.costs[-1]) < 0.02, "…at about the control's final cost"
    h = ns["train"](ns["X_train"], ns["Y_train"], ns["layers_dims"], init=ns["glorot_uniform"],
                    rng=np.random.default_rng(ns["SEED"]), mini_batches=ns["random_mini_batches"],
                    mini_batch_size=64, learning_rate=0.3, num_epochs=2000, lr_decay=ns["update_lr"],
                    hyper={"beta": 0.9, "decay_rate": 1.0}, **ns["optimizers"]["momentum"])
    assert h.costs[-1] > control.costs[-1] + 0.2, "update_lr with decay_rate = 1 stops training"


def test_05_comparison_curves_stay_visible_and_mini_batch_legend_has_classes(nb05):
    import matplotlib.pyplot as plt

    from helpers.training import History

    ns = _definitions("05", "0d61e129", nb05)
    styles = ns["STYLES"]
    gd, mom = styles["mini-batch GD"], styles["momentum"]
    assert gd.get("lw", 1) > 2 * mom.get("lw", 1) and mom.get("ls") == "--", (
        "a wide GD line under a dashed momentum line: both visible when they coincide")
    hist = History(steps=[0, 1], costs=[0.7, 0.6], parameters=ns["glorot_uniform"](
        ns["layers_dims"], np.random.default_rng(0)))
    ns["show_runs"]({"mini-batch GD": hist, "momentum": hist}, "t")
    plt.close("all")
    show, plt.show = plt.show, lambda *a, **k: None  # keep the figure open to inspect it
    try:
        exec(compile(_source("05", "79c831c8"), "<05 mini-batches>", "exec"), dict(ns))
        texts = [t.get_text() for t in plt.gcf().axes[0].get_legend().get_texts()]
    finally:
        plt.show = show
        plt.close("all")
    assert any("class 0" in t for t in texts) and any("class 1" in t for t in texts), texts


# --------------------------------------------------------------------------- 06
def test_06_no_backward_pass_of_notebook_1_and_names_glorot_and_xavier():
    text = _markdown("06")
    assert "backward pass of notebook 1" not in text
    assert "Glorot (Xavier) uniform" not in text
    assert "1/n^{[l-1]}" in text and "2 / (n^{[l-1]} + n^{[l]})" in text
    for word in ("Ease of programming", "Running speed", "Truly open"):
        assert word in text


@pytest.mark.slow
def test_06_rows_of_W_are_templates_of_what_sets_a_class_apart():
    ns = _namespace("06", "050cabd8")
    exec(compile(_source("06", "ca8a480b"), "<06 templates>", "exec"), ns)
    assert min(ns["similarity"]) > 0.6, "the prose says each row matches its class's difference image"


# --------------------------------------------------------------------------- 07
def test_07_normalized_bowl_is_round_because_the_features_are_uncorrelated():
    ns = _namespace("07")
    X = ns["regression_data"]()[0]
    (Xn,), _, _ = ns["normalize_inputs"](X)
    rho = np.corrcoef(X)[0, 1]
    raw, norm = (np.linalg.eigvalsh(A @ A.T / A.shape[1]) for A in (X, Xn))
    assert raw[1] / raw[0] > 50
    assert norm[1] / norm[0] == pytest.approx((1 + abs(rho)) / (1 - abs(rho)), rel=1e-6)
    assert norm[1] / norm[0] < 1.3
    text = _markdown("07")
    assert "uncorrelated" in text and "red ticks" not in text
    assert "Panda" in text and "Caviar" in text


@pytest.mark.slow
def test_02_lambda_prose_numbers():
    """Cell cell-027 quotes the λ explorer's accuracies; they come from these runs."""
    ns = _namespace("02")
    text = _source("02", "cell-027")

    def run(lambd):
        h = ns["train"](ns["X_train"], ns["Y_train"], ns["LAYERS_DIMS"], init=ns["glorot_uniform"],
                        rng=np.random.default_rng(ns["SEED"]), forward=ns["forward_propagation"],
                        cost=ns["compute_cost_with_regularization"],
                        backward=ns["backward_propagation_with_regularization"],
                        hyper={"lambd": lambd}, learning_rate=ns["LEARNING_RATE"],
                        num_iterations=ns["NUM_ITERATIONS"])
        p = h.parameters
        return (100 * (ns["predict"](ns["X_train"], p) == ns["Y_train"]).mean(),
                100 * (ns["predict"](ns["X_dev"], p) == ns["Y_dev"]).mean())

    small, large = run(0.01), run(10.0)
    assert f"{small[1]:.1f} %" in text and f"{large[1]:.1f} %" in text
    assert large[0] < 84, "the prose says the training accuracy falls at λ = 10"
