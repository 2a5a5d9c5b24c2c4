"""A JupyterLab server on 127.0.0.1 and a headless Debian chromium driven by playwright.

Shared by tests/test_browser.py and bench/slider_latency.py:

* ``LabServer(notebooks)`` copies the notebooks into a temporary root and serves them (random
  free port, a token, isolated config/settings/workspaces; HELPERS_PROGRESS and MPLBACKEND unset
  so the kernel behaves as a learner's would). ``stop()`` shuts it down and removes the root.
* ``Chromium()`` launches /usr/bin/chromium (never a downloaded browser) with a fresh profile.
* ``LabNotebook`` opens one notebook, runs all cells, collects every error the learner could
  see, finds the slider explorers and drives their controls with the keyboard and the mouse.

Every wait is on a real condition (the kernel idle, every cell executed, the image's ``src``
changed and decoded), never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# JupyterLab settings for a quiet, deterministic page: no news/update toasts, every cell in the
# DOM (no windowing), no autosave races.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none", "recordTiming": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def chromium_path() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "python playwright is not installed in this environment"
    if chromium_path() is None:
        return ("Debian's chromium is not installed (/usr/bin/chromium missing); "
                "`make browser-deps` installs it with apt")
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """JupyterLab serving copies of ``notebooks`` from a temporary root directory."""

    def __init__(self, notebooks, python: str = sys.executable, startup_timeout: float = 90):
        self.sources = [Path(p) for p in notebooks]
        self.python = python
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> LabServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def add(self, notebook) -> str:
        """Copy one more notebook into the served root; its name there."""
        src = Path(notebook)
        shutil.copy(src, self.root / src.name)
        return src.name

    def start(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            try:
                return self._start()
            except RuntimeError as exc:  # e.g. the free port was taken in between: retry
                if attempt == attempts - 1 or "already in use" not in str(exc):
                    raise

    def _start(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="browser-lab-"))
        self.root = self.tmp / "root"
        self.root.mkdir()
        for src in self.sources:
            self.add(src)
        settings = self.tmp / "settings"
        for rel, value in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        self.port = _free_port()
        self.token = os.urandom(16).hex()
        env = {k: v for k, v in os.environ.items()
               if k not in ("HELPERS_PROGRESS", "MPLBACKEND") and not k.startswith("PYTEST_")}
        env.update(JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
                   JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"),
                   JUPYTER_DATA_DIR=str(self.tmp / "data"),
                   IPYTHONDIR=str(self.tmp / "ipython"),
                   TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "3"),
                   # the kernel spec runs "python" from PATH: make it this environment's, so the
                   # kernel imports this checkout's helpers (not another venv's)
                   PATH=os.pathsep.join([str(Path(self.python).parent), env.get("PATH", "")]))
        cmd = [self.python, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root}",
               "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={self.tmp / 'workspaces'}",
               "--LabApp.check_for_updates_class="
               "jupyterlab.handlers.announcements.NeverCheckForUpdate",
               "--ServerApp.terminals_enabled=False"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI containers run as root
        self.log_path = self.tmp / "server.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.proc.poll() is not None:
                log, code = self.log(), self.proc.returncode
                self.stop()
                raise RuntimeError(f"JupyterLab exited with {code}:\n{log}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}",
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"JupyterLab did not answer within {self.startup_timeout} s")
            time.sleep(0.2)  # polling interval of the readiness check, not a wait for time

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, name: str, workspace: str) -> str:
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}"

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # the server shuts its kernels down on SIGTERM
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, ignore_errors=True)


class Chromium:
    """Headless Debian chromium with a fresh profile (playwright's launch makes a new one)."""

    def __enter__(self) -> Chromium:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=chromium_path(),
                                                args=CHROMIUM_ARGS, headless=True)

    def new_page(self):
        context = self.browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        return context.new_page()

    def stop(self) -> None:
        if getattr(self, "browser", None) is not None:
            self.browser.close()
            self.browser = None
        if getattr(self, "_pw", None) is not None:
            self._pw.stop()
            self._pw = None


