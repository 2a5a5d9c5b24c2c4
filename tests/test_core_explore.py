"""Slider explorers: cached compute, real redraws, friendly message for unfinished exercises,
and plots that show divergence instead of NaN."""

import ipywidgets as w
import matplotlib
import numpy as np
import pytest

from helpers.explore import explorer, slider_values
from helpers.plots import plot_costs
from helpers.training import History

matplotlib.use("Agg")
pytestmark = pytest.mark.xdist_group("core")


def make(compute, **kw):
    lam = w.FloatLogSlider(value=0.01, base=10, min=-3, max=1, step=1, description="λ")
    flag = w.Checkbox(value=False, description="log")

    def draw(fig, result, values):
        ax = fig.add_subplot()
        ax.plot(result, label="curve")
        ax.set(title=f"λ = {values['lam']:g}", yscale="log" if values["log"] else "linear")

    return explorer(compute, draw, {"lam": lam}, view_controls={"log": flag}, show=False, **kw)


def test_slider_values_lists_every_step():
    assert slider_values(w.FloatLogSlider(min=-3, max=1, step=1, base=10)) == pytest.approx(
        [1e-3, 1e-2, 1e-1, 1, 10])
    assert slider_values(w.FloatSlider(min=0.5, max=1.0, step=0.25)) == [0.5, 0.75, 1.0]
    assert slider_values(w.Checkbox()) == [False, True]
    assert slider_values(w.Dropdown(options=[("a", 1), ("b", 2)])) == [1, 2]


def test_precompute_then_every_move_redraws_from_cache():
    calls = []

    def compute(lam):
        calls.append(lam)
        return np.linspace(1, 2, 10) * (1 + lam)

    ex = make(compute)
    assert len(calls) == 5 and len(ex.cache) == 5
    first = ex.image.value
    assert first[:4] == b"\x89PNG"
    ex.controls["lam"].value = 1.0
    assert ex.image.value != first
    ex.view_controls["log"].value = True  # a view control redraws without recomputing
    assert len(calls) == 5 and ex.draws == 3


def test_unfinished_exercise_shows_a_friendly_message():
    def compute_cost_with_regularization(lam):
        raise NotImplementedError()

    ex = make(compute_cost_with_regularization)
    assert "compute_cost_with_regularization" in ex.message.value
    assert "Not yet" in ex.message.value and "Traceback" not in ex.message.value
    assert ex.image.layout.display == "none"


def test_diverged_run_is_labelled_not_plotted_as_nan():
    h = History(costs=[0.7, 0.5, 3.0], steps=[0, 1, 2], status="diverged")
    ax = plot_costs({"α = 10": h, "α = 0.1": [0.7, 0.6, 0.5]})
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["α = 10 (diverged)", "α = 0.1"]


def test_draw_may_return_a_fast_update_that_keeps_the_axes():
    lam = w.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.5, description="β")
    built = []

    def draw(fig, result, values):
        ax = fig.add_subplot()
        (line,) = ax.plot(result, label="curve")
        ax.set(title="x", ylim=(0, 3))
        built.append(ax)

        def update(result, values):
            line.set_ydata(result)

        return update

    ex = explorer(lambda lam: np.arange(5) * lam, draw, {"lam": lam}, show=False)
    before = ex.image.value
    ex.controls["lam"].value = 1.0
    ex.controls["lam"].value = 0.5
    assert len(built) == 1 and ex.draws == 3 and ex.figure.axes == built
    assert ex.image.value != before
    np.testing.assert_array_equal(built[0].lines[0].get_ydata(), np.arange(5) * 0.5)
