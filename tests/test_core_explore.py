"""helpers.explore: the explorer protocol (controls, a pure compute, a show), its cache and
frames, lazy computing, the "Not yet" message, the widget's traits and the export fallback."""

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from helpers import explore
from helpers.explore import checkbox, explorer, log_slider, slider
from helpers.plots import plot_costs
from helpers.training import History

matplotlib.use("Agg")
pytestmark = pytest.mark.xdist_group("core")
ROOT = Path(__file__).resolve().parent.parent


def show_curve(fig, result, settings):
    ax = fig.add_subplot()
    ax.plot(result, label="curve")
    ax.set(title=f"λ = {settings['lam']:g}", yscale="log" if settings["log"] else "linear")
    ax.legend()


def make(compute, **kw):
    controls = {"lam": log_slider("λ", -3, 1, 1, 0.01), "log": checkbox("log", False)}
    return explorer(controls, compute, show_curve, figsize=(4, 3), **{"display": False, **kw})


def test_controls_list_their_values_and_reject_others():
    lam = log_slider("λ", -3, 1, 1, 0.01)
    assert lam.values == pytest.approx([1e-3, 1e-2, 1e-1, 1, 10])
    assert [label for label, _ in lam.options] == ["0.001", "0.01", "0.1", "1", "10"]
    assert lam.position(0.1 + 1e-15) == 2
    assert checkbox("x").values == [False, True]
    with pytest.raises(ValueError, match="not a value of the control 'λ'"):
        lam.position(0.5)
    with pytest.raises(ValueError, match="not a value"):
        slider("β", [0.5, 0.9], 0.7)


def test_default_drawn_at_once_then_moves_compute_on_demand_and_cache():
    calls = []

    def compute(settings):
        calls.append(dict(settings))
        return np.linspace(1, 2, 10) * (1 + settings["lam"])

    ex = make(compute)
    assert len(calls) == 1 and calls[0] == {"lam": 0.01, "log": False}
    first = ex.png
    assert first[:4] == b"\x89PNG" and ex.message == ""
    ex.set(lam=10.0)
    assert ex.png != first and len(calls) == 2
    ex.set(lam=0.01)
    assert ex.png == first and len(calls) == 2, "a setting already drawn is not computed again"
    ex.warm()
    assert len(ex.frames) == 10 and len(calls) == 10
    with pytest.raises(KeyError, match="no control named 'beta'"):
        ex.set(beta=1)


def test_parts_are_cached_on_the_controls_they_depend_on():
    calls = {"slow": 0, "view": 0}

    def slow(settings):
        calls["slow"] += 1
        return np.arange(1, 6) * (1 + settings["lam"])

    def view(settings):
        calls["view"] += 1
        return settings["log"]

    def show(fig, result, settings):
        ax = fig.add_subplot()
        ax.plot(result["slow"])
        ax.set_yscale("log" if result["view"] else "linear")

    controls = {"lam": log_slider("λ", -3, 1, 1, 0.01), "log": checkbox("log", False)}
    ex = explorer(controls, {"slow": (slow, ["lam"]), "view": (view, ["log"])}, show,
                  figsize=(3, 2), display=False)
    ex.warm()
    assert calls == {"slow": 5, "view": 2} and len(ex.frames) == 10
    with pytest.raises(ValueError, match="not controls"):
        explorer(controls, {"slow": (slow, ["nope"])}, show, display=False)


def test_warming_goes_nearest_first():
    controls = {"a": slider("a", list(range(6)), 3), "b": slider("b", list(range(3)), 0)}
    ex = explorer(controls, lambda s: s, lambda fig, r, s: fig.add_subplot(), display=False)
    order = ex.all_indices()
    assert order[0] == (3, 0)
    assert set(order[1:4]) == {(2, 0), (4, 0), (3, 1)}
    assert [sum(abs(x - y) for x, y in zip(ix, (3, 0))) for ix in order] == sorted(
        sum(abs(x - y) for x, y in zip(ix, (3, 0))) for ix in order)


