"""Slider explorers: one protocol, pictures switched in the page, settings computed lazily.

An explorer declares

* its **controls**: ``{name: Control}``, each a finite list of (label, value) options
  (``slider``, ``log_slider``, ``checkbox``, ``toggle``, ``dropdown``);
* a pure **compute**: ``compute(settings) -> result``, or several parts
  ``{part: (fn, [names of the controls it depends on])}`` (each part is then cached on its own
  controls only, and the result is ``{part: value}``);
* how a result is **drawn**: a picture function ``plot(fig, result, settings) -> Figure`` that
  lays out its panels in the fresh matplotlib Figure it is given and returns it (the course's
  figure convention, helpers/plots.py: each explorer module names it ``plot_<what>``, after its
  ``explore_<what>``).

``explorer(...)`` owns the rest: the cache, the rendered frames (one PNG per setting), the
warming of the other settings in a background thread (nearest settings first) with a progress
bar, the "Not yet" message when an exercise is unfinished, and the display: an anywidget
(helpers/explorer.js) that holds the frames and switches them in the page, so that moving a
slider to a computed setting needs no kernel round trip. A setting not drawn yet says
"computing…" until its frame arrives.

When no widget front-end is attached to the kernel (nbclient, autograde, ``make check``) an
explorer computes nothing. ``HELPERS_EXPLORERS=eager`` computes and draws every setting before
the explorer is displayed (the static site's build); ``HELPERS_EXPLORERS=off`` never computes.

An explorer whose picture summarises a whole sweep (accuracy against every λ, say) names that
part in ``sweep=``: ``plot`` then finds ``result["sweep"] = {values: part result}`` with every
setting computed so far, and frames drawn before the sweep was complete are drawn again once it is.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import os
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from helpers.training import ExerciseNotDone, exercise_not_done

ENV = "HELPERS_EXPLORERS"  # "eager" | "off" | unset (automatic)
JS = Path(__file__).with_name("explorer.js")
CSS = Path(__file__).with_name("explorer.css")


# ---------------------------------------------------------------- controls
@dataclass(frozen=True)
class Control:
    """One control: its label, its (label, value) options and the default value."""

    label: str
    options: tuple[tuple[str, Any], ...]
    default: Any
    kind: str = "slider"  # "slider" | "checkbox" | "toggle" | "dropdown"

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError(f"control {self.label!r} has no options")
        self.position(self.default)  # raises if the default is not an option

    @property
    def values(self) -> list:
        return [v for _, v in self.options]

    def position(self, value) -> int:
        """The index of ``value`` among the options (floats compared to 9 significant digits)."""
        for i, v in enumerate(self.values):
            if _same(v, value):
                return i
        raise ValueError(f"{value!r} is not a value of the control {self.label!r}; its values "
                         f"are {self.values}")


def _same(a, b) -> bool:
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        try:
            return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=0.0))
        except (TypeError, ValueError):
            return False
    return a == b


def slider(label: str, options: Sequence, default, fmt: str = "{:g}") -> Control:
    """A slider over ``options``: values, or (label, value) pairs."""
    pairs = tuple(o if isinstance(o, tuple) else (fmt.format(o), o) for o in options)
    return Control(label, pairs, default)


def log_slider(label: str, lo: float, hi: float, step: float, default: float,
               fmt: str = "{:.3g}") -> Control:
    """A slider over 10**lo, 10**(lo + step), ..., 10**hi."""
    n = int(round((hi - lo) / step))
    values = [float(10.0 ** (lo + i * step)) for i in range(n + 1)]
    return slider(label, values, values[int(np.argmin([abs(np.log10(v) - np.log10(default))
                                                       for v in values]))], fmt)


def linear_slider(label: str, lo: float, hi: float, step: float, default: float,
                  fmt: str = "{:.2f}") -> Control:
    """A slider over lo, lo + step, ..., hi."""
    n = int(round((hi - lo) / step))
    values = [round(lo + i * step, 10) for i in range(n + 1)]
    return slider(label, values, min(values, key=lambda v: abs(v - default)), fmt)


def checkbox(label: str, default: bool = False) -> Control:
    return Control(label, (("off", False), ("on", True)), bool(default), "checkbox")


def toggle(label: str, options: Sequence[tuple[str, Any]], default) -> Control:
    return Control(label, tuple(options), default, "toggle")


def dropdown(label: str, options: Sequence, default) -> Control:
    pairs = tuple(o if isinstance(o, tuple) else (str(o), o) for o in options)
    return Control(label, pairs, default, "dropdown")


# ---------------------------------------------------------------- messages and frames
def not_done_html(exc: ExerciseNotDone) -> str:
    return (
        "<div style='padding:12px;border-left:4px solid #E69F00;background:#FFF6E0'>"
        f"<b>Not yet:</b> this explorer runs your <code>{html.escape(exc.exercise)}</code>. "
        "Finish that exercise (and run its cell), then run this cell again.</div>"
    )


def error_html(exc: BaseException) -> str:
    """What the explorer shows for this setting when a function it runs raised ``exc``."""
    where = "".join(traceback.format_exception(exc)[-6:])
    return (
        "<div style='padding:12px;border-left:4px solid #D55E00;background:#FDEDE6'>"
        f"<b>This setting could not be drawn:</b> <code>{html.escape(type(exc).__name__)}: "
        f"{html.escape(str(exc))[:500]}</code>. The explorer runs your functions: check the one "
        "named below, then run this cell again.<details><summary>where it failed</summary>"
        f"<pre style='font-size:11px'>{html.escape(where)}</pre></details></div>"
    )


def check_notes(functions: Sequence[Callable]) -> str:
    """What the course's checks say about these exercises ("" when they passed, or when the
    checks module is not there): shown above the picture, which runs them as they are."""
    try:
        from helpers.checks import warning
    except ImportError:
        return ""
    notes = []
    for fn in functions:
        try:
            text = warning(fn)
        except Exception:  # noqa: BLE001 (a note must never stop the explorer)
            text = ""
        if text and text not in notes:
            notes.append(text)
    return " ".join(notes)


def fixed_layout(fig, **margins) -> None:
    """Axes at fixed places (no layout engine): every setting's picture then puts its panels
    at the same pixels, so that switching pictures moves only what changed."""
    fig.set_layout_engine(None)
    fig.subplots_adjust(**{"left": 0.07, "right": 0.98, "bottom": 0.14, "top": 0.88,
                           "wspace": 0.25, **margins})


def render_png(plot: Callable, result, settings: dict, figsize, dpi: int) -> tuple[bytes, Any]:
    """(PNG bytes, Figure) of ``plot(fig, result, settings)`` on a fresh Agg figure."""
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from helpers.plots import STYLE

    with _RENDER, mpl.rc_context(STYLE):
        fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        plot(fig, result, settings)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 6})
    return buf.getvalue(), fig


_RENDER = threading.RLock()  # one matplotlib render at a time (rcParams are global)


# ---------------------------------------------------------------- the explorer
class Explorer:
    """A running explorer: settings, cache, frames, and (when displayed) its widget."""

    def __init__(self, controls: Mapping[str, Control], compute, plot: Callable, *,
                 figsize=(9, 3.6), dpi: int = 80, sweep: str | None = None, title: str = "",
                 note: str = ""):
        self.controls = dict(controls)
        self.parts = _parts(compute, list(self.controls))
        self.plot_fn, self.figsize, self.dpi = plot, tuple(figsize), dpi
        self.sweep, self.title, self.note = sweep, title, note
        self.index = [c.position(c.default) for c in self.controls.values()]
        self.cache: dict[str, dict[tuple, Any]] = {p: {} for p in self.parts}
        self.frames: dict[str, bytes] = {}
        self.provisional: set[str] = set()  # frames drawn before the sweep was complete
        self.not_done = ""  # the "Not yet" message: an exercise is missing, nothing can be drawn
        self.errors: dict[str, str] = {}  # key -> why that setting could not be drawn
        self.renders = 0
        self.widget = None
        self.fallback_id: str | None = None
        self._lock = threading.RLock()
        self._shown = False
        self.views = 0  # pages showing it now: warming stops when its output is cleared

    # -- settings and keys
    def key(self, index: Sequence[int] | None = None) -> str:
        return ",".join(str(i) for i in (self.index if index is None else index))

    def settings_at(self, index: Sequence[int]) -> dict:
        return {n: c.values[i] for (n, c), i in zip(self.controls.items(), index)}

    @property
    def settings(self) -> dict:
        return self.settings_at(self.index)

    def all_indices(self) -> list[tuple[int, ...]]:
        """Every setting, nearest to the current one first (L1 distance between indices)."""
        grid = itertools.product(*(range(len(c.options)) for c in self.controls.values()))
        return sorted(grid, key=lambda ix: sum(abs(a - b) for a, b in zip(ix, self.index)))

    # -- computing
    def result_at(self, index: Sequence[int]) -> dict | Any:
        """The result of every part for this setting (computed once, then cached)."""
        settings = self.settings_at(index)
        out = {}
        with self._lock:
            for name, (fn, on) in self.parts.items():
                k = tuple(settings[n] for n in on)
                if k not in self.cache[name]:
                    self.cache[name][k] = fn({n: settings[n] for n in on})
                out[name] = self.cache[name][k]
            if self.sweep is not None:
                out["sweep"] = dict(self.cache[self.sweep])
        return out["result"] if list(out) == ["result"] else out

    def sweep_complete(self) -> bool:
        if self.sweep is None:
            return True
        on = self.parts[self.sweep][1]
        need = 1
        for n in on:
            need *= len(self.controls[n].options)
        # (a setting that failed counts as done: the sweep shows the others)
        return len(self.cache[self.sweep]) + len(self.errors) >= need

    def draw(self, index: Sequence[int] | None = None) -> bytes | None:
        """Compute (if needed) and render the frame of a setting; None (and ``message`` set)
        when an exercise is unfinished or a learner's function failed."""
        index = tuple(self.index if index is None else index)
        key = self.key(index)
        try:
            result = self.result_at(index)
            png, fig = render_png(self.plot_fn, result, self.settings_at(index), self.figsize,
                                  self.dpi)
        except NotImplementedError as exc:
            self._fail(not_done_html(exercise_not_done(exc)))
            return None
        except Exception as exc:  # noqa: BLE001 (a learner's function failed: say so, don't crash)
            self._fail(error_html(exc), key)
            return None
        with self._lock:
            self.frames[key] = png
            self.renders += 1
            self._figure = (key, fig)
            if self.sweep_complete():
                self.provisional.discard(key)
            else:
                self.provisional.add(key)
        self._publish(key, png)
        return png

    def todo(self) -> list[tuple[int, ...]]:
        """Settings still to draw (or to draw again once the sweep is complete), nearest first."""
        if self.not_done:
            return []
        complete = self.sweep_complete()
        return [ix for ix in self.all_indices() if self.key(ix) not in self.errors and (
            self.key(ix) not in self.frames or (complete and self.key(ix) in self.provisional))]

    def warm(self) -> None:
        """Compute and draw every setting now (in this thread)."""
        while (todo := self.todo()) and not self.not_done:
            self.draw(todo[0])

    # -- the learner's side, from Python
    def set(self, **values) -> bytes | None:
        """Move controls to these values (as a learner would) and draw the new setting."""
        for name, value in values.items():
            if name not in self.controls:
                raise KeyError(f"no control named {name!r}; the controls are {list(self.controls)}")
            self.index[list(self.controls).index(name)] = self.controls[name].position(value)
        if self.widget is not None:
            self.widget.index = list(self.index)
        key = self.key()
        return self.png if key in self.frames or key in self.errors else self.draw()

    @property
    def message(self) -> str:
        """What the explorer shows instead of the current picture ("" when it has one)."""
        return self.not_done or self.errors.get(self.key(), "")

    @property
    def png(self) -> bytes | None:
        """The current setting's frame (None if not drawn, e.g. an unfinished exercise)."""
        return None if self.message else self.frames.get(self.key())

    @property
    def figure(self):
        """A matplotlib Figure of the current setting (drawn again if needed; for tests)."""
        held = getattr(self, "_figure", None)
        if held is None or held[0] != self.key():
            self.draw()
            held = getattr(self, "_figure", (None, None))
        return held[1]

    # -- display
    def _fail(self, message: str, key: str | None = None) -> None:
        """An exercise is missing (``key`` None: no setting can be drawn) or one setting failed."""
        if key is None:
            self.not_done = message
        else:
            self.errors[key] = message
        if self.widget is not None:
            if key is None:
                self.widget.message = message
                self.widget.progress = [0, 0]
            else:
                self.widget.errors = dict(self.errors)
                self._progress()
        if key is None or key == self.key():
            self._update_fallback()

    def _publish(self, key: str, png: bytes) -> None:
        if self.widget is None:
            return
        self.widget.send({"type": "frame", "key": key}, [png])
        self._progress()
        if key == self.key():
            self._update_fallback()

    def _progress(self) -> None:
        total = len(self.all_indices())
        with self._lock:
            done = sum(1 for k in self.frames if k not in self.provisional) + len(self.errors)
            frames = dict(self.frames)
        self.widget.progress = [min(done, total), total]
        if done >= total:  # the saved widget state gets every frame, once
            self.widget.frames = frames

    def _fallback_bundle(self) -> tuple[dict, dict]:
        png = self.png
        if png is not None:
            src = "data:image/png;base64," + base64.b64encode(png).decode()
            body = (f"<img src='{src}' alt='{html.escape(self.title or 'explorer')}' "
                    f"style='max-width:100%'>")
            text = f"<{self.title or 'explorer'}: {self.describe()}>"
        elif self.message:
            body, text = self.message, "<explorer: " + html.unescape(
                self.message.split("</b>", 1)[-1]).replace("<code>", "").replace("</code>", "")
        else:
            body = ("<i>This explorer draws its pictures when its notebook runs in JupyterLab.</i>")
            text = "<explorer: pictures are drawn when the notebook runs in JupyterLab>"
        if self.note:
            body = f"<p><i>{html.escape(self.note)}</i></p>{body}"
        data = {"text/html": f"<div class='idnn-explorer-fallback'>{body}</div>",
                "text/plain": text}
        meta = {"idnn_explorer_fallback": getattr(self.widget, "model_id", "")}
        return data, meta

    def describe(self) -> str:
        return ", ".join(f"{c.label} = {c.options[i][0]}"
                         for c, i in zip(self.controls.values(), self.index))

    def _update_fallback(self) -> None:
        if self.fallback_id is None:
            return
        from IPython.display import update_display

        data, meta = self._fallback_bundle()
        update_display(data, raw=True, metadata=meta, display_id=self.fallback_id)

    def display(self) -> None:
        """Show the widget and, under it, the picture that exports keep."""
        from IPython.display import display

        if self._shown:
            return
        self._shown = True
        from IPython import get_ipython

        self.widget = _make_widget(self)
        if get_ipython() is None:
            return  # plain Python (a script, a test): nowhere to show it
        display(self.widget)
        data, meta = self._fallback_bundle()
        self.fallback_id = f"idnn-explorer-{id(self)}"
        display(data, raw=True, metadata=meta, display_id=self.fallback_id)

    def _ipython_display_(self) -> None:
        self.display()  # a cell ending with the explorer call shows it once

    def on_index(self, index: list[int]) -> None:
        """The page moved a control: remember the setting, draw it soon if it is missing."""
        if len(index) != len(self.controls):
            return
        self.index = [max(0, min(int(i), len(c.options) - 1))
                      for i, c in zip(index, self.controls.values())]
        _WORKER.poke(self)
        _WORKER.fallback_soon(self)


