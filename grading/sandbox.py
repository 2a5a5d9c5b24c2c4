"""Executing one assembled notebook in a kernel that cannot reach the course.

:func:`grade_task` is the unit of work of autograde (local process pool or Dask workers) and of
the learner's check. It takes plain data (the assembled notebook as JSON, the role of each cell,
the limits) and returns plain data; it never touches the gradebook or the course folders.

The kernel runs
- in a fresh temporary directory that holds nothing but its own home (no submitted files, so a
  submitted ``ipykernel_launcher.py`` or ``numpy.py`` cannot shadow anything; the interpreter also
  runs with ``-P`` so the working directory is not on ``sys.path``);
- with a clean environment, RLIMIT_CPU / RLIMIT_AS / RLIMIT_FSIZE, and in its own session (the
  whole process group is killed afterwards, as are orphans it leaves behind, which are re-parented
  to us as a child subreaper);
- as the unprivileged user ``nobody`` when the grader runs as root (then it cannot open the
  gradebook, the source notebooks or other submissions at all).

Before every test cell, a *guard* runs as a ``user_expressions`` evaluation (which bypasses
IPython's input and AST transformers): it restores IPython's transformer lists, event callbacks and
execution machinery, ``sys`` hooks (trace/profile/excepthook/displayhook/streams), every module
entry and function code object of the modules loaded at start (NumPy and ``numpy.testing``
included), ``sys.modules``, the builtins, and the notebook's own imports (``np``…). A test cell
passes only if it ran to its end: a random token printed by a line appended to the cell must
appear, and no error may be raised. Hiding the traceback, blanking the cell or killing the kernel
therefore cannot turn a failure into a pass.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict

import nbformat

from .notebooks import DELETED, TEST
from .settings import KERNEL_ENV, Limits

# Runs as the kernel process: set limits, maybe drop privileges, then start ipykernel.
_LAUNCHER = r"""
import os, resource, sys
cpu, mem, fsize, uid = (int(x) for x in sys.argv[1:5])
del sys.argv[1:5]
def lim(r, soft, hard):
    if soft > 0:
        resource.setrlimit(r, (soft, hard))
lim(resource.RLIMIT_CPU, cpu, cpu + 5)
lim(resource.RLIMIT_AS, mem, mem)
lim(resource.RLIMIT_FSIZE, fsize, fsize)
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
if uid >= 0:
    conn = sys.argv[sys.argv.index("-f") + 1]
    os.chown(conn, uid, uid)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
sys.argv[0] = "ipykernel_launcher"
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""

