"""Grading one submission: learner code in a sandboxed process, tests in this trusted process.

:func:`grade_task` is the unit of work of autograde (local process pool or Dask workers) and of
the learner's check. It takes plain data (the assembled notebook as JSON, the role of each cell,
the limits) and returns plain data; it never touches the gradebook or the course folders.

- The **learner's process** (``learner_server.py``, started by :func:`grading.jail.start` inside
  bubblewrap) runs the learner's cells (answers and added cells) and the course cells they need,
  and nothing else: no test cell, no expected value, no grading code is ever in it.
- This process runs the **test cells**, in a namespace made from the *source* notebook's cells
  (:mod:`grading.trusted`), where the learner's functions are trampolines over the plain-data
  channel (:mod:`grading.channel`). A test passes when its cell runs to its end here; nothing the
  learner's process prints or sends is a result.
- Only the cells some test or learner cell needs are run, on either side
  (:func:`grading.notebooks.needed_cells`): demonstrations and explorers are skipped.
- If the learner's process cannot be started or does not answer its first request, the
  submission is **not graded** (an infrastructure failure: the batch retries it, it is never 0).
  A process that dies or runs out of time *during* grading fails the calls that remain.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat

from . import channel as C
from . import notebooks as N
from .settings import KERNEL_ENV, REPO, Limits
from .trusted import LearnerGone, Namespace, Remote, TrustedTF

SERVER = Path(__file__).with_name("learner_server.py")
CHANNEL = Path(__file__).with_name("channel.py")
STDERR_CAP = 200_000
GRACE = 5.0  # seconds between interrupting the learner's code and stopping its process
NOTEBOOK_OUTPUT_CAP = 2_000_000  # characters of output in a whole graded notebook
MESSAGE_CAP = 500


# -- the learner's process ------------------------------------------------------------------------
def start_process(argv: list[str], *, scratch: Path, readonly: list[Path], limits: Limits,
                  env: dict[str, str], sandbox: bool = True) -> subprocess.Popen:
    """The learner's process, in bubblewrap (``grading.jail``) unless ``sandbox`` is False."""
    from . import jail

    return jail.start(argv, scratch=scratch, readonly=readonly, limits=limits, env=env,
                      sandbox=sandbox)


def stop_process(proc: subprocess.Popen) -> None:
    from . import jail

    jail.stop(proc)