def _parts(compute, names: list[str]) -> dict[str, tuple[Callable, tuple[str, ...]]]:
    if callable(compute):
        return {"result": (compute, tuple(names))}
    out = {}
    for part, (fn, on) in dict(compute).items():
        unknown = [n for n in on if n not in names]
        if unknown:
            raise ValueError(f"part {part!r} depends on {unknown}, which are not controls "
                             f"({names})")
        out[part] = (fn, tuple(on))
    return out


# ---------------------------------------------------------------- the widget
_WIDGET_CLASS: list = []  # the anywidget class, made on first use (anywidget imported late)


def widget_class():
    """The explorer's anywidget class (traits: see helpers/explorer.js)."""
    if _WIDGET_CLASS:
        return _WIDGET_CLASS[0]
    import anywidget
    import traitlets as t

    class ExplorerWidget(anywidget.AnyWidget):
        _esm = JS
        _css = CSS
        controls = t.List().tag(sync=True)
        index = t.List(t.Int()).tag(sync=True)
        frames = t.Dict().tag(sync=True)
        width = t.Int(0).tag(sync=True)
        height = t.Int(0).tag(sync=True)
        message = t.Unicode("").tag(sync=True)
        errors = t.Dict().tag(sync=True)
        note = t.Unicode("").tag(sync=True)
        progress = t.List([0, 0]).tag(sync=True)
        live = t.Bool(True).tag(sync=True)

        def __repr__(self) -> str:  # the text/plain of its output (the picture follows it)
            return "(slider explorer)"

    _WIDGET_CLASS.append(ExplorerWidget)
    return ExplorerWidget


