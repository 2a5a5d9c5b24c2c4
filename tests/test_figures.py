"""The pixel test: every public figure of the course, drawn from small fixed inputs, is the same
picture as its committed baseline, ``tests/baseline_images/figures/<name>.png``.

What it draws: each public figure function of helpers/plots.py and helpers/explorers/*.py
(helpers/batchnorm_net.py draws none), the layer helpers (``draw_*``) each on an Axes of its own,
and each slider explorer's picture at its default setting, through the explorer protocol of
helpers.explore (compute, then the picture function; no widget, no browser). The learner's
exercises come from the source notebooks' solution cells (tests.nbtools); every training run is
short and seeded, and the one picture that shows wall time (the mini-batch size explorer) gets a
fake clock, so every run draws the same pixels.

Each figure is saved at ``DPI`` dots per inch, in the course style over matplotlib's defaults
with matplotlib's test font settings, and compared with
``matplotlib.testing.compare.compare_images`` (RMS difference at most ``TOL``, on 0–255). The
pictures drawn by a run, and a difference image for each one that changed, go to
``build/test_figures/``. Names say what a picture shows, not which function draws it, so that a
renamed function is still compared with the picture it drew before.

Regenerate the baselines on purpose only (a figure changed and you have looked at it):

    .venv/bin/python -m tests.test_figures --regenerate               # every figure
    .venv/bin/python -m tests.test_figures --regenerate 05-saddle     # names starting so
    FIGURES_REGENERATE=1 .venv/bin/python -m pytest tests/test_figures.py

then open the new PNGs and commit them with the change that explains them.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.testing import set_font_settings_for_testing  # noqa: E402
from matplotlib.testing.compare import ImageComparisonFailure, compare_images  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASELINES = ROOT / "tests" / "baseline_images" / "figures"
OUT = ROOT / "build" / "test_figures"
DPI = 50
TOL = 0.1
REGENERATE = "FIGURES_REGENERATE"

FIGURES: dict[str, Callable[[], Figure]] = {}
pytestmark = pytest.mark.xdist_group("figures")


def figure(name: str) -> Callable:
    """Register a function that draws the figure ``name`` (and returns its Figure)."""
    def register(fn: Callable[[], Figure]) -> Callable[[], Figure]:
        if name in FIGURES:
            raise ValueError(f"two figures named {name!r}")
        FIGURES[name] = fn
        return fn
    return register


# ---------------------------------------------------------------- inputs
@cache
def nb(prefix: str) -> dict:
    """The setup and solution cells of notebook ``prefix``, run once (quietly)."""
    from tests.nbtools import Notebook

    with contextlib.redirect_stdout(io.StringIO()):
        return Notebook(prefix).namespace()


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def picture(ex) -> Figure:
    """The picture an explorer drew of its default setting (through helpers.explore's
    protocol); its plot function must also return the Figure it is given, as the convention
    says (checked on a spare Figure, which is not drawn)."""
    spare = Figure(figsize=ex.figsize)
    assert ex.plot_fn(spare, ex.result_at(ex.index), ex.settings) is spare, (
        f"{ex.title}: its plot function does not return the Figure it was given")
    return ex.figure


def layer(added) -> None:
    """A draw_ function returns what it added: an artist or a non-empty list of artists."""
    from matplotlib.artist import Artist
    from matplotlib.container import Container

    items = added if isinstance(added, list) else [added]
    assert items and all(isinstance(a, Artist | Container) for a in items), (
        f"a draw_ function returned {added!r}, not the artists it added")


def axes(size: tuple[float, float] = (3.2, 2.6)):
    """A new figure with one Axes (for a layer helper)."""
    fig = plt.figure(figsize=size)
    return fig.add_subplot()


@cache
def goalkeeper_runs() -> dict:
    """Notebook 02's net trained briefly with λ = 0 and λ = 0.7: {λ: summary}."""
    from helpers.explorers import regularization as R

    return {lam: R.train_lambda(*goalkeeper("02"), lam, **l2_fns(), known={},
                                layers_dims=R.LAYERS_DIMS, learning_rate=R.LEARNING_RATE,
                                num_iterations=300, seed=R.SEED)
            for lam in (0.0, 0.7)}


def goalkeeper(prefix: str) -> tuple:
    """(X_train, Y_train, X_dev, Y_dev) of notebook 02 or 03."""
    ns = nb(prefix)
    return ns["X_train"], ns["Y_train"], ns["X_dev"], ns["Y_dev"]