# Runs once in the fresh kernel, before any learner code: take the snapshot the guard restores.
_SETUP = r"""
def __grading_setup(preload):
    import builtins, importlib, sys, threading, types
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    ip = get_ipython()
    kernel = getattr(ip, "kernel", None)
    FUNC = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType,
            classmethod, staticmethod, property)
    mods = {k: v for k, v in sys.modules.items() if isinstance(v, types.ModuleType)}
    mod_dicts, codes, classes = {}, [], {}
    for name, m in mods.items():
        try:
            d = dict(vars(m))
        except TypeError:
            continue
        mod_dicts[name] = (m, {k: v for k, v in d.items() if isinstance(v, FUNC) or callable(v)})
        for v in d.values():
            if isinstance(v, types.FunctionType):
                codes.append((v, v.__code__, v.__defaults__, v.__kwdefaults__))
            elif isinstance(v, type) and str(vars(v).get("__module__", "")).split(".")[0] in (
                    "IPython", "ipykernel", "numpy", "unittest", "helpers", "traitlets"):
                classes[v] = None
    for cls in list(classes):
        cd = {k: v for k, v in vars(cls).items() if isinstance(v, FUNC) or callable(v)}
        classes[cls] = cd
        for v in cd.values():
            if isinstance(v, types.FunctionType):
                codes.append((v, v.__code__, v.__defaults__, v.__kwdefaults__))
    objs = [ip, kernel, getattr(ip, "compile", None), getattr(ip, "displayhook", None),
            getattr(ip, "display_pub", None), getattr(ip, "input_transformer_manager", None),
            getattr(ip, "events", None), sys.stdout, sys.stderr]
    obj_dicts = [(o, {k: v for k, v in vars(o).items() if callable(v)})
                 for o in objs if o is not None and hasattr(o, "__dict__")]
    lists = {
        "cleanup": list(ip.input_transformers_cleanup),
        "post": list(ip.input_transformers_post),
        "ast": list(ip.ast_transformers),
        "itm_cleanup": list(ip.input_transformer_manager.cleanup_transforms),
        "itm_line": list(ip.input_transformer_manager.line_transforms),
        "itm_token": list(ip.input_transformer_manager.token_transformers),
    }
    events = {k: list(v) for k, v in ip.events.callbacks.items()}
    handlers = dict(getattr(kernel, "shell_handlers", {}) or {})
    streams = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    hooks = (sys.excepthook, sys.displayhook)
    user_ns = ip.user_ns
    tv = getattr(ip, "_trait_values", {})
    traits = {k: tv[k] for k in (
        "compile", "displayhook", "display_pub", "display_trap", "builtin_trap",
        "input_transformer_manager", "events", "user_ns", "user_module", "ast_transformers",
        "input_transformers_cleanup", "input_transformers_post", "kernel") if k in tv}
    keep = {"exit", "quit", "get_ipython", "In", "Out", "_", "__", "___", "__name__", "__doc__",
            "__package__", "__loader__", "__spec__", "__builtins__"}
    builtin_names = set(dir(builtins))

    def restore(token, course_names=()):
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        for name, m in mods.items():
            if sys.modules.get(name) is not m:
                sys.modules[name] = m
        for name, (m, d) in mod_dicts.items():
            md = vars(m)
            for k, v in d.items():
                if md.get(k) is not v:
                    try:
                        md[k] = v
                    except Exception:
                        pass
        for f, code, dflt, kwd in codes:
            if f.__code__ is not code:
                f.__code__ = code
            if f.__defaults__ is not dflt:
                f.__defaults__ = dflt
            if f.__kwdefaults__ is not kwd:
                f.__kwdefaults__ = kwd
        for cls, cd in classes.items():
            now = vars(cls)
            for k, v in list(now.items()):
                if k not in cd and callable(v) and not k.startswith("__"):
                    try:
                        delattr(cls, k)
                    except Exception:
                        pass
            for k, v in cd.items():
                if now.get(k) is not v:
                    try:
                        setattr(cls, k, v)
                    except Exception:
                        pass
        for o, d in obj_dicts:
            now = vars(o)
            for k in [k for k, v in now.items() if callable(v) and k not in d]:
                try:
                    del now[k]
                except Exception:
                    pass
            for k, v in d.items():
                if now.get(k) is not v:
                    now[k] = v
        for k, v in traits.items():
            if tv.get(k) is not v:
                tv[k] = v
        ip.input_transformers_cleanup[:] = lists["cleanup"]
        ip.input_transformers_post[:] = lists["post"]
        ip.ast_transformers[:] = lists["ast"]
        itm = ip.input_transformer_manager
        itm.cleanup_transforms[:] = lists["itm_cleanup"]
        itm.line_transforms[:] = lists["itm_line"]
        itm.token_transformers[:] = lists["itm_token"]
        ip.custom_exceptions = ()
        for k in list(ip.events.callbacks):
            ip.events.callbacks[k][:] = events.get(k, [])
        if kernel is not None and hasattr(kernel, "shell_handlers"):
            kernel.shell_handlers.clear()
            kernel.shell_handlers.update(handlers)
        sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__ = streams
        sys.excepthook, sys.displayhook = hooks
        user_ns["__builtins__"] = builtins
        for k in [k for k in user_ns if k in builtin_names and k not in keep]:
            if k not in course_names:
                del user_ns[k]
        return token[::-1]

    return restore

sys_ = __import__("sys")
sys_.modules["_grading_guard"] = type(sys_)("_grading_guard")
sys_.modules["_grading_guard"].restore = __grading_setup(PRELOAD)
del sys_, __grading_setup
"""