# --------------------------------------------------------------------------------------------
# In-page JavaScript (window.jupyterapp is exposed by --LabApp.expose_app_in_browser).

JS_READY = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.context || !panel.context.isReady || !panel.sessionContext) return false;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle' || kernel.connectionStatus !== 'connected') return false;
  if (panel.content.widgets.length === 0) return false;
  // Record every IOPub message a learner could see: cell outputs and widget-callback outputs
  // (those go to the log console, not to a cell).
  if (!window.__iopub || window.__iopubKernel !== kernel.id) {
    window.__iopub = [];
    window.__iopubKernel = kernel.id;
    kernel.iopubMessage.connect((_, msg) => {
      const t = msg.header.msg_type;
      if (t === 'error' || (t === 'stream' && msg.content.name === 'stderr')) {
        window.__iopub.push({type: t, parent: msg.parent_header && msg.parent_header.msg_type,
                             text: t === 'error' ? msg.content.traceback.join('\\n')
                                                 : msg.content.text});
      }
    });
  }
  return true;
}"""

JS_RUN_ALL = """() => {
  window.__runAllStart = performance.now();
  window.jupyterapp.commands.execute('notebook:run-all-cells');
}"""

# Done when every code cell has an execution count and the kernel is idle, or when a cell
# failed (JupyterLab then drops the rest of the queue).
JS_RUN_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  let pending = 0, failed = false;
  for (const c of cells) {
    const prompt = c.node.querySelector('.jp-InputPrompt');
    const running = prompt && prompt.textContent.includes('*');
    if (c.model.executionCount === null || running) pending += 1;
    for (let i = 0; i < c.model.outputs.length; i++) {
      if (c.model.outputs.get(i).type === 'error') failed = true;
    }
  }
  const idle = kernel.status === 'idle';
  if ((pending === 0 || failed) && idle) {
    return {done: true, failed, pending, seconds: (performance.now() - window.__runAllStart) / 1000};
  }
  return false;
}"""

# The open notebook's code cells, each as [cell widget, its index among all cells]: a JS expression.
JS_CODE_CELLS = ("window.jupyterapp.shell.currentWidget.content.widgets"
                 ".map((c, index) => [c, index]).filter(([c]) => c.model.type === 'code')")

JS_ERRORS = """() => {
  const errs = [];
  for (const [c, index] of CODE_CELLS) {
    const source = c.model.sharedModel.getSource();
    const views = new Set();
    for (let i = 0; i < c.model.outputs.length; i++) {
      const o = c.model.outputs.get(i).toJSON();
      const view = o.data && o.data['application/vnd.jupyter.widget-view+json'];
      if (view) {
        if (views.has(view.model_id)) {
          errs.push({cell: index, source, kind: 'shown twice',
                     text: 'the same widget is displayed twice in the output of this cell (is the ' +
                           'last line an explorer call that already displayed itself? end it ' +
                           'with ";" or assign the result)'});
        }
        views.add(view.model_id);
      }
      if (o.output_type === 'error') {
        errs.push({cell: index, source, kind: 'error',
                   text: o.ename + ': ' + o.evalue + '\\n' + (o.traceback || []).join('\\n')});
      } else if (o.output_type === 'stream' && o.name === 'stderr') {
        const text = Array.isArray(o.text) ? o.text.join('') : o.text;
        errs.push({cell: index, source, kind: 'stderr', text});
      }
    }
    if (c.node.textContent.includes('Error displaying widget')) {
      errs.push({cell: index, source, kind: 'widget', text: 'Error displaying widget'});
    }
    c.node.querySelectorAll('.jupyter-widgets-error-widget').forEach(e => {
      errs.push({cell: index, source, kind: 'widget',
                 text: 'a widget failed to render (ipywidgets shows its error icon: ' +
                       (e.title || e.textContent || '').trim().slice(0, 300) + ')'});
    });
    c.node.querySelectorAll('.idnn-message').forEach(h => {
      if (h.textContent.includes('Not yet:')) {
        errs.push({cell: index, source, kind: 'not-done', text: h.textContent.trim()});
      }
    });
  }
  for (const m of (window.__iopub || [])) {
    if (m.parent !== 'execute_request') {
      errs.push({cell: -1, source: '', kind: 'callback ' + m.type, text: m.text});
    }
  }
  return errs;
}""".replace("CODE_CELLS", JS_CODE_CELLS)