def l2_fns() -> dict:
    """Notebook 02's forward pass, L2-regularized cost and backward pass, and initializer."""
    ns = nb("02")
    return {"forward": ns["forward_propagation"], "cost": ns["compute_cost_with_regularization"],
            "backward": ns["backward_propagation_with_regularization"],
            "init": ns["glorot_uniform"]}


@cache
def batchnorm_runs() -> dict:
    """Notebook 08's net trained (300 steps) at α = 0.316 and 10, with and without batch norm."""
    from helpers.explorers.batchnorm import train_runs

    ns = nb("08")
    return train_runs(ns["X_train"], ns["Y_train"], ns["X_test"], ns["Y_test"], bn_fns(),
                      learning_rates=(0.316, 10.0))


def bn_trained() -> tuple:
    """What notebook 08's batch-size and momentum explorers take: (X_train, X_test, Y_test, the
    batch-normalized run at α = 0.316, the learner's functions)."""
    ns = nb("08")
    return ns["X_train"], ns["X_test"], ns["Y_test"], batchnorm_runs()[(0.316, True)], bn_fns()


def bn_fns() -> dict:
    ns = nb("08")
    return {"bn_forward": ns["batchnorm_forward"], "bn_backward": ns["batchnorm_backward"],
            "update_running_stats": ns["update_running_stats"],
            "bn_inference": ns["batchnorm_inference"]}


def optimizer_fns() -> dict:
    ns = nb("05")
    names = ("update_parameters_with_gd", "initialize_velocity", "update_parameters_with_momentum",
             "initialize_rmsprop", "update_parameters_with_rmsprop", "initialize_adam",
             "update_parameters_with_adam")
    return {n: ns[n] for n in names}


# ---------------------------------------------------------------- helpers/plots.py
@figure("core-decision-boundary")
def _core_decision_boundary() -> Figure:
    from helpers.plots import plot_decision_boundary

    ns = nb("01")
    ax = plot_decision_boundary(lambda X: (np.hypot(*X) < 0.7).astype(int)[None],
                                ns["X_train"], ns["Y_train"], title="a circle of radius 0.7",
                                train_acc=0.9, test_acc=0.85, resolution=60)
    return ax.figure


@figure("core-costs")
def _core_costs() -> Figure:
    from helpers.plots import plot_costs
    from helpers.training import train

    ns = nb("01")
    hist = train(ns["X_train"], ns["Y_train"], [2, 5, 1], init=ns["initialize_parameters_he"],
                 rng=rng(1), learning_rate=0.1, num_iterations=60, progress=False)
    return plot_costs({"He, α = 0.1": hist, "made up, diverged": [0.7, 0.9, 2.0, float("nan")]},
                      log=True).figure


@figure("core-draw-regions")
def _core_draw_regions() -> Figure:
    from helpers.plots import draw_regions, grid_for

    pts, extent, shape = grid_for(nb("01")["X_train"], 40)
    ax = axes()
    layer(draw_regions(ax, pts[0] * pts[1] > 0, extent, shape))
    return ax.figure


@figure("core-draw-points")
def _core_draw_points() -> Figure:
    from helpers.plots import draw_points

    ns = nb("01")
    ax = axes()
    layer(draw_points(ax, ns["X_train"], ns["Y_train"], names=("outer (0)", "inner (1)")))
    ax.legend()
    return ax.figure


# ---------------------------------------------------------------- 01 initialization
@figure("01-weight-scale-explorer")
def _weight_scale_explorer() -> Figure:
    from helpers.explorers.initialization import explore_weight_scale

    ns = nb("01")
    ex = explore_weight_scale(ns["initialize_parameters_random"], ns["X_train"], ns["Y_train"],
                              ns["X_test"], ns["Y_test"], num_iterations=100,
                              show=False)
    return picture(ex)


# ---------------------------------------------------------------- 02 regularization
@figure("02-boundaries")
def _boundaries() -> Figure:
    from helpers.explorers.regularization import plot_boundaries

    ns, runs = nb("02"), goalkeeper_runs()
    return plot_boundaries({"λ = 0": runs[0.0], "λ = 0.7": runs[0.7]}, ns["X_train"],
                           ns["Y_train"])