def _make_widget(ex: Explorer):
    ExplorerWidget = widget_class()
    total = len(ex.all_indices())
    done = sum(1 for k in ex.frames if k not in ex.provisional)
    widget = ExplorerWidget(
        controls=[{"name": n, "label": c.label, "kind": c.kind,
                   "options": [lab for lab, _ in c.options]} for n, c in ex.controls.items()],
        index=list(ex.index), frames=dict(ex.frames), message=ex.not_done,
        errors=dict(ex.errors), note=ex.note,
        width=int(ex.figsize[0] * ex.dpi), height=int(ex.figsize[1] * ex.dpi),
        progress=[done, total], live=mode() != "eager")
    widget.observe(lambda change: ex.on_index(change["new"]), names="index")
    widget.on_msg(lambda _w, content, _b: _on_message(ex, content))
    return widget


def _on_message(ex: Explorer, content: dict) -> None:
    """A view rendered ("ready": a front-end is attached, so start drawing) or went away
    ("gone": its output was cleared or the cell run again; stop warming a picture nobody sees)."""
    kind = content.get("type")
    if kind == "gone":
        ex.views = max(0, ex.views - 1)
    elif kind == "ready":
        ex.views += 1
        if mode() not in ("off", "eager") and not ex.not_done:
            _WORKER.add(ex)