_GUARD_EXPR = "__import__('sys').modules['_grading_guard'].restore({token!r}, {names!r})"
_REIMPORT = "exec({code!r}, __import__('IPython').get_ipython().user_ns)"


class _Dead(Exception):
    pass


class _Timeout(Exception):
    pass


def _set_subreaper() -> None:
    """Orphans of the kernel are re-parented to us, so that we can kill them."""
    if sys.platform != "linux":
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def _children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            kids.append(int(entry))
    return kids


def _kill_tree(pids: list[int]) -> None:
    seen: set[int] = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen or pid == os.getpid():
            continue
        seen.add(pid)
        stack.extend(_children_of(pid))
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in seen:  # reap the ones that are our children
        try:
            os.waitpid(pid, os.WNOHANG)
        except OSError:
            pass


def _sandbox_uid() -> int:
    if os.environ.get("GRADING_NO_USER_SWITCH") or not hasattr(os, "geteuid"):
        return -1
    if os.geteuid() != 0:
        return -1
    try:
        import pwd

        uid = pwd.getpwnam("nobody").pw_uid
    except (KeyError, ImportError):
        return -1
    # Only when "nobody" can run our interpreter and import the course: every folder on the way to
    # the interpreter, its standard library, the venv and the course must be world-readable.
    import sysconfig

    paths = {sys.executable, sys.base_prefix, sys.prefix, sysconfig.get_paths()["stdlib"],
             sysconfig.get_paths()["purelib"], os.path.dirname(os.path.dirname(__file__))}
    for path in paths:
        p = os.path.realpath(path)
        while True:
            try:
                mode = os.stat(p).st_mode
            except OSError:
                return -1
            if mode & 0o005 != 0o005 and not (os.path.isfile(p) and mode & 0o004):
                return -1
            parent = os.path.dirname(p)
            if parent == p:
                break
            p = parent
    return uid


_LIVE: set[int] = set()  # pids of the kernels this process is running (Dask threads)
_LIVE_LOCK = threading.Lock()


