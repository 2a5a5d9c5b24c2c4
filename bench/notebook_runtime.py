"""How long each source notebook takes to run, as a learner runs it and as a grader does.

* **Run All in the browser** (the target: at most 12 s per notebook on the course's 2-core
  machine): JupyterLab on 127.0.0.1 and headless Debian chromium, as in tests/test_browser.py;
  the time from Run All to every cell executed and the kernel idle. Explorers draw their default
  setting at once and fill in the rest in the background, so the background work is not counted,
  but it does compete for the same cores while the later cells run.
* **nbclient** (``--nbclient``): the notebook run top to bottom in a fresh kernel with no
  front-end attached, as ``make check`` and autograde run it: explorers compute nothing there.

Printed, never asserted (a busy neighbour on a shared machine can double the figures).

    .venv/bin/python bench/notebook_runtime.py [prefix ...] [--nbclient] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser.lab import Chromium, LabNotebook, LabServer, serious, skip_reason  # noqa: E402

TARGET_S = 12.0  # Run All in the browser, every notebook (issue 19)


def run_nbclient(path: Path) -> float:
    """Seconds to run the notebook with nbclient (no widget front-end)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, HELPERS_PROGRESS="0",
               MPLBACKEND="module://matplotlib_inline.backend_inline",
               TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
    env.pop("HELPERS_EXPLORERS", None)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - t0


def run_in_browser(paths: list[Path]) -> dict[str, tuple[float, int]]:
    """{notebook: (Run All seconds, errors shown)} for each notebook, one JupyterLab, one page."""
    out: dict[str, tuple[float, int]] = {}
    with LabServer(paths) as server, Chromium() as chromium:
        page = None
        for path in paths:
            nb = LabNotebook(server, chromium, path.name, page=page)
            page = nb.page
            try:
                nb.open()
                state = nb.run_all(timeout=600)
                out[path.name] = (state["wall"], len(serious(nb.problems())))
            finally:
                nb.close(keep_page=True)
            print(f"  {path.name}: Run All {out[path.name][0]:.1f} s", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("prefixes", nargs="*", help="notebook file-name prefixes (default: all)")
    ap.add_argument("--nbclient", action="store_true", help="also time a run with no front-end")
    ap.add_argument("--no-browser", action="store_true", help="skip the browser's Run All")
    args = ap.parse_args(argv)
    paths = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if args.prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in args.prefixes)]
    browser: dict[str, tuple[float, int]] = {}
    if not args.no_browser:
        reason = skip_reason()
        if reason:
            print(f"browser Run All skipped: {reason}")
        else:
            browser = run_in_browser(paths)
    print(f"{'notebook':40s} {'Run All (s)':>11s} {'target':>7s} {'met':>4s} {'errors':>6s}"
          + (f" {'nbclient (s)':>12s}" if args.nbclient else ""))
    for p in paths:
        wall, errors = browser.get(p.name, (float("nan"), 0))
        met = "-" if p.name not in browser else ("yes" if wall <= TARGET_S else "no")
        row = f"{p.name:40s} {wall:11.1f} {TARGET_S:7.0f} {met:>4s} {errors:6d}"
        if args.nbclient:
            row += f" {run_nbclient(p):12.1f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