# An explorer (helpers.explore + helpers/explorer.js) is a div.idnn-explorer holding its controls
# (.idnn-controls > .idnn-control), a message (.idnn-message) and its picture (img.idnn-frame).
JS_FIND_EXPLORERS = """() => {
  const found = [];
  for (const [c, index] of CODE_CELLS) {
    c.node.querySelectorAll('.idnn-explorer').forEach(box => {
      const controls = box.querySelector(':scope > .idnn-controls');
      if (!box.querySelector(':scope img.idnn-frame') || !controls) return;
      const k = found.length;
      box.setAttribute('data-explorer', String(k));
      found.push({index: k, cell: index, source: c.model.sharedModel.getSource(),
                  sliders: controls.querySelectorAll('.idnn-slider').length,
                  checkboxes: controls.querySelectorAll('.idnn-checkbox').length,
                  dropdowns: controls.querySelectorAll('.idnn-dropdown').length,
                  toggles: controls.querySelectorAll('.idnn-toggle').length,
                  radios: 0});
    });
  }
  return found;
}""".replace("CODE_CELLS", JS_CODE_CELLS)

# Resolves with the milliseconds from the next keydown/pointerdown to the frame in which the
# explorer's image shows its new src (decoded). Armed before the input is sent.
JS_ARM_LATENCY = """(k) => {
  const box = document.querySelector(`[data-explorer="${k}"]`);
  const img = box.querySelector(':scope img.idnn-frame');
  window.__t0 = null;
  const start = (e) => { if (window.__t0 === null) window.__t0 = performance.now(); };
  document.addEventListener('keydown', start, {capture: true, once: true});
  window.__latency = new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      obs.disconnect();
      const t = window.__t0, tsrc = performance.now();
      img.decode().catch(() => null).then(() => requestAnimationFrame(() => {
        const now = performance.now();
        resolve({ms: now - t, src_ms: tsrc - t, paint_ms: now - tsrc, src: img.src});
      }));
    });
    obs.observe(img, {attributes: true, attributeFilter: ['src']});
  });
}"""