# ---------------------------------------------------------------- when to compute
def mode() -> str:
    """"eager" (draw everything now), "off" (never compute), "live" (a widget front-end is
    attached: default now, the rest in the background) or "headless" (no front-end)."""
    env = os.environ.get(ENV, "").strip().lower()
    if env in ("eager", "off"):
        return env
    return "live" if frontend_attached() else "headless"


def frontend_attached() -> bool:
    """True when a Jupyter widget front-end (JupyterLab, Notebook 7, Voilà) has connected to this
    kernel: its widget manager opens the "jupyter.widget.control" comm when it connects, which
    nbclient (nbconvert, nbgrader, make check) never does."""
    try:
        from IPython import get_ipython
        from ipywidgets import Widget
    except ImportError:
        return False
    shell = get_ipython()
    return (shell is not None and getattr(shell, "kernel", None) is not None
            and Widget._control_comm is not None)


class _Worker:
    """One background thread for every explorer of the kernel: draws wanted settings first,
    then warms the others, pausing while a notebook cell runs (the learner's cell comes first,
    and matplotlib's global state is not shared with it)."""

    def __init__(self) -> None:
        self.explorers: list = []
        self.wake = threading.Condition()
        self.idle = threading.Event()
        self.idle.set()
        self.thread: threading.Thread | None = None
        self.fallback_due: dict[int, tuple[Explorer, float]] = {}

    def start(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return
        try:
            from IPython import get_ipython

            shell = get_ipython()
            if shell is not None and not getattr(shell, "_idnn_explorer_events", False):
                shell.events.register("pre_execute", self.idle.clear)
                shell.events.register("post_execute", self.idle.set)
                shell._idnn_explorer_events = True
        except ImportError:
            pass
        self.thread = threading.Thread(target=self.run, name="explorers", daemon=True)
        self.thread.start()

    def add(self, ex: Explorer) -> None:
        import weakref

        with self.wake:
            self.explorers = [r for r in self.explorers if r() is not None] + [weakref.ref(ex)]
        self.start()
        self.poke(ex)

    def poke(self, ex: Explorer) -> None:
        with self.wake:
            self.wake.notify_all()

    def fallback_soon(self, ex: Explorer) -> None:
        import time

        with self.wake:
            self.fallback_due[id(ex)] = (ex, time.monotonic() + 0.4)
            self.wake.notify_all()

    def next_job(self):
        """(explorer, index) to draw: a current setting missing anywhere first, then warming."""
        live = [ex for ex in (r() for r in self.explorers) if ex is not None and ex.views > 0]
        for ex in live:
            key = ex.key()
            if not ex.not_done and key not in ex.frames and key not in ex.errors:
                return ex, tuple(ex.index)
        for ex in live:
            todo = ex.todo()
            if todo:
                return ex, todo[0]
        return None

    def run(self) -> None:
        import time

        while True:
            self.idle.wait()
            with self.wake:
                now = time.monotonic()
                due = [ex for ex, t in self.fallback_due.values() if t <= now]
                for ex in due:
                    del self.fallback_due[id(ex)]
                job = self.next_job()
                if job is None and not due:
                    waits = [t - now for _, t in self.fallback_due.values()]
                    self.wake.wait(timeout=min(waits) if waits else None)
                    continue
            for ex in due:
                ex._update_fallback()
            if job is not None:
                ex, index = job
                ex.draw(index)


_WORKER = _Worker()


# ---------------------------------------------------------------- the one entry point
def explorer(controls: Mapping[str, Control], compute, plot: Callable, *,
             figsize: tuple[float, float] = (9, 3.6), dpi: int = 80, sweep: str | None = None,
             title: str = "", checked: Sequence[Callable] = (), display: bool = True
             ) -> Explorer:
    """Build an explorer and (``display=True``) show it.

    controls  {name: Control}; ``settings`` dicts map these names to values
    compute   ``fn(settings) -> result``, or ``{part: (fn, [control names])}`` (result:
              {part: value}; each part cached on its own controls)
    plot      ``plot(fig, result, settings) -> Figure`` draws one setting into a fresh Figure
    sweep     a part whose every computed value ``plot`` may draw (``result["sweep"]``)
    checked   the learner's exercises it runs: a note above the picture says when one did not
              pass its checks (helpers.checks), since the picture shows that code as it is

    Displayed in a kernel with a widget front-end: the default setting is drawn now, the rest in
    the background. With no front-end: nothing is computed. ``display=False`` (Python use and
    tests): the default setting is drawn now; ``ex.set(...)`` moves, ``ex.warm()`` draws all.
    """
    ex = Explorer(controls, compute, plot, figsize=figsize, dpi=dpi, sweep=sweep, title=title,
                  note=check_notes(checked))
    how = mode()
    if not display:
        if how != "off":
            ex.draw()
        return ex
    if how == "eager":
        ex.warm()
    elif how == "live":
        ex.draw()
    ex.display()
    if how == "live" and not ex.not_done:
        _WORKER.add(ex)
    return ex