class Kernel:
    """One sandboxed IPython kernel and a small, bounded executor for it."""

    def __init__(self, limits: Limits, preload: list[str]):
        from jupyter_client.kernelspec import KernelSpec
        from jupyter_client.manager import KernelManager

        self.limits = limits
        self.tmp = tempfile.mkdtemp(prefix="grading-")
        self.home = os.path.join(self.tmp, "home")
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.home)
        os.makedirs(self.work)
        uid = _sandbox_uid()
        if uid >= 0:
            for d in (self.tmp, self.home, self.work):
                os.chown(d, uid, uid)
        self.km = KernelManager(connection_file=os.path.join(self.tmp, "kernel.json"))
        self.km._kernel_spec = KernelSpec(
            argv=[
                sys.executable,
                "-P",
                "-c",
                _LAUNCHER,
                str(int(limits.cpu_seconds)),
                str(int(limits.memory_bytes)),
                str(int(limits.file_bytes)),
                str(uid),
                "-f",
                "{connection_file}",
                "--HistoryManager.hist_file=:memory:",
            ],
            display_name="grading sandbox",
            language="python",
        )
        env = {
            "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin",
            "HOME": self.home,
            "IPYTHONDIR": os.path.join(self.home, ".ipython"),
            "MPLCONFIGDIR": os.path.join(self.home, ".mpl"),
            "JUPYTER_RUNTIME_DIR": os.path.join(self.home, ".runtime"),
            "TMPDIR": self.work,
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            **KERNEL_ENV,
        }
        self.pre_children = set(_children_of(os.getpid()))
        self.km.start_kernel(
            env=env, cwd=self.work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.pid = self._pid()
        with _LIVE_LOCK:
            _LIVE.add(self.pid)
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=limits.startup_timeout)
        except RuntimeError as exc:
            self.close()
            raise _Dead(f"the kernel did not start: {exc}") from None
        setup = _SETUP.replace("PRELOAD", repr(list(preload)))
        try:
            reply, outs = self.execute(setup, limits.startup_timeout * 2, store_history=False)
        except (_Dead, _Timeout):
            self.close()
            raise _Dead("the kernel died while the grader set it up") from None
        if reply.get("status") != "ok":
            self.close()
            raise _Dead("the grader's setup failed in the kernel: " + _error_text(outs))

    # -- execution ----------------------------------------------------------------------------
    def execute(self, code: str, timeout: float, store_history: bool = True,
                user_expressions: dict | None = None) -> tuple[dict, list]:
        if not self.km.is_alive():
            raise _Dead("the kernel has died")
        msg_id = self.kc.execute(
            code,
            store_history=store_history,
            allow_stdin=False,
            stop_on_error=False,
            user_expressions=user_expressions or {},
        )
        deadline = time.monotonic() + timeout
        outputs: list = []
        size = 0
        capped = False
        idle = False
        reply = None
        while not (idle and reply is not None):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout(outputs)
            if not idle:
                try:
                    msg = self.kc.get_iopub_msg(timeout=min(remaining, 0.25))
                except queue.Empty:
                    if not self.km.is_alive():
                        raise _Dead(outputs) from None
                    continue
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                mtype = msg["msg_type"]
                if mtype == "status":
                    idle = msg["content"].get("execution_state") == "idle"
                elif mtype == "clear_output":
                    outputs.clear()
                    size = 0
                elif mtype in ("stream", "display_data", "execute_result", "error"):
                    out = nbformat.v4.output_from_msg(msg)
                    n = len(json.dumps(msg["content"]))
                    if mtype != "error" and size + n > self.limits.output_bytes:
                        if not capped:
                            capped = True
                            outputs.append(nbformat.v4.new_output(
                                "stream", name="stdout",
                                text=f"\n[output cut: more than {self.limits.output_bytes} bytes]\n"))
                        continue
                    size += n
                    if (mtype == "stream" and outputs and outputs[-1].output_type == "stream"
                            and outputs[-1].name == out.name):
                        outputs[-1].text += out.text
                    else:
                        outputs.append(out)
            else:
                try:
                    msg = self.kc.get_shell_msg(timeout=min(remaining, 0.25))
                except queue.Empty:
                    if not self.km.is_alive():
                        raise _Dead(outputs) from None
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg["content"]
        return reply, outputs

    def _pid(self) -> int | None:
        try:
            return self.km.provisioner.process.pid
        except AttributeError:
            return None

    def close(self) -> None:
        pid = getattr(self, "pid", None)
        try:
            self.kc.stop_channels()
        except Exception:
            pass
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:
            pass
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        with _LIVE_LOCK:
            _LIVE.discard(pid)
            others = set(_LIVE)
        # our kernel's orphans were re-parented to us (child subreaper): kill them too
        stray = [p for p in _children_of(os.getpid())
                 if p not in self.pre_children and p not in others]
        _kill_tree(stray)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _error_text(outputs: list) -> str:
    for out in outputs:
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}".strip()
    return ""