# Settled = no widget model has a message in flight or buffered (ipywidgets sends one update
# per model at a time and buffers the latest value until the kernel is idle again, e.g. during
# a drag), then an empty silent execution: its future is done once its reply AND its IOPub
# "idle" status have been handled, and IOPub is one ordered stream, so every widget update the
# kernel sent before (images included) has been applied by then.
JS_KERNEL_SYNC = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  // every widget model shown in the notebook, reached through its views
  const models = new Set();
  const walk = (w) => {
    if (!w) return;
    if (w._view && w._view.model) models.add(w._view.model);
    for (const child of w.widgets || []) walk(child);
  };
  for (const cell of panel.content.widgets) if (cell.outputArea) walk(cell.outputArea);
  const busy = () =>
    Array.from(models).some(m => m._pending_msgs > 0 || m._msg_buffer);
  for (;;) {
    while (busy()) await new Promise(r => setTimeout(r, 10));
    const future = kernel.requestExecute({code: '', silent: true, store_history: false});
    await future.done;
    if (!busy()) return {status: kernel.status, models: models.size};
  }
}"""


def debug(msg: str) -> None:
    """Progress lines on stderr when BROWSER_TEST_DEBUG is set (to see where a run waits)."""
    if os.environ.get("BROWSER_TEST_DEBUG"):
        print(f"[browser {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _short(text: str, n: int = 1500) -> str:
    text = ANSI.sub("", text or "")
    return text if len(text) <= n else text[: n // 2] + "\n[...]\n" + text[-n // 2:]


@dataclass
class Problem:
    cell: int
    kind: str
    text: str
    source: str = ""

    def __str__(self) -> str:
        where = f"cell {self.cell}" if self.cell >= 0 else "a widget callback"
        src = "\n  cell source:\n    " + _short(self.source, 600).replace("\n", "\n    ") \
            if self.source else ""
        return f"[{self.kind}] in {where}:{src}\n  output:\n    " + \
            _short(self.text).replace("\n", "\n    ")


def serious(problems: list[Problem]) -> list[Problem]:
    """Errors, tracebacks, widget failures, "Not yet" in a solved notebook; stderr that is only
    a warning is not serious (it is reported separately)."""
    out = []
    for p in problems:
        if p.kind == "stderr" or p.kind == "callback stream":
            if "Traceback" in p.text or "Error" in p.text:
                out.append(p)
        else:
            out.append(p)
    return out


EXPLORER_CALL = re.compile(r"^[ \t]*(?:([A-Za-z_]\w*)\s*=\s*)?([A-Za-z_][\w.]*)\s*\(", re.M)


def explorer_name(source: str, k_in_cell: int) -> str:
    """A file-name-friendly name for the k-th explorer of a cell, from the function it calls
    (``explore_lambda(...)`` -> ``lambda``; ``decay = explorer(...)`` -> ``decay``)."""
    names = []
    for m in EXPLORER_CALL.finditer(source):
        target, func = m.group(1), m.group(2).split(".")[-1]
        if func == "explorer" and target:
            names.append(target)
        elif "explor" in func.lower():
            names.append(func)
    if not names:
        return "explorer" if k_in_cell == 0 else f"explorer_{k_in_cell + 1}"
    name = names[min(k_in_cell, len(names) - 1)]
    name = re.sub(r"^(explorer|explore)_?", "", name) or "explorer"
    if k_in_cell >= len(names):
        name += f"_{k_in_cell + 1}"
    return re.sub(r"\W+", "_", name).strip("_") or "explorer"


@dataclass
class ExplorerInfo:
    index: int
    cell: int
    source: str
    name: str
    counts: dict = field(default_factory=dict)


class LabNotebook:
    """One notebook open in JupyterLab. Give ``page`` (a page where JupyterLab already runs, e.g.
    the previous notebook's, closed with keep_page=True) to open it there without reloading
    JupyterLab; otherwise it gets a new page in its own browser context and workspace."""

    def __init__(self, server: LabServer, browser: Chromium, name: str, page=None):
        self.server, self.name = server, name
        self.reuse = page is not None
        self.page = page if page is not None else browser.new_page()
        self.page.set_default_timeout(60_000)
        self.console: list[str] = []
        self._on_error = lambda e: self.console.append(f"page error: {e}")
        self.page.on("pageerror", self._on_error)

    # -- opening and running ----------------------------------------------------------------
    def open(self, timeout: float = 120) -> None:
        debug(f"{self.name}: opening")
        if self.reuse:
            self.page.evaluate(
                "(path) => { window.__iopub = null; window.jupyterapp.commands.execute("
                "'docmanager:open', {path, factory: 'Notebook'}); }", self.name)
        else:
            workspace = re.sub(r"\W", "", Path(self.name).stem) or "nb"
            self.page.goto(self.server.notebook_url(self.name, workspace))
        self.page.wait_for_function(
            f"() => {{ const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            f" return !!p && !!p.context && p.context.path === {json.dumps(self.name)}"
            f" && ({JS_READY})(); }}", timeout=timeout * 1000, polling=200)

    def run_all(self, timeout: float = 600) -> dict:
        """Run All; wait until every cell ran (or one failed) and the kernel is idle."""
        t0 = time.perf_counter()
        debug(f"{self.name}: Run All")
        self.page.evaluate(JS_RUN_ALL)
        handle = self.page.wait_for_function(JS_RUN_STATE, timeout=timeout * 1000, polling=250)
        state = handle.json_value()
        state["wall"] = time.perf_counter() - t0
        # Widgets finish rendering after the kernel went idle: wait until each displayed
        # explorer image (if any) has loaded.
        self.page.wait_for_function(
            "() => Array.from(document.querySelectorAll('img.idnn-frame'))"
            ".every(i => i.complete)", timeout=60_000, polling=200)
        return state

    def problems(self) -> list[Problem]:
        return [Problem(e["cell"], e["kind"], e["text"], e["source"])
                for e in self.page.evaluate(JS_ERRORS)]

    def sync(self) -> None:
        """Return once the kernel has handled every message sent so far and the browser has
        applied the resulting widget updates (images decoded)."""
        state = self.page.evaluate(JS_KERNEL_SYNC)
        if not state["models"] and self.page.locator("img.idnn-frame").count():
            raise RuntimeError("could not reach the notebook's widget models to wait on them")
        self.page.wait_for_function(
            "() => Array.from(document.querySelectorAll('img.idnn-frame'))"
            ".every(i => i.complete)", polling="raf")

    # -- explorers ----------------------------------------------------------------------------
    def explorers(self) -> list[ExplorerInfo]:
        found = self.page.evaluate(JS_FIND_EXPLORERS)
        per_cell: dict[int, int] = {}
        out, used = [], set()
        for f in found:
            k = per_cell.get(f["cell"], 0)
            per_cell[f["cell"]] = k + 1
            name = explorer_name(f["source"], k)
            base, n = name, 2
            while name in used:
                name, n = f"{base}_{n}", n + 1
            used.add(name)
            counts = {key: f[key] for key in ("sliders", "checkboxes", "dropdowns", "toggles",
                                              "radios")}
            out.append(ExplorerInfo(f["index"], f["cell"], f["source"], name, counts))
        return out

    def box(self, k: int):
        return self.page.locator(f'[data-explorer="{k}"]')

    def image(self, k: int):
        return self.box(k).locator(":scope img.idnn-frame")

    def controls(self, k: int):
        return self.box(k).locator(":scope > .idnn-controls").first

    def src(self, k: int) -> str:
        return self.image(k).get_attribute("src") or ""

    def image_png(self, k: int) -> bytes:
        return self.image(k).screenshot(animations="disabled")

    def callback_errors(self) -> int:
        """How many errors/stderr messages widget callbacks have produced so far."""
        return self.page.evaluate(
            "() => (window.__iopub || []).filter(m => m.parent !== 'execute_request').length")

    def state(self, k: int) -> str:
        """"shown", "waiting" (computing…), "failed" (this setting) or "not-done"."""
        return self.box(k).get_attribute("data-state") or ""

    def wait_first_picture(self, k: int, timeout: float = 120) -> None:
        """Wait until explorer ``k`` shows a picture or a message (not "computing…")."""
        self.page.wait_for_function(
            """(k) => { const box = document.querySelector(`[data-explorer="${k}"]`);
                        return !!box && ['shown', 'failed', 'not-done'].includes(box.dataset.state); }""",
            arg=k, timeout=timeout * 1000, polling=100)

    def wait_new_src(self, k: int, old: str, timeout: float = 120,
                     errors_before: int | None = None) -> str:
        """Wait until explorer ``k`` shows a picture other than ``old`` (decoded): "image"; or
        a message instead of a picture: "message"; or until a widget callback reported an
        error: "error"."""
        handle = self.page.wait_for_function(
            """([k, old, n0]) => {
                 const box = document.querySelector(`[data-explorer="${k}"]`);
                 const img = box && box.querySelector('img.idnn-frame');
                 const state = box && box.dataset.state;
                 if (state === 'failed' || state === 'not-done') return 'message';
                 if (img && state === 'shown' && img.src !== old && img.complete
                     && img.naturalWidth > 0) return 'image';
                 const n = (window.__iopub || []).filter(m => m.parent !== 'execute_request').length;
                 return n0 !== null && n > n0 ? 'error' : false;
               }""", arg=[k, old, errors_before], timeout=timeout * 1000, polling="raf")
        return handle.json_value()

    def sliders(self, k: int):
        return self.controls(k).locator(".idnn-slider")

    def slider_label(self, slider) -> str:
        return slider.locator(".idnn-label").first.inner_text().strip()

    def slider_state(self, slider) -> dict:
        """The slider's position (an option's index), its range and its readout text."""
        st = slider.locator("input[type=range]").first.evaluate(
            "e => ({now: Number(e.value), min: Number(e.min), max: Number(e.max)})")
        st = {k: float(v) for k, v in st.items()}
        st["readout"] = slider.locator(".idnn-readout").first.inner_text().strip()
        return st

    def key_move(self, slider, forward: bool | None = None) -> str:
        """Focus the slider and press one arrow key (towards the far end when ``forward`` is
        None); returns the key pressed."""
        st = self.slider_state(slider)
        if forward is None:
            forward = st["now"] < st["max"]
        key = "ArrowRight" if forward else "ArrowLeft"
        handle = slider.locator("input[type=range]").first
        handle.focus()
        handle.press(key)
        return key

    def drag(self, slider, fraction: float) -> None:
        """Drag the slider's thumb with the mouse to ``fraction`` of its track."""
        track = slider.locator("input[type=range]").first
        track.scroll_into_view_if_needed()
        box = track.bounding_box()
        st = self.slider_state(slider)
        thumb = 16  # px: Chromium's default range thumb; its centre runs from thumb/2 to w - thumb/2
        span = (st["max"] - st["min"]) or 1.0

        def x_at(f: float) -> float:
            return box["x"] + thumb / 2 + f * (box["width"] - thumb)

        y = box["y"] + box["height"] / 2
        mouse = self.page.mouse
        mouse.move(x_at((st["now"] - st["min"]) / span), y)
        mouse.down()
        mouse.move(x_at(fraction), y, steps=6)
        mouse.up()

    def arm_latency(self, k: int) -> None:
        self.page.evaluate(JS_ARM_LATENCY, k)

    def latency(self, timeout: float = 120) -> dict:
        """After arm_latency() and one key press: {"ms": key press -> new figure painted,
        "src_ms": key press -> new image arrived (kernel round trip), "paint_ms": image
        arrived -> decoded and painted}."""
        self.page.wait_for_function("() => window.__t0 !== null", timeout=10_000)
        return self.page.evaluate(
            "(ms) => Promise.race([window.__latency, new Promise((_, rej) => "
            "setTimeout(() => rej(new Error('no new image')), ms))])", timeout * 1000)

    def screenshot_explorer(self, k: int, path) -> None:
        """The explorer (controls and figure) as a PNG, cropped on the right to its content
        (the widget box itself spans the notebook's width)."""
        import io

        from PIL import Image

        box = self.box(k)
        box.scroll_into_view_if_needed()
        width = box.evaluate("""(box) => {
            const left = box.getBoundingClientRect().left;
            const parts = [box.querySelector(':scope img.idnn-frame'),
                           ...box.querySelectorAll(':scope > .idnn-controls > *'),
                           ...box.querySelectorAll(':scope > .idnn-message')];
            let right = left;
            for (const el of parts) {
              if (!el || getComputedStyle(el).display === 'none') continue;
              const r = el.getBoundingClientRect();
              const text = el.matches('.idnn-message') ? el.textContent.trim() : 'x';
              if (r.width > 0 && r.height > 0 && text) right = Math.max(right, r.right);
            }
            return Math.ceil(right - left);
        }""")
        png = Image.open(io.BytesIO(box.screenshot(animations="disabled")))
        if 0 < width + 12 < png.width:
            png = png.crop((0, 0, width + 12, png.height))
        png.save(path, optimize=True)

    def close(self, keep_page: bool = False) -> None:
        """Shut this notebook's kernel down and close it (and its page unless keep_page)."""
        try:
            self.page.evaluate(
                "async () => { const p = window.jupyterapp.shell.currentWidget;"
                " if (p && p.sessionContext) { await p.sessionContext.shutdown(); p.dispose(); } }")
        except Exception:  # noqa: BLE001 (best effort: the server stops the kernel anyway)
            pass
        self.page.remove_listener("pageerror", self._on_error)
        if not keep_page:
            self.page.context.close()