@figure("02-early-stopping")
def _early_stopping() -> Figure:
    from helpers.explorers.regularization import dev_cost_monitor, plot_early_stopping
    from helpers.training import train

    ns = nb("02")
    data = (ns["X_train"], ns["Y_train"], ns["X_dev"], ns["Y_dev"])
    hist = train(ns["X_train"], ns["Y_train"], [2, 20, 3, 1], init=ns["glorot_uniform"],
                 rng=rng(0), learning_rate=0.3, num_iterations=400, progress=False,
                 monitor=dev_cost_monitor(*data), monitor_every=20)
    return plot_early_stopping(hist).figure


@figure("02-draw-boundary")
def _draw_boundary() -> Figure:
    from helpers.explorers.regularization import draw_boundary

    ns = nb("02")
    ax = axes((3.2, 3.0))
    layer(draw_boundary(ax, goalkeeper_runs()[0.7], ns["X_train"], ns["Y_train"], "λ = 0.7"))
    return ax.figure


@figure("02-draw-sweep")
def _draw_sweep() -> Figure:
    from helpers.explorers.regularization import draw_sweep

    runs = goalkeeper_runs()
    ax = axes((4, 2.8))
    layer(draw_sweep(ax, {(lam,): s for lam, s in runs.items()}, 0.7))
    return ax.figure


@figure("02-draw-cost")
def _draw_cost() -> Figure:
    from helpers.explorers.regularization import draw_cost

    runs = goalkeeper_runs()
    ax = axes()
    layer(draw_cost(ax, runs[0.7], runs[0.0], "λ = 0.7", 0.7))
    return ax.figure


@figure("02-lambda-explorer")
def _lambda_explorer() -> Figure:
    from helpers.explorers.regularization import explore_lambda

    return picture(explore_lambda(*goalkeeper("02"), **l2_fns(), num_iterations=300, show=False))


# ---------------------------------------------------------------- 03 dropout
@figure("03-draw-histogram")
def _draw_histogram() -> Figure:
    from helpers.explorers.dropout import activation_means, draw_histogram

    ns = nb("03")
    params = ns["glorot_uniform"]([2, 20, 3, 1], rng(0))
    means = activation_means(ns["forward_propagation_with_dropout"], ns["X_train"], params, 0.7,
                             rng(1), draws=60)
    ax = axes((3.6, 2.6))
    layer(draw_histogram(ax, means, 0.7))
    return ax.figure


@figure("03-keep-prob-explorer")
def _keep_prob_explorer() -> Figure:
    from helpers.explorers.dropout import explore_keep_prob

    ns = nb("03")
    fns = {"forward": ns["forward_propagation_with_dropout"],
           "backward": ns["backward_propagation_with_dropout"], "init": ns["glorot_uniform"]}
    return picture(explore_keep_prob(*goalkeeper("03"), **fns, num_iterations=300, show=False))


# ---------------------------------------------------------------- 04 gradient checking
@figure("04-breakdown")
def _breakdown() -> Figure:
    from helpers.explorers.gradient_checking import check_each_parameter, plot_breakdown

    ns = nb("04")
    P, X, Y = ns["parameters_check"], ns["X_check"], ns["Y_check"]
    _, cache = ns["forward_propagation_n"](X, Y, P)
    found = {name: check_each_parameter(ns["gradient_check_n"], P, ns[fn](X, Y, cache), X, Y)
             for name, fn in (("buggy", "backward_propagation_n"),
                              ("fixed", "backward_propagation_fixed"))}
    return plot_breakdown(found).figure


@figure("04-epsilon-explorer")
def _epsilon_explorer() -> Figure:
    from helpers.explorers.gradient_checking import explore_epsilon

    ns = nb("04")
    ex = explore_epsilon(ns["gradient_check_n"], ns["backward_propagation_fixed"],
                         ns["parameters_check"], ns["X_check"], ns["Y_check"],
                         show=False)
    return picture(ex)


# ---------------------------------------------------------------- 05 optimization
@figure("05-mini-batches")
def _mini_batches() -> Figure:
    from helpers.explorers.optimization import plot_mini_batches

    ns = nb("05")
    batches = ns["random_mini_batches"](ns["X_train"][:, :100], ns["Y_train"][:, :100], 32, rng(0))
    return plot_mini_batches(batches).figure