def test_a_sweep_part_is_shown_whole_and_early_frames_are_drawn_again():
    seen = []

    def show(fig, result, settings):
        seen.append((settings["lam"], len(result["sweep"])))
        fig.add_subplot().plot(sorted(v for v in result["sweep"].values()))

    controls = {"lam": slider("λ", [0.0, 1.0, 2.0], 1.0)}
    ex = explorer(controls, {"run": (lambda s: s["lam"] ** 2, ["lam"])}, show, sweep="run",
                  figsize=(3, 2), display=False)
    assert seen == [(1.0, 1)] and ex.provisional == {"1"}
    ex.warm()
    assert not ex.provisional and len(ex.frames) == 3
    last = {lam: n for lam, n in seen}
    assert last == {0.0: 3, 1.0: 3, 2.0: 3}, "frames drawn early are drawn again, whole"


def test_unfinished_exercise_shows_a_friendly_message_and_no_picture():
    def compute_cost_with_regularization(settings):
        raise NotImplementedError()

    ex = make(compute_cost_with_regularization)
    assert "compute_cost_with_regularization" in ex.message
    assert "Not yet" in ex.message and "Traceback" not in ex.message
    assert ex.png is None and ex.todo() == []


def test_a_failing_setting_is_reported_not_raised_and_the_others_still_draw():
    def compute(settings):
        if settings["lam"] > 1:
            raise ValueError("shapes (3,2) and (3,2) not aligned")
        return np.arange(1, 4) * (1 + settings["lam"])

    ex = make(compute)
    assert ex.message == "" and ex.png
    assert ex.set(lam=10.0) is None
    assert "ValueError" in ex.message and "not aligned" in ex.message and "compute" in ex.message
    ex.warm()
    assert len(ex.frames) == 8 and set(ex.errors) == {"4,0", "4,1"}
    ex.set(lam=1.0)
    assert ex.message == "" and ex.png


def test_no_front_end_computes_nothing(monkeypatch):
    calls = []
    monkeypatch.delenv(explore.ENV, raising=False)
    assert explore.mode() == "headless"  # pytest: no kernel, no widget front-end
    ex = explorer({"lam": log_slider("λ", -3, 1, 1, 0.01)}, lambda s: calls.append(s),
                  lambda fig, r, s: None, display=True)
    assert calls == [] and ex.frames == {}
    data, meta = ex._fallback_bundle()
    assert "runs in JupyterLab" in data["text/html"] and "idnn_explorer_fallback" in meta


def test_a_page_that_shows_the_explorer_starts_the_background_drawing(monkeypatch):
    import time

    monkeypatch.delenv(explore.ENV, raising=False)
    ex = make(lambda s: np.arange(1, 4) * (1 + s["lam"]), display=True)
    assert ex.frames == {} and ex.widget.progress == [0, 10]
    sent = []
    monkeypatch.setattr(ex.widget, "send", lambda content, buffers=None: sent.append(content))
    ex.widget._handle_custom_msg({"type": "ready"}, [])  # what explorer.js sends on render
    deadline = time.monotonic() + 120  # generous: a loaded machine
    while ex.widget.progress != [10, 10] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ex.widget.progress == [10, 10] and set(ex.widget.frames) == set(ex.frames)
    assert sent[0] == {"type": "frame", "key": "1,0"}, "the current setting is drawn first"
    assert len(sent) == 10


def test_eager_switch_draws_every_frame_into_the_widget(monkeypatch):
    monkeypatch.setenv(explore.ENV, "eager")
    ex = make(lambda s: np.arange(1, 4) * (1 + s["lam"]), display=True)
    w = ex.widget
    assert len(ex.frames) == 10 and set(w.frames) == set(ex.frames)
    assert w.frames["2,1"][:4] == b"\x89PNG" and w.live is False
    assert w.controls == [
        {"name": "lam", "label": "λ", "kind": "slider",
         "options": ["0.001", "0.01", "0.1", "1", "10"]},
        {"name": "log", "label": "log", "kind": "checkbox", "options": ["off", "on"]}]
    assert w.index == [1, 0] and w.progress == [10, 10] and w.width == 320
    # the page moved the slider: the kernel follows (for the export's picture)
    w.index = [4, 1]
    assert ex.settings == {"lam": 10.0, "log": True}
    data, _ = ex._fallback_bundle()
    assert "data:image/png;base64," in data["text/html"] and "λ = 10" in data["text/plain"]
    monkeypatch.setenv(explore.ENV, "off")
    ex = make(lambda s: 1 / 0, display=True)
    assert ex.frames == {} and ex.message == ""


