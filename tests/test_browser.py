"""The course as a learner sees it: JupyterLab in a real (headless) chromium.

For every source notebook (solved) and a small fixture notebook of our own: open it in
JupyterLab, Run All, and fail on any error a learner would see (error outputs, tracebacks on
stderr, a widget that fails to render, errors raised in widget callbacks, a widget shown twice,
a "Not yet" message in a solved notebook). Then move every slider of every explorer with the
keyboard and by dragging, toggle its checkboxes, dropdowns and buttons, and check each time that
the figure really changed (a new, different, non-blank image) and that no error appeared (an
explorer whose picture could not be drawn shows a message instead: that is a failure too).
A fixture with planted faults shows that each of these checks does catch its fault.

It is ONE test (one JupyterLab server, one chromium page, each notebook run once) reporting
each notebook's run and explorers as separate subtests, so it can never be split across xdist
workers. Select notebooks with BROWSER_NOTEBOOKS="02 05" (prefixes); BROWSER_TEST_DEBUG=1
prints each step. Without Debian's chromium (or playwright) it is skipped with the reason.
The machinery is in tests/browser/lab.py; bench/slider_latency.py times the sliders.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from browser.lab import (
    Chromium,
    LabNotebook,
    LabServer,
    exercise_explorer,
    serious,
    skip_reason,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "browser" / "fixture_explorers.ipynb"
FAULTS = HERE / "browser" / "fixture_faults.ipynb"
NOTEBOOKS = sorted((HERE.parent / "notebooks").glob("*.ipynb"))
RUN_TIMEOUT = 600  # seconds for one notebook's Run All (the target is far lower)
STEP_TIMEOUT = 120  # seconds for one control change to show a new figure


def _selected() -> list[Path]:
    wanted = os.environ.get("BROWSER_NOTEBOOKS", "").split()
    cases = [FIXTURE, *NOTEBOOKS]
    if not wanted:
        return cases
    return [p for p in cases if any(p.stem.startswith(w) for w in wanted)]


def _report(problems) -> str:
    return "\n\n".join(str(p) for p in problems)


def check_planted_faults(nb: LabNotebook) -> None:
    """The checks are not vacuous: a notebook with planted faults fails each of them."""
    nb.open()
    state = nb.run_all(timeout=RUN_TIMEOUT)
    assert state["failed"] and state["pending"] == 1, state
    problems = serious(nb.problems())
    kinds = {p.kind: p for p in problems}
    assert "planted error" in kinds["error"].text, problems
    assert 'raise RuntimeError("planted error")' in str(kinds["error"])
    assert kinds["shown twice"].cell == 3, problems
    assert kinds["widget"].cell == 4 and "failed to render" in kinds["widget"].text, problems
    assert not any("only a warning" in p.text for p in problems), "a warning is not an error"
    explorers = nb.explorers()
    assert [e.name for e in explorers] == ["slope", "explorer", "explorer_2"], explorers
    failures, _ = exercise_explorer(nb, 0, timeout=60)
    assert len(failures) == 1, failures
    assert failures[0].startswith("checkbox 'broken', click 1: the explorer shows the message")
    assert "planted callback failure" in failures[0], failures


def check_run_all(nb: LabNotebook) -> dict:
    nb.open()
    state = nb.run_all(timeout=RUN_TIMEOUT)
    print(f"{nb.name}: Run All took {state['wall']:.1f} s in the browser")
    everything = nb.problems()
    problems = serious(everything)
    for p in everything:
        if p not in problems:
            print(f"warning shown to the learner: {p}")
    assert not problems, (
        f"{nb.name}: Run All in JupyterLab shows {len(problems)} error(s):\n\n"
        + _report(problems))
    assert state["pending"] == 0, f"{nb.name}: {state['pending']} cells did not run"
    assert not nb.console, f"{nb.name}: page errors: {nb.console}"
    return state


def check_explorers(nb: LabNotebook) -> None:
    explorers = nb.explorers()
    if nb.name == FIXTURE.name:
        assert [e.name for e in explorers] == ["decay", "wave"], explorers
    if not explorers:
        pytest.skip(f"{nb.name} shows no slider explorer")
    before = {str(p) for p in nb.problems()}
    report = []
    for ex in explorers:
        t = time.perf_counter()
        failures, notes = exercise_explorer(nb, ex.index, timeout=STEP_TIMEOUT)
        print(f"{nb.name}: explorer {ex.name!r} ({ex.counts}) driven in "
              f"{time.perf_counter() - t:.1f} s")
        report += [f"explorer {ex.name!r} (cell {ex.cell}): {f}" for f in failures]
        for note in notes:
            print(f"note: explorer {ex.name!r}: {note}")
    new = [p for p in serious(nb.problems()) if str(p) not in before]
    assert not report and not new, (
        f"{nb.name}: moving the explorers' controls went wrong:\n"
        + "\n".join(report) + ("\n\nerrors that appeared:\n" + _report(new) if new else ""))
    assert not nb.console, f"{nb.name}: page errors: {nb.console}"


def test_course_in_the_browser(subtests):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    cases = _selected()
    with LabServer([FAULTS, *cases]) as server, Chromium() as chromium:
        page = None
        for path in [FAULTS, *cases]:
            nb = LabNotebook(server, chromium, path.name, page=page)
            page = nb.page
            try:
                if path == FAULTS:
                    with subtests.test(msg="planted faults are caught"):
                        check_planted_faults(nb)
                    continue
                ran = False
                with subtests.test(msg=f"{path.stem}: Run All without errors"):
                    check_run_all(nb)
                    ran = True
                with subtests.test(msg=f"{path.stem}: explorers respond to every control"):
                    if not ran and not nb.explorers():
                        pytest.skip("the notebook did not run")
                    check_explorers(nb)
            finally:
                nb.close(keep_page=True)
