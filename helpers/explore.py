"""Building blocks for slider explorers: train once per slider value, redraw instantly.

An explorer has two functions:

* ``compute(**values)`` does the slow part (train a net, run an optimizer) for one setting of
  the *compute* controls. Its result is cached, so each setting is computed once.
* ``draw(fig, result, values)`` paints that result into a matplotlib Figure (fast). For the
  fastest sliders, ``draw`` may return an ``update(result, values)`` function: later moves then
  call it to change the existing artists' data (``set_data``, ``set_text``…) instead of
  clearing the figure and building its axes again, and the layout is computed only once.

The figure is rendered to PNG and shown in an ``ipywidgets.Image``, so a slider move costs one
cache lookup and one draw. With ``precompute=True`` every setting of the compute controls is
computed up front, with a progress bar, so that sliding afterwards is instant.

Before the learner has written the exercise that ``compute`` relies on, the explorer shows a
friendly message naming that exercise instead of a traceback.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from helpers.plots import STYLE, fig_to_png
from helpers.training import ExerciseNotDone, exercise_not_done


def slider_values(control) -> list:
    """Every value a control can take: a selection's options, a checkbox's two states, or the
    steps of a (log) slider."""
    import ipywidgets as w

    if hasattr(control, "options") and control.options:
        opts = control.options
        return [o[1] if isinstance(o, tuple) else o for o in opts]
    if isinstance(control, (w.Checkbox, w.ToggleButton)):
        return [False, True]
    if isinstance(control, w.FloatLogSlider):
        n = int(round((control.max - control.min) / control.step))
        return [float(control.base ** (control.min + i * control.step)) for i in range(n + 1)]
    if isinstance(control, (w.FloatSlider, w.IntSlider)):
        n = int(round((control.max - control.min) / control.step))
        vals = [control.min + i * control.step for i in range(n + 1)]
        return [int(v) for v in vals] if isinstance(control, w.IntSlider) else [float(v) for v in vals]
    raise TypeError(f"cannot list the values of a {type(control).__name__}; give precompute= a list")


def _key(values: Mapping) -> tuple:
    def norm(v):
        if isinstance(v, (float, np.floating)):
            return float(f"{float(v):.9g}")
        return v

    return tuple(sorted((k, norm(v)) for k, v in values.items()))


def not_done_html(exc: ExerciseNotDone) -> str:
    return (
        "<div style='padding:12px;border-left:4px solid #E69F00;background:#FFF6E0'>"
        f"<b>Not yet:</b> this explorer runs your <code>{html.escape(exc.exercise)}</code>. "
        "Finish that exercise (and run its cell), then run this cell again.</div>"
    )


@dataclass
class Explorer:
    """A live explorer: its widgets, its figure and its cache (for tests and the browser)."""

    controls: dict
    view_controls: dict
    image: object
    message: object
    box: object
    figure: object
    cache: dict = field(default_factory=dict)
    draws: int = 0
    shown: bool = False

    def values(self) -> tuple[dict, dict]:
        return ({k: c.value for k, c in self.controls.items()},
                {k: c.value for k, c in self.view_controls.items()})

    def _ipython_display_(self):
        # explorer() shows itself at once (so its progress bar is visible while the cache
        # fills); a cell that ends with the explorer call must not show it a second time.
        if self.shown:
            return
        from IPython.display import display

        self.shown = True
        display(self.box)


def explorer(
    compute: Callable[..., object],
    draw: Callable[[object, object, dict], None],
    controls: Mapping[str, object],
    *,
    view_controls: Mapping[str, object] | None = None,
    precompute: bool | list[dict] = True,
    figsize: tuple[float, float] = (9, 3.6),
    dpi: int = 80,
    layout: str | None = "constrained",
    show: bool = True,
) -> Explorer:
    """Build and show a slider explorer.

    controls       {name: widget} passed to ``compute(**values)`` (cached per setting)
    view_controls  {name: widget} passed only to ``draw`` (no recomputation)
    precompute     True: compute every setting of ``controls`` now, with a progress bar;
                   a list of value dicts: just those; False: compute on first use.
    ``draw(fig, result, values)`` gets the figure (cleared for it), the cached result and all
    current values (compute and view controls together). If it returns a function
    ``update(result, values)``, later redraws call that instead (persistent axes: much faster).
    layout         the figure's layout engine ("constrained", or None for fixed positions)
    """
    import ipywidgets as w
    import matplotlib as mpl
    from matplotlib.figure import Figure

    controls = dict(controls)
    view_controls = dict(view_controls or {})
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=figsize, dpi=dpi, layout=layout)
    image = w.Image(format="png", layout=w.Layout(width=f"{int(figsize[0] * dpi)}px"))
    message = w.HTML()
    progress = w.IntProgress(min=0, max=1, description="computing", bar_style="info")
    progress.layout.display = "none"
    ctrl_box = w.HBox(list(controls.values()) + list(view_controls.values()),
                      layout=w.Layout(flex_flow="row wrap"))
    box = w.VBox([ctrl_box, progress, message, image])
    ex = Explorer(controls, view_controls, image, message, box, fig)

    def result_for(values: dict):
        key = _key(values)
        if key not in ex.cache:
            ex.cache[key] = compute(**values)
        return ex.cache[key]

    fast_update = []  # the update(result, values) function that draw() may return

    def redraw(*_):
        cvals, vvals = ex.values()
        try:
            result = result_for(cvals)
            with mpl.rc_context(STYLE):
                if fast_update:
                    fast_update[0](result, {**cvals, **vvals})
                else:
                    fig.clear()
                    fig.set_layout_engine(layout)
                    update = draw(fig, result, {**cvals, **vvals})
                    if callable(update):
                        fast_update.append(update)
            image.value = fig_to_png(fig)
            if fast_update and layout is not None:
                # keep the positions computed once; None (not "none") also spares savefig the
                # extra layout pass that any layout engine triggers
                fig.set_layout_engine(None)
        except NotImplementedError as exc:
            message.value = not_done_html(exercise_not_done(exc))
            image.layout.display = "none"
            return
        message.value = ""
        image.layout.display = None
        ex.draws += 1

    if show:
        ex._ipython_display_()
    if precompute:
        if precompute is True:
            names = list(controls)
            settings = [dict(zip(names, combo)) for combo in
                        itertools.product(*(slider_values(controls[n]) for n in names))]
        else:
            settings = list(precompute)
        progress.max, progress.value = max(len(settings), 1), 0
        progress.layout.display = None
        try:
            for i, values in enumerate(settings):
                progress.description = f"{i + 1}/{len(settings)}"
                result_for(values)
                progress.value = i + 1
        except NotImplementedError:
            pass  # redraw() below shows which exercise to finish
        progress.layout.display = "none"
    for c in list(controls.values()) + list(view_controls.values()):
        c.observe(redraw, names="value")
    redraw()
    return ex