# --------------------------------------------------------------------------------------------
# Driving every control of one explorer.

def _timeout_error():
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    return PlaywrightTimeout


def is_blank(png: bytes) -> bool:
    """True when an image is (almost) a single colour: a figure that drew nothing."""
    import io

    from PIL import Image

    lo, hi = Image.open(io.BytesIO(png)).convert("L").getextrema()
    return hi - lo < 8


def exercise_explorer(nb: LabNotebook, k: int, timeout: float = 120) -> tuple[list[str], list[str]]:
    """Move every slider of explorer ``k`` with the keyboard and by dragging, toggle its
    checkboxes, dropdowns, toggle buttons and radio buttons; after each change wait for the
    new image and check that the figure really changed and no message appeared.
    Returns (failures, notes)."""
    try:  # the first picture is drawn once the page has told the kernel it shows the explorer
        nb.wait_first_picture(k, timeout)
    except _timeout_error():
        return [f"no first picture within {timeout:.0f} s (still {nb.state(k)!r})"], []
    if not nb.image(k).is_visible():
        return [f"the figure is hidden before any change ({_message(nb, k)!r})"], []
    drive = Drive(nb, k, timeout)
    for control in (_drive_sliders, _drive_checkboxes, _drive_dropdowns, _drive_toggles):
        control(drive)
    return drive.failures, drive.notes