@figure("05-optimizers")
def _optimizers() -> Figure:
    from helpers.explorers.optimization import plot_optimizers
    from helpers.training import train

    ns = nb("05")
    runs = {name: train(ns["X_train"], ns["Y_train"], [2, 5, 2, 1], init=ns["glorot_uniform"],
                        rng=rng(0), mini_batches=ns["random_mini_batches"], mini_batch_size=64,
                        learning_rate=0.01, num_epochs=20, hyper={"beta": 0.9}, progress=False,
                        **pieces)
            for name, pieces in (("GD", {"update": ns["update_parameters_with_gd"]}),
                                 ("momentum", {"update": ns["update_parameters_with_momentum"],
                                               "state_init": ns["initialize_velocity"]}))}
    return plot_optimizers(runs, ns["X_train"], ns["Y_train"], ns["X_test"], ns["Y_test"],
                           title="two optimizers", show_learning_rate=True)


@figure("05-saddle-points")
def _saddle_points() -> Figure:
    from helpers.explorers.optimization import plot_saddle_points

    fns = optimizer_fns()
    return plot_saddle_points(update_parameters_with_gd=fns["update_parameters_with_gd"],
                              initialize_adam=fns["initialize_adam"],
                              update_parameters_with_adam=fns["update_parameters_with_adam"])


@figure("05-trajectories")
def _trajectories() -> Figure:
    from helpers.explorers.optimization import (
        SURFACES,
        optimizer_methods,
        plot_trajectories,
        trajectories,
    )

    surface = SURFACES["elongated valley"]
    trajs = trajectories(surface, optimizer_methods(**optimizer_fns(), beta1=0.9, beta2=0.99),
                         0.3, 100)
    fig = plt.figure(figsize=(7, 3), layout="constrained")
    plot_trajectories(fig, surface, trajs, title="α = 0.3")
    return fig


@figure("05-ewa-explorer")
def _ewa_explorer() -> Figure:
    from helpers.explorers.optimization import explore_ewa

    return picture(explore_ewa(nb("05")["exponentially_weighted_average"], show=False))


@figure("05-loss-surface-explorer")
def _loss_surface_explorer() -> Figure:
    from helpers.explorers.optimization import explore_loss_surface

    return picture(explore_loss_surface(**optimizer_fns(), show=False))


@figure("05-batch-size-explorer")
def _batch_size_explorer() -> Figure:
    from helpers.explorers.optimization import explore_batch_size

    ns = nb("05")
    ex = explore_batch_size(ns["X_train"][:, :64], ns["Y_train"][:, :64], [2, 5, 2, 1],
                            init=ns["glorot_uniform"], mini_batches=ns["random_mini_batches"],
                            update=ns["update_parameters_with_gd"], num_epochs=5,
                            sizes=(8, 16), show=False)
    return picture(ex)


# ---------------------------------------------------------------- 06 softmax
@figure("06-digit-grid")
def _digit_grid() -> Figure:
    from helpers.explorers.softmax import plot_digit_grid

    ns = nb("06")
    logits = 3 * rng(3).standard_normal((10, 8))
    logits[ns["labels_test"][0, :8], np.arange(8)] += 4 * (np.arange(8) % 3 != 2)
    probs = ns["softmax"](logits)
    return plot_digit_grid(ns["X_test_raw"][:, :8], ns["labels_test"][0, :8], probs, rows=1,
                           cols=8, title="eight test digits")


@figure("06-confusion")
def _confusion() -> Figure:
    from helpers.explorers.softmax import plot_confusion

    cm = np.diag(np.arange(20, 30)) + (np.arange(100).reshape(10, 10) % 7 == 0)
    return plot_confusion(cm).figure


@figure("06-temperature-explorer")
def _temperature_explorer() -> Figure:
    from helpers.explorers.softmax import explore_temperature

    return picture(explore_temperature(nb("06")["softmax"], show=False))


@figure("06-learning-rate-units-explorer")
def _learning_rate_units_explorer() -> Figure:
    from helpers.explorers.softmax import explore_learning_rate_and_units

    ns = nb("06")
    ex = explore_learning_rate_and_units(
      ns["X_train"][:, :200], ns["labels_train"][:, :200], ns["X_dev"][:, :100],
      ns["labels_dev"][:, :100], softmax_cross_entropy=ns["softmax_cross_entropy"],
      one_hot=ns["one_hot"], num_iterations=20, show=False)
    return picture(ex)