def test_the_page_script_uses_only_the_model_api():
    js = (ROOT / "helpers" / "explorer.js").read_text()
    used = set(re.findall(r"model\.(\w+)\(", js))
    assert used <= {"get", "set", "on", "save_changes", "send"}, used
    assert "import " not in js and "http" not in js, "the widget loads nothing from elsewhere"
    assert "export default { render }" in js


def test_diverged_run_is_labelled_not_plotted_as_nan():
    h = History(costs=[0.7, 0.5, 3.0], steps=[0, 1, 2], status="diverged")
    ax = plot_costs({"α = 10": h, "α = 0.1": [0.7, 0.6, 0.5]})
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["α = 10 (diverged)", "α = 0.1"]


def _run_in_kernel(source: str, monkeypatch, **env) -> list:
    """Execute ``source`` as one notebook cell in a real kernel (nbclient, no front-end);
    returns that cell's outputs, then a second cell's ``print(len(calls))``."""
    import os
    import sys

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source), nbformat.v4.new_code_cell("print(len(calls))")]
    # the kernel spec runs "python" from PATH: this environment's, so it imports this checkout
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    NotebookClient(nb, timeout=120, kernel_name="python3").execute(
        env={**os.environ, **env}, cwd=str(ROOT))
    return nb.cells


TINY = """
import numpy as np
from helpers.explore import explorer, slider
calls = []
def compute(settings):
    calls.append(settings)
    return np.arange(5) * settings["a"]
def show(fig, result, settings):
    fig.add_subplot().plot(result)
ex = explorer({"a": slider("a", [1, 2, 3], 2)}, compute, show, figsize=(3, 2), title="tiny")
"""


@pytest.mark.slow
def test_in_a_kernel_without_front_end_nothing_is_computed(monkeypatch):
    cells = _run_in_kernel(TINY, monkeypatch, HELPERS_EXPLORERS="")
    outputs = cells[0].outputs
    kinds = [list(o.get("data", {})) for o in outputs]
    assert "application/vnd.jupyter.widget-view+json" in kinds[0]
    fallback = outputs[1]
    assert "idnn_explorer_fallback" in fallback.metadata
    assert "runs in JupyterLab" in fallback.data["text/html"]
    assert cells[1].outputs[0].text.strip() == "0", "no setting computed without a front-end"


@pytest.mark.slow
def test_an_exported_notebook_keeps_the_current_picture(monkeypatch):
    cells = _run_in_kernel(TINY, monkeypatch, HELPERS_EXPLORERS="eager")
    fallback = cells[0].outputs[1]
    assert "<img src='data:image/png;base64," in fallback.data["text/html"]
    assert fallback.data["text/plain"] == "<tiny: a = 2>"
    assert cells[1].outputs[0].text.strip() == "3", "eager: every setting computed"


def test_a_sweep_with_a_failing_setting_still_completes():
    def run(settings):
        if settings["lam"] == 2.0:
            raise FloatingPointError("overflow in the learner's cost")
        return settings["lam"]

    controls = {"lam": slider("λ", [0.0, 1.0, 2.0], 1.0)}
    ex = explorer(controls, {"run": (run, ["lam"])},
                  lambda fig, r, s: fig.add_subplot().plot(list(r["sweep"].values())),
                  sweep="run", figsize=(3, 2), display=False)
    ex.warm()
    assert set(ex.frames) == {"0", "1"} and set(ex.errors) == {"2"} and not ex.provisional


def test_explorer_cells_leave_the_check_warning_to_the_explorer():
    """An explorer notes above its picture when an exercise it runs failed its checks
    (``checked=``); a cell that also called needs() would print the same warning a second time.
    So no notebook cell that makes an explorer calls needs()."""
    import ast

    import nbformat

    doubled = []
    for path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code" or "explore_" not in cell.source:
                continue
            calls = {n.func.id for n in ast.walk(ast.parse(cell.source))
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            if "needs" in calls and any(c.startswith("explore_") for c in calls):
                doubled.append(f"{path.name} cell {cell.get('id')}")
    assert not doubled, f"explorer cells that also call needs(): {doubled}"


def test_the_explorer_notes_a_failed_check_once(monkeypatch):
    """The note the explorer shows is helpers.checks' warning for each function it runs."""
    from helpers import checks

    def cost(settings):
        return np.ones(3)

    monkeypatch.setattr(checks, "status", lambda name, fn=None: "failed")
    ex = make(cost, checked=[cost, cost])
    assert ex.note == checks.warning(cost) and ex.note.count("Careful") == 1