class Learner:
    """The learner's process and the framed channel to it, with time limits on every request."""

    def __init__(self, limits: Limits, sandbox: bool, readonly: list[Path]):
        self.limits = limits
        self.gone: str | None = None
        self.stderr = bytearray()
        self.frames: queue.Queue = queue.Queue(maxsize=2)
        self.scratch = Path(tempfile.mkdtemp(prefix="grading-"))
        env = {**KERNEL_ENV, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
        packages = [str(Path(p).parent) for p in readonly if (Path(p) / "__init__.py").is_file()]
        if packages:  # the course's packages (helpers/) as mounted, before any installed copy
            env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(packages))
        argv = [sys.executable, "-P", "-s", str(SERVER)]
        self.proc = start_process(argv, scratch=self.scratch, readonly=[SERVER, CHANNEL, *readonly],
                                  limits=limits, env=env, sandbox=sandbox)
        os.set_blocking(self.proc.stdin.fileno(), False)
        threading.Thread(target=self._read_frames, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _read_frames(self) -> None:
        try:
            while self._put(("frame", *C.read_frame(self.proc.stdout))):
                pass
        except EOFError:
            self._put(("end", "the learner's process exited", None))
        except (C.ChannelError, OSError, ValueError) as exc:
            self._put(("end", f"the learner's process sent a malformed message ({exc})", None))

    def _put(self, item: tuple) -> bool:
        """Queue a frame; False once grading stopped listening (this thread then ends)."""
        while not self.gone:
            try:
                self.frames.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def _drain_stderr(self) -> None:
        try:
            while chunk := self.proc.stderr.read1(65536):
                if len(self.stderr) < STDERR_CAP:
                    self.stderr += chunk[: STDERR_CAP - len(self.stderr)]
        except (OSError, ValueError):
            pass

    def _write(self, data: bytes, deadline: float) -> None:
        fd, view = self.proc.stdin.fileno(), memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            _, ready, _ = select.select([], [fd], [], min(left, 1.0))
            if ready:
                view = view[os.write(fd, view):]

    def request(self, message: dict, blobs: list[bytes], on_callback: Callable | None,
                deadline: float) -> tuple[dict, list[bytes]]:
        """Send one request; answer callbacks; return (reply, blobs) or raise LearnerGone."""
        if self.gone:
            raise LearnerGone(self.gone)
        if message.get("op") in ("run", "call"):  # interrupted inside first; killed if that fails
            message = {**message, "timeout": max(0.5, deadline - time.monotonic() - GRACE)}
        try:
            self._write(C.pack(message, blobs), deadline)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                kind, reply, rblobs = self.frames.get(timeout=left)
                if kind == "end":
                    self.stop(reply)
                    raise LearnerGone(reply)
                if not isinstance(reply, dict):
                    raise C.ChannelError("a reply that is not a message")
                if reply.get("op") == "callback" and on_callback is not None:
                    out, oblobs = on_callback(reply, rblobs)
                    self._write(C.pack(out, oblobs), deadline)
                    continue
                return reply, rblobs
        except (TimeoutError, queue.Empty):
            self.stop("the learner's code ran out of time (the process was stopped)")
            raise LearnerGone(self.gone) from None
        except (BrokenPipeError, OSError) as exc:
            self.stop(f"the learner's process stopped ({type(exc).__name__})")
            raise LearnerGone(self.gone) from None
        except C.ChannelError as exc:
            self.stop(f"the learner's process sent a malformed message ({exc})")
            raise LearnerGone(self.gone) from None

    def stop(self, reason: str) -> None:
        if not self.gone:
            self.gone = reason
        stop_process(self.proc)

    def close(self) -> None:
        self.stop("grading finished")
        shutil.rmtree(self.scratch, ignore_errors=True)


# -- one submission -------------------------------------------------------------------------------
class Plan:
    """What to run where, computed from the assembled notebook (source cells + learner cells)."""

    def __init__(self, nb, roles: list[str]):
        codes = [N.source_text(c) if c.get("cell_type") == "code" else None for c in nb.cells]
        learner_roots = [r == N.STUDENT or (r == N.SOURCE and bool(N.meta(c).get("locked")))
                         for c, r in zip(nb.cells, roles)]
        self.learner = N.needed_cells(codes, learner_roots)
        self.trusted = N.needed_cells(codes, [r == N.TEST for r in roles])
        self.learner_cells = [codes[i] for i, r in enumerate(roles) if r == N.STUDENT and codes[i]]
        self.functions: set[str] = set()
        self.values: set[str] = set()
        self.answer_binds: dict[int, set[str]] = {}  # answer cell -> the functions it must define
        for i, c in enumerate(nb.cells):
            binds = c.get("metadata", {}).pop(N.BINDS_KEY, None)
            if isinstance(binds, dict):
                self.functions |= set(binds.get("functions", []))
                self.values |= set(binds.get("values", []))
                self.answer_binds[i] = set(binds.get("functions", []))
        self.learner_names: set[str] = set()
        for text in self.learner_cells:
            self.learner_names |= N.top_level_names(N.strip_magics(text))
        self.course_binds = {i: N.cell_names(codes[i]).binds for i, r in enumerate(roles)
                             if r == N.SOURCE and codes[i]}


def _stream(name: str, text: str, cap: int) -> dict | None:
    if not text:
        return None
    if len(text) > cap:
        text = text[:cap] + f"\n[output cut: more than {cap} characters]\n"
    return nbformat.v4.new_output("stream", name=name, text=text)


def _error_output(ename: str, evalue: str, cap: int) -> dict:
    evalue = evalue[: min(cap, 10_000)]
    return nbformat.v4.new_output("error", ename=ename[:100], evalue=evalue,
                                  traceback=[f"{ename[:100]}: {evalue}"])


def _message(exc: BaseException) -> str:
    if isinstance(exc, Overtime):
        return "the test ran out of time"
    if isinstance(exc, AssertionError):
        text = str(exc) or "a check failed (AssertionError)"
    else:
        name = getattr(exc, "learner_type", type(exc).__name__)
        text = f"{name}: {exc}" if str(exc) else name
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_CAP else text[: MESSAGE_CAP - 1] + "…"


class Grading:
    """The state of grading one submission (both sides)."""

    def __init__(self, task: dict, learner: Learner, limits: Limits, plan: Plan):
        self.task, self.learner, self.limits, self.plan = task, learner, limits, plan
        self.deadline = time.monotonic() + limits.notebook_timeout
        self.call_deadline = self.deadline
        self.events: list[str] = []
        remote = Remote(self._request, TrustedTF())
        self.space = Namespace(remote, plan.functions, plan.learner_cells, plan.learner_names)

    def _request(self, message, blobs, on_callback):
        return self.learner.request(message, blobs, on_callback, self.call_deadline)

    def _limit(self) -> float:
        return min(time.monotonic() + self.limits.cell_timeout, self.deadline)

    def run_learner_cell(self, idx: int, code: str) -> list:
        if self.learner.gone:
            return []
        self.call_deadline = self._limit()
        try:
            reply, _ = self.learner.request({"op": "run", "code": N.strip_magics(code),
                                             "label": f"cell {idx}"}, [],
                                            None, self.call_deadline)
        except LearnerGone as exc:
            self.events.append(f"cell {idx}: {exc}; the learner's remaining code was not run")
            return [_error_output("LearnerProcessStopped", str(exc), self.limits.output_bytes)]
        cap = self.limits.output_bytes
        outs = [o for o in (_stream("stdout", str(reply.get("stdout", "")), cap),
                            _stream("stderr", str(reply.get("stderr", "")), cap)) if o]
        err = reply.get("error")
        if isinstance(err, dict):
            outs.append(_error_output(str(err.get("type", "Error")), str(err.get("message", "")), cap))
            if err.get("type") == "TimeLimit":
                self.events.append(f"cell {idx}: the learner's code ran out of time; it was "
                                   "interrupted and grading went on")
        return outs

    def run_course_cell(self, idx: int, code: str) -> list:
        out = io.StringIO()
        self.call_deadline = self._limit()
        try:
            with watchdog(self.limits.cell_timeout + 10), contextlib.redirect_stdout(out), \
                    contextlib.redirect_stderr(out):
                self.space.run(code, f"<course cell {idx}>")
        except (Exception, LearnerGone, Overtime) as exc:  # a course cell that needs a failing answer
            if isinstance(exc, Overtime):
                self.learner.stop("a course cell ran out of time")
            return [_error_output(type(exc).__name__, _message(exc), self.limits.output_bytes)]
        finally:
            self.space.after_course_cell(self.plan.course_binds.get(idx, set()))
        return [o for o in (_stream("stdout", out.getvalue(), self.limits.output_bytes),) if o]

    def run_test_cell(self, idx: int, gid: str, code: str) -> tuple[dict, list]:
        out = io.StringIO()
        self.call_deadline = self._limit()
        self._refresh_values()
        try:
            with watchdog(self.limits.cell_timeout + 10), contextlib.redirect_stdout(out), \
                    contextlib.redirect_stderr(io.StringIO()):
                self.space.run(code, f"<test {gid}>")
        except (Exception, LearnerGone, Overtime) as exc:
            if isinstance(exc, Overtime):  # interrupted anywhere, maybe mid-request: no more calls
                self.learner.stop("a test ran out of time")
            msg = _message(exc)
            if getattr(exc, "learner_type", "") == "TimeLimit" or isinstance(exc, Overtime):
                self.events.append(f"{gid}: the test ran out of time")
            outs = [o for o in (_stream("stdout", out.getvalue(), self.limits.output_bytes),) if o]
            outs.append(_error_output(type(exc).__name__, msg, self.limits.output_bytes))
            return {"status": "failed", "passed": False, "message": msg}, outs
        outs = [o for o in (_stream("stdout", out.getvalue(), self.limits.output_bytes),) if o]
        return {"status": "passed", "passed": True, "message": ""}, outs

    def _refresh_values(self) -> None:
        """Non-function names the course's answers bind (read from the learner before a test)."""
        for name in self.plan.values:
            try:
                self.space.ns[name] = self.space.remote.get(name)
            except (Exception, LearnerGone):
                self.space.ns.pop(name, None)


class Overtime(BaseException):
    """A test cell ran past its time (e.g. a loop over a number the learner's code returned)."""


@contextlib.contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Raise :class:`Overtime` in this thread if the block runs longer than ``seconds``."""
    import ctypes

    tid, lock, state = threading.get_ident(), threading.Lock(), {"done": False}
    stop = threading.Event()

    def fire() -> None:
        if not stop.wait(seconds):
            with lock:
                if not state["done"]:
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid),
                                                               ctypes.py_object(Overtime))

    timer = threading.Thread(target=fire, daemon=True)
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
        stop.set()
        timer.join()
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)  # nothing pending


def _not_graded(task: dict, reason: str, t0: float) -> dict:
    return {"id": task.get("id"), "status": "not_graded", "reason": reason, "notebook": task["notebook"],
            "tests": {}, "events": [reason], "seconds": time.monotonic() - t0}


def grade_task(task: dict) -> dict:
    """Grade one assembled notebook; see the module docstring and grading/README.md.

    ``task``: ``id``, ``notebook`` (JSON text, from :func:`grading.notebooks.assemble`), ``roles``
    (one per cell), ``test_ids`` (cell index -> grade_id), ``limits`` (dict of :class:`Limits`
    fields), ``sandbox`` (bool, default True), ``readonly`` (paths the course's cells need,
    default helpers/ and data/). Result: ``id``, ``status`` ("graded" | "not_graded"), ``reason``,
    ``notebook`` (executed, JSON text), ``tests`` (grade_id -> {"status": passed | failed | not run
    | deleted, "passed": bool, "message": str}), ``events``, ``seconds``.
    """
    t0 = time.monotonic()
    limits = Limits(**task.get("limits", {}))
    nb = nbformat.reads(task["notebook"], as_version=4)
    roles = task["roles"]
    test_ids = {int(k): v for k, v in task["test_ids"].items()}
    plan = Plan(nb, roles)
    readonly = [Path(p) for p in (task.get("readonly") or [REPO / "helpers", REPO / "data"])]
    try:
        learner = Learner(limits, bool(task.get("sandbox", True)), readonly)
    except Exception as exc:  # SandboxUnavailable, OSError: the machine's problem, not a grade
        return _not_graded(task, f"the learner's sandbox could not start: {exc}", t0)
    try:
        try:
            reply, _ = learner.request({"op": "hello"}, [], None,
                                       time.monotonic() + limits.startup_timeout)
        except LearnerGone as exc:
            err = learner.stderr.decode("utf-8", "replace")[-400:]
            return _not_graded(task, f"the learner's process did not start: {exc} {err}".strip(), t0)
        if not reply.get("ok"):
            return _not_graded(task, "the learner's process did not answer its first request", t0)
        grading = Grading(task, learner, limits, plan)
        try:
            tests = _run_cells(grading, nb, roles, test_ids)
        finally:
            grading.space.close()
    finally:
        learner.close()
        if "matplotlib.pyplot" in sys.modules:  # figures of course cells run here
            sys.modules["matplotlib.pyplot"].close("all")
    tests = {g: {**r, "message": utf8(r["message"])} for g, r in tests.items()}
    return {"id": task.get("id"), "status": "graded", "reason": "",
            "notebook": utf8(nbformat.writes(nb)), "tests": tests,
            "events": [utf8(e) for e in grading.events], "seconds": time.monotonic() - t0}


def utf8(text: str) -> str:
    """``text`` with lone surrogates (a learner's ``print("\\ud800")``, an error message) as ``?``:
    the parent writes it to files, which must never fail for one learner's output."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _run_cells(grading: Grading, nb, roles: list[str], test_ids: dict[int, str]) -> dict:
    plan = grading.plan
    tests = {gid: {"status": "not run", "passed": False, "message": ""} for gid in test_ids.values()}
    count = 0
    budget = NOTEBOOK_OUTPUT_CAP
    for idx, cell in enumerate(nb.cells):
        role, gid = roles[idx], test_ids.get(idx)
        if role == N.DELETED:
            tests[gid] = {"status": "deleted", "passed": False, "message": "the test cell was deleted"}
            continue
        code = N.source_text(cell)
        if cell.get("cell_type") != "code" or not code.strip():
            continue
        outs: list = []
        if role == N.TEST:
            tests[gid], outs = grading.run_test_cell(idx, gid, code)
        elif role == N.STUDENT or (role == N.SOURCE and plan.learner[idx]):
            outs = grading.run_learner_cell(idx, code)
            if idx in plan.answer_binds:  # from here on, tests see the learner's functions
                grading.space.bind_learner(plan.answer_binds[idx])
            failed = next((o for o in outs if o.get("output_type") == "error"), None)
            if (role == N.SOURCE and failed is not None and not grading.learner.gone
                    and N.meta(cell).get("locked") and failed.get("ename") != "NotImplementedError"):
                grading.events.append(f"course cell {idx} failed in the learner's process "
                                      f"({failed.get('ename')}: {str(failed.get('evalue'))[:200]})")
        if role == N.SOURCE and plan.trusted[idx]:
            trusted_outs = grading.run_course_cell(idx, code)
            outs = outs or trusted_outs
        if role == N.TEST or plan.learner[idx] or plan.trusted[idx]:
            count += 1
            cell.execution_count = count
            cell.outputs, budget = _within(outs, budget)
    if grading.learner.gone and grading.learner.gone != "grading finished":
        grading.events.append(f"the learner's process stopped: {grading.learner.gone}")
    return tests


def _within(outs: list, budget: int) -> tuple[list, int]:
    """The outputs of a cell that fit in what is left of the notebook's output budget."""
    kept = []
    for out in outs:
        size = len(str(out.get("text", ""))) + len(str(out.get("evalue", "")))
        if size > budget:
            if budget > 0:
                kept.append(nbformat.v4.new_output(
                    "stream", name="stdout",
                    text=f"[output cut: the notebook's outputs exceed {NOTEBOOK_OUTPUT_CAP} characters]\n"))
            return kept, 0
        budget -= size
        kept.append(out)
    return kept, budget