# ---------------------------------------------------------------- 07 hyperparameters
def _peak_score(learning_rate: float, n_h: int) -> float:
    """A made-up dev score, best near α = 0.05 and 20 hidden units."""
    return float(0.9 - 0.1 * np.log10(learning_rate / 0.05) ** 2 - 0.0002 * (n_h - 20) ** 2)


@figure("07-cost-surfaces")
def _cost_surfaces() -> Figure:
    from helpers.explorers.hyperparameters import plot_cost_surfaces, regression_data

    return plot_cost_surfaces(nb("07")["normalize_inputs"], *regression_data(),
                              learning_rates=(0.1, 0.1))


@figure("07-grid-vs-random")
def _grid_vs_random() -> Figure:
    from helpers.explorers.hyperparameters import (
        TOY_SPACE,
        grid_trials,
        plot_grid_vs_random,
        toy_score,
    )

    found = nb("07")["random_search"](toy_score, TOY_SPACE, 16, rng(7))
    return plot_grid_vs_random(grid_trials(toy_score, TOY_SPACE, 4), found)


@figure("07-search")
def _search() -> Figure:
    from helpers.explorers.hyperparameters import plot_search

    ns = nb("07")
    space = {"learning_rate": ("log", 1e-3, 1.0), "n_h": ("int", 1, 50)}
    coarse = ns["random_search"](_peak_score, space, 24, rng(7))
    fine_space = ns["zoom"](space, coarse[:5])
    fine = ns["random_search"](_peak_score, fine_space, 16, rng(8))
    return plot_search(coarse, fine, fine_space).figure


@figure("07-draw-bowl")
def _draw_bowl() -> Figure:
    from helpers.explorers.hyperparameters import bowl, descent, draw_bowl, regression_data

    problem = bowl(*regression_data())
    ax = axes((3.2, 3.2))
    layer(draw_bowl(ax, problem, descent(problem, 0.1, 300), title="raw inputs, α = 0.1"))
    return ax.figure


@figure("07-normalization-explorer")
def _normalization_explorer() -> Figure:
    from helpers.explorers.hyperparameters import explore_normalization, regression_data

    ex = explore_normalization(nb("07")["normalize_inputs"], *regression_data(),
                               show=False)
    return picture(ex)


@figure("07-search-trials-explorer")
def _search_trials_explorer() -> Figure:
    from helpers.explorers.hyperparameters import explore_search_trials

    return picture(explore_search_trials(nb("07")["random_search"], show=False))


# ---------------------------------------------------------------- 08 batch normalization
@figure("08-learning-rates")
def _bn_learning_rates() -> Figure:
    from helpers.explorers.batchnorm import plot_learning_rates

    return plot_learning_rates(batchnorm_runs())


@figure("08-layer-distributions")
def _bn_layer_distributions() -> Figure:
    from helpers.explorers.batchnorm import plot_layer_distributions

    runs = batchnorm_runs()
    return plot_layer_distributions(runs[(0.316, False)], runs[(0.316, True)])


@figure("08-test-statistics")
def _bn_test_statistics() -> Figure:
    from helpers.explorers.batchnorm import plot_test_statistics, test_accuracies

    ns = nb("08")
    accs = test_accuracies(ns["X_test"], ns["Y_test"], batchnorm_runs()[(0.316, True)], bn_fns(),
                           batch_sizes=(1, 4, 16, 64))
    return plot_test_statistics(accs).figure


@figure("08-learning-rate-explorer")
def _bn_learning_rate_explorer() -> Figure:
    from helpers.explorers.batchnorm import explore_learning_rate

    ns = nb("08")
    known = {(1.0, True): batchnorm_runs()[(0.316, True)]}  # shown as α = 1: no extra training
    ex = explore_learning_rate(ns["X_train"], ns["Y_train"], ns["X_test"], ns["Y_test"],
                               bn_fns(), known=known, show=False)
    return picture(ex)


@figure("08-batch-size-explorer")
def _bn_batch_size_explorer() -> Figure:
    from helpers.explorers.batchnorm import explore_batch_size

    return picture(explore_batch_size(*bn_trained(), show=False))


@figure("08-momentum-explorer")
def _bn_momentum_explorer() -> Figure:
    from helpers.explorers.batchnorm import explore_momentum

    return picture(explore_momentum(*bn_trained(), show=False))


