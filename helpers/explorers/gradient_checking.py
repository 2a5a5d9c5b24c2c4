"""Notebook 04 (gradient checking): a per-parameter breakdown and the ε explorer.

Both run the learner's own ``gradient_check_n``:

* ``check_each_parameter`` runs it once per parameter array (W1, b1, ...), with every other
  array frozen, to say *which* gradient disagrees;
* ``explore_epsilon`` runs it for ε from 1e-12 to 1e-1 and draws its relative difference on a
  log-log plot next to that of a one-sided difference, with a slider for ε.

The learner's ``gradient_check_n`` evaluates the cost through the notebook's
``forward_propagation_n(X, Y, parameters) -> (cost, cache)``, looked up by that name in the
notebook; ``using_forward`` swaps in another forward pass for the duration of a ``with`` block.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from helpers.explore import Explorer, explorer, log_slider
from helpers.gradients import (
    dictionary_to_vector,
    parameter_keys,
    vector_to_dictionary,
)
from helpers.plots import COLORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORWARD_NAME = "forward_propagation_n"

# Where a relative difference stops being fine (below the first), and where it is almost surely
# a bug (above the second).
FINE, BUG = 1e-7, 1e-3


def verdict(difference: float) -> str:
    """What a relative difference says about a backward pass, in words."""
    d = float(difference)
    if not math.isfinite(d):
        return "not a finite number: check your function"
    if d < FINE:
        return "fine: backpropagation agrees with the numerical gradient"
    if d < BUG:
        return "look closer: probably fine, but check the parameters one by one"
    return "almost surely a bug in the backward pass"


@contextlib.contextmanager
def using_forward(check: Callable, forward: Callable, name: str = FORWARD_NAME) -> Iterator[None]:
    """Inside the block, ``check`` (a function defined in a notebook) sees ``forward`` under
    ``name`` instead of the notebook's own forward pass; restored on exit, even after an error."""
    space = check.__globals__
    missing = object()
    old = space.get(name, missing)
    space[name] = forward
    try:
        yield
    finally:
        if old is missing:
            space.pop(name, None)
        else:
            space[name] = old


def check_each_parameter(check: Callable, parameters: dict, gradients: dict, X: np.ndarray,
                         Y: np.ndarray, epsilon: float = 1e-7) -> dict[str, float]:
    """{key: relative difference} for each parameter array, from the learner's ``check``
    (their ``gradient_check_n``) run on that array alone.

    For key ``W2``, ``check`` gets ``{"W2": W2}`` and ``{"dW2": dW2}``, and its cost function
    fills in the other arrays unchanged, so only W2's entries are nudged."""
    space = check.__globals__
    if FORWARD_NAME not in space:
        raise NameError(f"{FORWARD_NAME} is not defined in the notebook: run its cell first")
    forward = space[FORWARD_NAME]
    out = {}
    for key in parameter_keys(parameters):

        def forward_one(X, Y, params, key=key):
            return forward(X, Y, {**parameters, key: params[key]})

        with using_forward(check, forward_one):
            out[key] = float(check({key: parameters[key]}, {f"d{key}": gradients[f"d{key}"]},
                                   X, Y, epsilon))
    return out