def _short(text: str, n: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def grade_task(task: dict) -> dict:
    """Execute one assembled notebook; return its executed cells and the outcome of each test.

    ``task`` holds: ``id``, ``notebook`` (JSON text), ``roles`` (one per cell), ``test_ids``
    (cell index -> grade_id), ``reimports`` (the course's import lines), ``limits`` (dict of
    :class:`Limits` fields), ``preload`` (modules to import and protect before learner code).
    The result holds ``id``, ``notebook`` (executed, JSON text), ``tests`` (grade_id ->
    {"status": passed|failed|not run|deleted, "message": …}), ``events`` and ``seconds``.
    """
    _set_subreaper()
    t0 = time.monotonic()
    limits = Limits(**task.get("limits", {}))
    nb = nbformat.reads(task["notebook"], as_version=4)
    roles = task["roles"]
    test_ids = {int(k): v for k, v in task["test_ids"].items()}
    tests: dict[str, dict] = {
        gid: {"status": "not run", "message": ""} for gid in test_ids.values()
    }
    events: list[str] = []
    deadline = t0 + limits.notebook_timeout
    kernel = None
    count = 0
    try:
        kernel = Kernel(limits, task.get("preload", ["numpy", "numpy.testing", "math"]))
        for idx, cell in enumerate(nb.cells):
            role = roles[idx]
            gid = test_ids.get(idx)
            if role == DELETED:
                tests[gid] = {"status": "deleted", "message": "the test cell was deleted"}
                continue
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                events.append("the notebook ran out of its total time; the rest was not run")
                break
            timeout = min(limits.cell_timeout, left)
            code = cell.source
            token = None
            if role == TEST:
                gtoken = secrets.token_hex(16)
                try:
                    reply, _ = kernel.execute(
                        "", timeout, store_history=False,
                        user_expressions={"g": _GUARD_EXPR.format(
                            token=gtoken, names=tuple(task.get("course_names", ())))},
                    )
                except _Timeout:
                    reply = {}
                ue = (reply or {}).get("user_expressions", {}).get("g", {})
                if ue.get("status") != "ok" or gtoken[::-1] not in str(
                        ue.get("data", {}).get("text/plain", "")):
                    events.append(
                        f"before {gid}: the grader's guard could not run (the kernel was "
                        "tampered with); the remaining tests score 0")
                    break
                for line in task.get("reimports", []):
                    kernel.execute("", timeout, store_history=False,
                                   user_expressions={"i": _REIMPORT.format(code=line)})
                token = secrets.token_hex(16)
                code = code.rstrip() + f"\n\nprint({token!r})\n"
            count += 1
            try:
                reply, outs = kernel.execute(code, timeout)
            except _Timeout as exc:
                outs = list(exc.args[0]) if exc.args else []
                outs.append(nbformat.v4.new_output(
                    "error", ename="CellTimeoutError", evalue=f"cell still running after {timeout:.0f} s",
                    traceback=[f"CellTimeoutError: the cell was stopped after {timeout:.0f} s"]))
                cell.outputs = outs
                events.append(f"cell {idx} ({gid or role}) timed out; the kernel was stopped and "
                              "the rest of the notebook was not run")
                if gid:
                    tests[gid] = {"status": "failed", "message": "timed out"}
                break
            except _Dead as exc:
                outs = list(exc.args[0]) if exc.args and isinstance(exc.args[0], list) else []
                outs.append(nbformat.v4.new_output(
                    "error", ename="DeadKernelError", evalue="the kernel died",
                    traceback=["DeadKernelError: the kernel died (it exited, or ran out of memory "
                               "or CPU time)"]))
                cell.outputs = outs
                events.append(f"the kernel died in cell {idx} ({gid or role}); the rest of the "
                              "notebook was not run")
                if gid:
                    tests[gid] = {"status": "failed", "message": "the kernel died"}
                break
            cell.execution_count = count
            if token is not None:
                seen = False
                for out in outs:
                    if out.output_type == "stream" and out.name == "stdout" and token in out.text:
                        seen = True
                        out.text = out.text.replace(token + "\n", "").replace(token, "")
                outs = [o for o in outs if not (o.output_type == "stream" and not o.text)]
                err = _error_text(outs)
                if err or reply.get("status") == "error":
                    tests[gid] = {"status": "failed", "message": err or "error"}
                elif not seen:
                    tests[gid] = {"status": "failed",
                                  "message": "the test did not run to its end"}
                else:
                    tests[gid] = {"status": "passed", "message": ""}
            cell.outputs = outs
    except _Dead as exc:
        events.append(_short(str(exc.args[0]) if exc.args else "the kernel died"))
    except Exception as exc:  # never let one submission stop the batch
        events.append(f"grader error: {type(exc).__name__}: {_short(str(exc))}")
    finally:
        if kernel is not None:
            kernel.close()
    for res in tests.values():
        res["message"] = _short(res["message"])
    return {
        "id": task.get("id"),
        "notebook": nbformat.writes(nb),
        "tests": tests,
        "events": events,
        "seconds": time.monotonic() - t0,
    }


def limits_dict(limits: Limits) -> dict:
    return asdict(limits)