def _message(nb: LabNotebook, k: int) -> str:
    """The text of explorer ``k``'s message line ("" when it shows none)."""
    return nb.box(k).locator(":scope > .idnn-message").first.inner_text().strip()


class Drive:
    """The changes made to one explorer (``k`` in ``nb``) and what they revealed: ``failures``
    (the explorer misbehaved) and ``notes`` (worth a look, not an error)."""

    def __init__(self, nb: LabNotebook, k: int, timeout: float):
        self.nb, self.k, self.timeout = nb, k, timeout
        self.failures: list[str] = []
        self.notes: list[str] = []

    def change(self, what: str, act: Callable[[], object]) -> bytes | None:
        """Do ``act()``, wait for the explorer's new figure and check it: the figure as it was
        before (PNG), or None when no new figure came (a timeout, an error, a message)."""
        nb, k = self.nb, self.k
        debug(f"explorer {k}: {what}")
        before_png, before_src = nb.image_png(k), nb.src(k)
        errors_before = nb.callback_errors()
        act()
        try:
            outcome = nb.wait_new_src(k, before_src, self.timeout, errors_before)
        except _timeout_error():
            self.failures.append(f"{what}: no new figure within {self.timeout:.0f} s")
            return None
        if outcome == "error":
            nb.sync()
            self.failures.append(f"{what}: the widget callback raised an error (see below)")
            return None
        if outcome == "message":
            self.failures.append(f"{what}: the explorer shows the message {_message(nb, k)[:300]!r}")
            return None
        nb.sync()
        self.failures += self._check_new_figure(what, before_png)
        return before_png

    def _check_new_figure(self, what: str, before_png: bytes) -> list[str]:
        nb, k = self.nb, self.k
        after_png = nb.image_png(k) if nb.image(k).is_visible() else None
        found = []
        if after_png is None:
            found.append(f"{what}: the figure is hidden ({_message(nb, k)!r})")
        elif after_png == before_png:
            found.append(f"{what}: a new image arrived but the figure looks the same")
        elif is_blank(after_png):
            found.append(f"{what}: the new figure is blank")
        text = _message(nb, k)
        if text:
            found.append(f"{what}: the explorer shows the message {text!r}")
        return found