# ---------------------------------------------------------------- drawing and comparing
class _Clock:
    """A stand-in for the time module in helpers.training: each reading is 0.25 s after the
    last, so a run's measured wall time (drawn by the mini-batch size explorer) is fixed."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 0.25
        return self.now


@contextlib.contextmanager
def fixed_conditions() -> Iterator[None]:
    """matplotlib's defaults, its test font settings and the course style; a fake clock."""
    from helpers import training
    from helpers.plots import STYLE

    real_time = training.time
    training.time = _Clock()
    try:
        with mpl.rc_context(), contextlib.redirect_stdout(io.StringIO()):
            mpl.rcdefaults()
            set_font_settings_for_testing()
            mpl.rcParams.update(STYLE)
            yield
    finally:
        training.time = real_time


def render(name: str, folder: Path = OUT) -> Path:
    """Draw the figure ``name`` and save it as folder/name.png; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    try:
        with fixed_conditions():
            fig = FIGURES[name]()
            fig.savefig(path, dpi=DPI, metadata={"Software": None})
    finally:
        plt.close("all")
    return path


def regenerating() -> bool:
    return os.environ.get(REGENERATE, "").strip() not in ("", "0")


def compare(name: str) -> str | None:
    """None when the figure ``name`` matches its baseline, else what changed and where."""
    baseline = BASELINES / f"{name}.png"
    if not baseline.exists():
        return (f"figure {name!r} has no baseline {baseline.relative_to(ROOT)}: draw it with "
                f"`.venv/bin/python -m tests.test_figures --regenerate {name}`, look at it, "
                "commit it")
    (OUT / f"{name}-failed-diff.png").unlink(missing_ok=True)  # from an earlier run
    new = render(name)
    try:
        diff = compare_images(str(baseline), str(new), tol=TOL, in_decorator=True)
    except ImageComparisonFailure as exc:  # e.g. the figure's size changed
        return (f"figure {name!r} changed: {exc} (baseline {baseline.relative_to(ROOT)}, new "
                f"picture {new.relative_to(ROOT)})")
    if diff is None:
        return None
    return (f"figure {name!r} changed (RMS difference {diff['rms']:.2f} > {TOL}): baseline "
            f"{baseline.relative_to(ROOT)}, new picture {Path(diff['actual']).relative_to(ROOT)}, "
            f"difference {Path(diff['diff']).relative_to(ROOT)}. If the change is meant, look at "
            f"the new picture, then `.venv/bin/python -m tests.test_figures --regenerate {name}` "
            "and commit the baseline")


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_unchanged(name: str) -> None:
    if regenerating():
        render(name, BASELINES)
        return
    problem = compare(name)
    assert problem is None, problem


def test_every_public_figure_function_is_drawn() -> None:
    """A public plot_/draw_/explore_ function of the figure modules is drawn here: called by a
    figure above, or (an explorer's picture) named in an explore_ function of its module."""
    import inspect
    from importlib import import_module

    modules = ["helpers.plots", "helpers.batchnorm_net"] + [
        f"helpers.explorers.{p.stem}" for p in sorted((ROOT / "helpers/explorers").glob("*.py"))
        if p.stem != "__init__"]
    here = Path(__file__).read_text()
    missing = []
    for m in modules:
        public = {name: fn for name, fn in vars(import_module(m)).items()
                  if name.startswith(("plot_", "draw_", "show_", "explore_"))
                  and inspect.isfunction(fn) and fn.__module__ == m}
        explorers = "".join(inspect.getsource(fn) for name, fn in public.items()
                            if name.startswith("explore_"))
        missing += [f"{m}.{name}" for name in public if f"{name}(" not in here
                    and (name.startswith("explore_") or name not in explorers)]
    assert not missing, f"figure functions this test never draws: {missing}"


def main(argv: list[str]) -> int:
    """``--regenerate [prefix ...]``: draw the baselines of every figure (or of those whose
    name starts with a prefix) again; without it, compare every figure and print the result."""
    regenerate = "--regenerate" in argv
    prefixes = [a for a in argv if not a.startswith("--")]
    names = [n for n in sorted(FIGURES) if not prefixes or n.startswith(tuple(prefixes))]
    if not names:
        print(f"no figure starts with {prefixes}; the figures are {sorted(FIGURES)}")
        return 2
    failed = 0
    for name in names:
        if regenerate:
            print(f"baseline {render(name, BASELINES).relative_to(ROOT)}")
            continue
        problem = compare(name)
        failed += problem is not None
        print(problem or f"{name}: unchanged")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