def plot_breakdown(breakdowns: dict[str, dict[str, float]], ax: Axes | None = None,
                   title: str | None = None) -> Axes:
    """Bars of the relative difference per parameter array (log scale), one group per
    backward pass ({"buggy": {...}, "fixed": {...}}), over the fine / look closer / bug bands."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
    keys = list(next(iter(breakdowns.values())))
    x = np.arange(len(keys))
    width = 0.8 / len(breakdowns)
    colors = [COLORS["vermillion"], COLORS["blue"], COLORS["green"], COLORS["orange"]]
    floor = 1e-13
    ax.axhspan(floor, FINE, color=COLORS["green"], alpha=0.10, lw=0)
    ax.axhspan(FINE, BUG, color=COLORS["yellow"], alpha=0.15, lw=0)
    ax.axhspan(BUG, 10, color=COLORS["vermillion"], alpha=0.08, lw=0)
    for j, (label, diffs) in enumerate(breakdowns.items()):
        vals = np.array([max(float(diffs[k]), floor) for k in keys])
        ax.bar(x + (j - (len(breakdowns) - 1) / 2) * width, vals, width, bottom=floor,
               label=label, color=colors[j % len(colors)])
    ax.set_yscale("log")
    ax.set_ylim(floor, 10)
    ax.set_xticks(x, [f"d{k}" for k in keys])
    side = ax.get_yaxis_transform()  # x in axes coordinates, y in data coordinates
    for y, text in [(3e-11, "fine"), (1e-5, "look\ncloser"), (3e-2, "bug")]:
        ax.text(1.01, y, text, transform=side, ha="left", va="center", fontsize=8)
    ax.set(xlabel="gradient", ylabel="relative difference",
           title=title or "Gradient check, one parameter array at a time")
    ax.legend(loc="upper center", ncols=len(breakdowns))
    ax.grid(axis="x", visible=False)
    return ax


# ---------------------------------------------------------------- the ε explorer
def epsilon_control(value: float = 1e-7):
    return log_slider("ε (nudge)", -12, -1, 0.25, value, fmt="{:.0e}")


def one_sided_forward(forward: Callable, parameters: dict) -> Callable:
    """A forward pass that turns a centred check into a one-sided one: called at θ + d (the
    check's nudge d = ±ε/2 of one entry), it evaluates J(θ + 2·max(d, 0)), so the check's
    (J(θ + ε/2) − J(θ − ε/2)) / ε becomes (J(θ + ε) − J(θ)) / ε: the classic mistake, measured by
    the learner's own check at ε/2."""
    theta, layout = dictionary_to_vector(parameters)

    def forward_one_sided(X, Y, params):
        nudged, _ = dictionary_to_vector({k: params[k] for k, _ in layout})
        shifted = theta + 2 * np.maximum(nudged - theta, 0.0)
        return forward(X, Y, vector_to_dictionary(shifted, layout))

    return forward_one_sided


def epsilon_curves(check: Callable, backward: Callable, parameters: dict, X, Y,
                   epsilons) -> dict:
    """Relative differences for each ε: the learner's centred ``check`` and a one-sided
    difference, both against the gradients of the learner's ``backward(X, Y, cache)``."""
    forward = check.__globals__[FORWARD_NAME]
    _, cache = forward(X, Y, parameters)
    grads = backward(X, Y, cache)
    eps = np.asarray(list(epsilons), dtype=float)
    centred = np.array([_as_float(check(parameters, grads, X, Y, e)) for e in eps])
    with using_forward(check, one_sided_forward(forward, parameters)):
        one_sided = np.array([_as_float(check(parameters, grads, X, Y, e / 2)) for e in eps])
    return {"epsilon": eps, "centred": centred, "one_sided": one_sided}


def _as_float(value) -> float:
    try:
        return float(np.asarray(value, dtype=float).reshape(()))
    except (TypeError, ValueError):
        return math.nan


def _nearest(eps: np.ndarray, value: float) -> int:
    return int(np.argmin(np.abs(np.log10(eps) - np.log10(value))))


RECT = (0.1, 0.12, 0.88, 0.78)  # the axes' place in the figure, fixed (no layout engine)
STYLES = {"centred": (COLORS["blue"], "centred  (J(θ+ε) − J(θ−ε)) / 2ε"),
          "one_sided": (COLORS["orange"], "one-sided  (J(θ+ε) − J(θ)) / ε")}


def _static_axes(ax, result: dict) -> None:
    """What does not move with the slider: both curves, their minima, the guides, the labels."""
    eps = result["epsilon"]
    for name, (color, label) in STYLES.items():
        y = result[name]
        ok = _usable(y)
        if not ok.any():
            continue
        ax.plot(eps[ok], y[ok], "-", color=color, lw=2, label=label)
        j = int(np.flatnonzero(ok)[np.argmin(y[ok])])
        ax.plot(eps[j], y[j], "*", color=color, ms=13, mec="black", mew=0.6,
                label=f"smallest: {y[j]:.1e} at ε = {eps[j]:.0e}")
    ax.axhline(FINE, color=COLORS["green"], lw=1, ls="-.")
    ax.text(eps[0], FINE, " 1e-7: fine below", color=COLORS["green"], fontsize=8, va="bottom")
    _slopes(ax, result)
    _log_axes(ax, (eps[0] / 2, eps[-1] * 2), (1e-13, 10))
    ax.set(xlabel="ε (log scale)", ylabel="relative difference (log scale)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize=8)


def _usable(y: np.ndarray) -> np.ndarray:
    return np.isfinite(y) & (y > 0)


def plot_epsilon(fig: Figure, result: dict, settings: dict) -> Figure:
    """The ε explorer's picture, in ``fig``: the log-log plot of both curves (``result``: from
    ``epsilon_curves``), with markers at the current ε and at each minimum. Returns ``fig``."""
    fig.set_layout_engine(None)  # the same place for every ε
    ax = fig.add_axes(RECT)
    _static_axes(ax, result)
    eps = result["epsilon"]
    i = _nearest(eps, settings["epsilon"])
    bits, bad = [], []
    for name, (color, _) in STYLES.items():
        y = result[name]
        if bool(_usable(y)[i]):
            ax.plot([eps[i]], [y[i]], "o", color=color, ms=8, mec="black", mew=0.6, zorder=4)
            bits.append(f"{name.replace('_', '-')} {y[i]:.1e}")
        else:
            bad.append(name.replace("_", "-"))
    ax.axvline(eps[i], color=COLORS["black"], lw=0.8, ls=":")
    title = f"Relative difference at ε = {eps[i]:.0e}: " + (", ".join(bits) or "—")
    if bad:
        title += f"\n(not a finite positive number: {', '.join(bad)}; check gradient_check_n)"
    ax.set_title(title)
    return fig


def _log_axes(ax, xlim, ylim) -> None:
    """Log-log axes with plain-text tick labels every other decade."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    for axis, (lo, hi) in ((ax.xaxis, xlim), (ax.yaxis, ylim)):
        decades = np.arange(np.ceil(np.log10(lo)), np.floor(np.log10(hi)) + 1)
        axis.set_major_locator(FixedLocator(10.0 ** decades[decades % 2 == decades[-1] % 2]))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"1e{round(np.log10(v)):d}"))
        axis.set_minor_locator(NullLocator())


def _slopes(ax, result: dict) -> None:
    """Short dashed guide lines of slope 2, 1 and −1, placed beside the curves."""
    eps = result["epsilon"]
    # (curve, slope, from ε, to ε, factor off the curve)
    guides = [("centred", 2, 1e-4, 1e-2, 0.1), ("one_sided", 1, 1e-6, 1e-3, 5.0),
              ("centred", -1, 1e-11, 1e-8, 5.0)]
    for name, slope, lo, hi, factor in guides:
        y = result[name]
        j = _nearest(eps, math.sqrt(lo * hi))
        if not (np.isfinite(y[j]) and y[j] > 0):
            continue
        x = np.array([lo, hi])
        yy = factor * y[j] * (x / eps[j]) ** slope
        ax.plot(x, yy, "--", color="0.4", lw=1)
        if slope < 0:  # above a falling line: at its left end
            at, ha, va = (lo, yy[0] * 1.3), "left", "bottom"
        elif factor > 1:  # above a rising line: at its right end
            at, ha, va = (hi, yy[1] * 1.3), "right", "bottom"
        else:  # below a rising line: just right of its top end
            at, ha, va = (hi * 1.3, yy[1]), "left", "center"
        ax.text(*at, f"slope {slope}", fontsize=8, color="0.25", ha=ha, va=va)


def explore_epsilon(check: Callable, backward: Callable, parameters: dict, X: np.ndarray,
                    Y: np.ndarray, *, show: bool = True) -> Explorer:
    """Slide ε from 1e-12 to 1e-1: the relative difference of the learner's centred
    ``check`` (gradient_check_n) and of a one-sided difference, against the gradients of
    ``backward`` (their fixed backward pass). Both curves are computed once, for every ε of the
    slider; the slider moves the markers."""
    control = epsilon_control()

    def curves(settings: dict) -> dict:
        return epsilon_curves(check, backward, parameters, X, Y, control.values)

    return explorer({"epsilon": control}, {"curves": (curves, [])},
                    lambda fig, result, settings: plot_epsilon(fig, result["curves"], settings),
                    figsize=(8, 4.4), title="ε explorer", checked=[check, backward],
                    display=show)