def _drive_sliders(drive: Drive) -> None:
    sliders = drive.nb.sliders(drive.k)
    for j in range(sliders.count()):
        s = sliders.nth(j)
        _drive_slider(drive, s, drive.nb.slider_label(s) or f"slider {j + 1}")


def _drive_slider(drive: Drive, s, label: str) -> None:
    """One step with the arrow key, one back (the figure should come back), then a drag."""
    nb = drive.nb
    if s.locator("input[type=range][disabled]").count():
        drive.notes.append(f"slider {label!r} is disabled; not moved")
        return
    st = nb.slider_state(s)
    forward = st["now"] < st["max"]
    key, back = ("ArrowRight", "ArrowLeft") if forward else ("ArrowLeft", "ArrowRight")
    original = drive.change(f"slider {label!r}, key {key}", lambda: nb.key_move(s, forward))
    if nb.slider_state(s)["now"] == st["now"]:
        drive.failures.append(f"slider {label!r}: {key} did not move it (value {st['readout']})")
    if drive.change(f"slider {label!r}, key {back}",
                    lambda: nb.key_move(s, not forward)) is not None and original:
        if nb.image_png(drive.k) != original:
            drive.notes.append(f"slider {label!r}: moving back did not restore the same figure")
    st = nb.slider_state(s)
    span = (st["max"] - st["min"]) or 1.0
    fraction = 0.85 if (st["now"] - st["min"]) / span < 0.5 else 0.15
    drive.change(f"slider {label!r}, drag to {fraction:.0%} of the track",
                 lambda: nb.drag(s, fraction))
    if nb.slider_state(s)["now"] == st["now"]:
        drive.failures.append(f"slider {label!r}: dragging the handle did not move it")


def _drive_checkboxes(drive: Drive) -> None:
    """Each checkbox clicked twice (put back at once when the first click shows no figure)."""
    boxes = drive.nb.controls(drive.k).locator(".idnn-checkbox input[type=checkbox]")
    for j in range(boxes.count()):
        cb = boxes.nth(j)
        label = cb.locator("xpath=..").inner_text().strip() or f"checkbox {j + 1}"
        if cb.is_disabled():
            continue
        if drive.change(f"checkbox {label!r}, click 1", cb.click) is None:
            cb.click()  # put it back; the figure may legitimately not change now
            drive.nb.sync()
            continue
        drive.change(f"checkbox {label!r}, click 2", cb.click)


def _drive_dropdowns(drive: Drive) -> None:
    """Each dropdown to its first other option and back."""
    selects = drive.nb.controls(drive.k).locator(".idnn-dropdown select")
    for j in range(selects.count()):
        sel = selects.nth(j)
        if sel.is_disabled():
            continue
        values = sel.locator("option").evaluate_all("os => os.map(o => o.value)")
        current = sel.input_value()
        others = [v for v in values if v != current]
        label = sel.locator("xpath=..").locator(".idnn-label").inner_text().strip()
        if not others:
            continue
        if drive.change(f"dropdown {label!r} -> {others[0]!r}",
                        lambda sel=sel, v=others[0]: sel.select_option(v)) is None:
            sel.select_option(current)
            drive.nb.sync()
            continue
        drive.change(f"dropdown {label!r} -> {current!r}",
                     lambda sel=sel, v=current: sel.select_option(v))


def _drive_toggles(drive: Drive) -> None:
    """Each group of toggle buttons to its first inactive button and back."""
    groups = drive.nb.controls(drive.k).locator(".idnn-toggle")
    for j in range(groups.count()):
        buttons = groups.nth(j).locator("button")
        active = [i for i in range(buttons.count())
                  if "idnn-on" in (buttons.nth(i).get_attribute("class") or "")]
        others = [i for i in range(buttons.count()) if i not in active]
        if others and active:
            drive.change(f"toggle button {buttons.nth(others[0]).inner_text()!r}",
                         buttons.nth(others[0]).click)
            drive.change(f"toggle button {buttons.nth(active[0]).inner_text()!r}",
                         buttons.nth(active[0]).click)
