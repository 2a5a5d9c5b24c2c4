"""Attacks on the grader's isolation (issue 14, classes 4-8), each with the score it must get.

- The sandbox itself (grading.jail): what a program inside sees, what it can write, signal,
  connect to and leave behind, and the per-sandbox process limit.
- A whole batch (tests/fixtures/grading/isolation_attacks.py: files of the course, neighbours,
  fork bombs, daemons, /tmp files, huge errors, the grader's own files, review flags) beside
  honest and blank students, run once as root and once as an ordinary user (uid 65534).
- Infrastructure failures: a sandbox that does not start is retried, then reported NOT GRADED
  (never 0), and the next autograde grades exactly those.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from grading import cli, jail, review
from grading import course as C
from grading.settings import REPO, Course, Limits

FIXTURE = Path(__file__).parent / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURE))
import isolation_attacks as A  # noqa: E402
import make_submissions as M  # noqa: E402 - one module object, shared with isolation_attacks

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="bubblewrap needs Linux")]
LIMITS = Limits(processes=64)


def run_jailed(code: str, tmp: Path, readonly=(), sandbox: bool = True, timeout: float = 120,
               limits: Limits = LIMITS) -> tuple[int, str, str]:
    scratch = tmp / "scratch"
    scratch.mkdir(exist_ok=True)
    (scratch / "given.txt").write_text("the one notebook")
    proc = jail.start([sys.executable, "-I", "-c", code], scratch=scratch, readonly=list(readonly),
                      limits=limits, env={}, sandbox=sandbox)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        jail.stop(proc)
    return proc.returncode, out.decode(), err.decode()


def wait_until(condition, seconds: float = 60) -> bool:
    """Poll `condition()` until it is true or `seconds` pass (a loaded machine is slow to fork)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def processes_with(word: str) -> list[int]:
    """The pids of `sleep WORD` processes (what the attacks leave behind)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            if cmd == f"sleep\0{word}\0":
                pids.append(int(entry))
    return pids


# -- the sandbox ---------------------------------------------------------------------------------
def test_the_sandbox_holds_only_what_it_is_given(tmp_path):
    course_root = tmp_path / "course"
    (course_root / "submitted" / "ann").mkdir(parents=True)
    (course_root / "gradebook.db").write_text("x")
    hidden = [REPO / "notebooks", REPO / "grading" / "course.py", REPO / "tests", REPO / ".git",
              course_root / "gradebook.db", course_root / "submitted", Path("/etc/shadow"),
              Path(tmp_path)]
    code = (
        "import json, os\n"
        f"seen = [p for p in {[str(p) for p in hidden]!r} if os.path.exists(p)]\n"
        "writes = []\n"
        f"for p in [{str(REPO / 'helpers' / 'x.py')!r}, {sys.prefix + '/x.pth'!r}, '/usr/x']:\n"
        "    try:\n        open(p, 'w').write('x'); writes.append(p)\n"
        "    except OSError:\n        pass\n"
        "print(json.dumps({'seen': seen, 'writes': writes, 'uid': os.getuid(), 'gid': os.getgid(),"
        " 'cwd': os.getcwd(), 'given': open('given.txt').read(),"
        f" 'helpers': os.path.isfile({str(REPO / 'helpers' / '__init__.py')!r})}}))\n"
    )
    rc, out, err = run_jailed(code, tmp_path, readonly=[REPO / "helpers"])
    assert rc == 0, err
    got = json.loads(out)
    assert got["seen"] == [] and got["writes"] == []
    assert (got["uid"], got["gid"]) == (65534, 65534)
    assert got["cwd"] == str(jail.SCRATCH) and got["given"] == "the one notebook"
    assert got["helpers"]
    # the same probe without the sandbox sees the course: the check above can fail
    probe = f"import os\nprint(os.path.exists({str(REPO / 'notebooks')!r}))"
    assert run_jailed(probe, tmp_path, sandbox=False)[1].strip() == "True"
    assert run_jailed(probe, tmp_path)[1].strip() == "False"


def test_a_read_only_path_under_tmp_is_visible_and_read_only(tmp_path):
    given = tmp_path / "course_copy" / "helpers"
    given.mkdir(parents=True)
    (given / "mod.py").write_text("X = 1\n")
    code = (f"import os\nprint(open({str(given / 'mod.py')!r}).read().strip())\ntry:\n"
            f"    open({str(given / 'new.py')!r}, 'w')\nexcept OSError as e:\n    print(e.errno)")
    rc, out, err = run_jailed(code, tmp_path, readonly=[given])
    assert rc == 0, err
    assert out.split() == ["X", "=", "1", "30"]


def test_only_the_named_paths_under_the_repository_exist_inside(tmp_path):
    code = (f"import os\nprint(sorted(os.listdir({str(REPO)!r})))")
    rc, out, err = run_jailed(code, tmp_path, readonly=[REPO / "helpers"])
    assert rc == 0, err
    assert set(eval(out)) <= {"helpers", ".venv"}, out


def test_no_network_not_even_the_hosts_loopback(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        code = ("import socket\ns = socket.socket()\ns.settimeout(3)\ntry:\n"
                f"    s.connect(('127.0.0.1', {port})); print('connected')\n"
                "except OSError as e:\n    print('refused')")
        rc, out, err = run_jailed(code, tmp_path)
        assert rc == 0, err
        assert out.strip() == "refused"
        rc, out, _ = run_jailed(code, tmp_path, sandbox=False)
        assert out.strip() == "connected"  # the probe can fail
    finally:
        server.close()


def test_only_the_size_capped_tmpfs_are_writable(tmp_path):
    """bubblewrap's own / and /dev are uncapped tmpfs: they must be read-only inside."""
    code = ("import os\nout = []\nfor d in ('/', '/work', '/etc', '/root', '/dev', '/var', '/usr',"
            " '/scratch', '/tmp', '/var/tmp', '/dev/shm'):\n    try:\n"
            "        open(d.rstrip('/') + '/probe', 'w').write('x'); out.append(d)\n"
            "    except OSError:\n        pass\nopen('/dev/null', 'w').write('x')\nprint(out)")
    rc, out, err = run_jailed(code, tmp_path)
    assert rc == 0, err
    assert eval(out) == ["/scratch", "/tmp", "/var/tmp", "/dev/shm"]


def test_proc_and_sysctls_are_read_only(tmp_path):
    code = ("v = open('/proc/sys/kernel/core_pattern').read()\ntry:\n"
            "    open('/proc/sys/kernel/core_pattern', 'w').write(v); print('wrote')\n"
            "except OSError as e:\n    print(e.errno)")
    rc, out, err = run_jailed(code, tmp_path)
    assert rc == 0, err
    assert out.strip() == "30"  # EROFS


def test_tmp_files_stay_in_the_sandbox(tmp_path):
    mark = f"jailmark{os.getpid()}{time.monotonic_ns()}"
    host_file = Path("/tmp") / f"{mark}.host"
    host_file.write_text("host")
    try:
        code = (f"import os\nprint(os.path.exists({str(host_file)!r}))\n"
                f"for d in ('/tmp', '/var/tmp', '/dev/shm', '.'):\n"
                f"    open(d + '/{mark}', 'w').write('x')\nprint('written')")
        rc, out, err = run_jailed(code, tmp_path)
        assert rc == 0, err
        assert out.split() == ["False", "written"]
        for d in ("/tmp", "/var/tmp", "/dev/shm", str(tmp_path / "scratch")):
            assert not (Path(d) / mark).exists()
    finally:
        host_file.unlink()


def test_file_size_and_tmpfs_are_capped(tmp_path):
    lim = Limits(file_bytes=1024**2, tmpfs_bytes=4 * 1024**2, processes=64)
    code = ("import errno\nres = []\nfor path in ('/tmp/big', '/scratch/a', '/scratch/b', "
            "'/scratch/c', '/scratch/d', '/scratch/e'):\n    try:\n"
            "        open(path, 'wb').write(b'x' * (1024**2 - 1)); res.append('ok')\n"
            "    except OSError as e:\n        res.append(errno.errorcode[e.errno])\n"
            "try:\n    open('/tmp/huge', 'wb').write(b'x' * 2 * 1024**2)\n"
            "except OSError as e:\n    res.append(errno.errorcode[e.errno])\nprint(res)")
    rc, out, err = run_jailed(code, tmp_path, limits=lim)
    assert rc == 0, err
    res = eval(out)
    assert "ENOSPC" in res[1:6]  # the 4 MiB scratch tmpfs fills up
    assert res[-1] == "EFBIG"  # RLIMIT_FSIZE


def test_the_process_limit_holds_per_sandbox_and_stop_kills_everything(tmp_path):
    mark = f"{4000 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"
    bomb = ("import os\nn = 0\nwhile n < 5000:\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n"
            f"        os.execv('/usr/bin/sleep', ['sleep', '{mark}'])\n    n += 1\n"
            "print(n, flush=True)\nimport time\ntime.sleep(600)")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = jail.start([sys.executable, "-I", "-c", bomb], scratch=tmp_path / "a", readonly=[],
                   limits=LIMITS, env={})
    try:
        forked = int(a.stdout.readline())
        assert forked < LIMITS.processes
        assert LIMITS.processes // 2 < forked
        # the children exec `sleep` after the fork; on a loaded machine that can take a while
        assert wait_until(lambda: processes_with(mark)) and len(processes_with(mark)) <= forked
        # a neighbour sandbox still forks freely
        rc, out, err = run_jailed("import os\nfor i in range(20):\n    p = os.fork()\n"
                                  "    if p == 0:\n        os._exit(0)\n    os.waitpid(p, 0)\n"
                                  "print('ok')", tmp_path / "b")
        assert out.strip() == "ok", err
    finally:
        jail.stop(a)
    assert wait_until(lambda: processes_with(mark) == [])


ORDINARY_USER_LIMIT = """
import os, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from grading import jail
from grading.settings import Limits
lim = Limits(processes=32)
bomb = ("import os, time\\nn = 0\\nwhile n < 3000:\\n    try:\\n        pid = os.fork()\\n"
        "    except OSError:\\n        break\\n    if pid == 0:\\n        time.sleep(60)\\n"
        "        os._exit(0)\\n    n += 1\\nprint(n, flush=True)\\ntime.sleep(60)")
a = jail.start([sys.executable, "-I", "-c", bomb], scratch=Path(tempfile.mkdtemp()), readonly=[],
               limits=lim, env={})
first = a.stdout.readline().strip().decode()
b = jail.start([sys.executable, "-I", "-c", "import os\\nfor i in range(20):\\n    p = os.fork()\\n"
                "    if p == 0:\\n        os._exit(0)\\n    os.waitpid(p, 0)\\nprint(os.getuid())"],
               scratch=Path(tempfile.mkdtemp()), readonly=[], limits=lim, env={})
print(os.getuid(), first, b.communicate()[0].decode().strip(), a.cgroup)
jail.stop(a)
jail.stop(b)
"""


def test_the_process_limit_holds_per_sandbox_as_an_ordinary_user(tmp_path):
    """As an ordinary user, RLIMIT_NPROC counts per user namespace: one sandbox's fork bomb
    stops at its limit while a neighbour sandbox of the same uid still forks."""
    cmd = [sys.executable, "-c", ORDINARY_USER_LIMIT, str(REPO)]
    if os.geteuid() == 0:
        if subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode:
            pytest.skip("cannot make a mount namespace to run as uid 65534 here")
        cmd = ["unshare", "--mount", "--propagation", "private", "--", sys.executable,
               str(FIXTURE / "as_user.py"), "65534", "65534", "--", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd="/")
    assert r.returncode == 0, r.stderr[-3000:]
    uid, forked, neighbour, cgroup = r.stdout.split()
    assert uid != "0" and cgroup == "None"
    assert 16 < int(forked) < 32 and neighbour == "65534"


def test_a_daemon_that_left_its_session_dies_with_the_sandbox(tmp_path):
    mark = f"{5000 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"
    code = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            f"        os.execv('/usr/bin/sleep', ['sleep', '{mark}'])\n    os._exit(0)\n"
            # wait (inside the sandbox) until the daemon runs, then stay alive for the check
            "def seen():\n    for e in os.listdir('/proc'):\n        try:\n"
            "            if open(f'/proc/{e}/cmdline', 'rb').read().endswith("
            f"b'{mark}\\0'):\n                return True\n        except OSError:\n"
            "            pass\n    return False\nfor _ in range(2400):\n    if seen():\n"
            "        break\n    time.sleep(0.05)\n"
            "print('parent done', flush=True)\ntime.sleep(600)")
    (tmp_path / "s").mkdir()
    proc = jail.start([sys.executable, "-I", "-c", code], scratch=tmp_path / "s", readonly=[],
                      limits=LIMITS, env={})
    assert proc.stdout.readline().strip() == b"parent done"
    assert processes_with(mark)
    jail.stop(proc)
    assert wait_until(lambda: processes_with(mark) == [])


def test_cgroups_of_a_killed_grader_are_removed():
    parent = jail.pids_cgroup_parent()
    if os.geteuid() != 0 or parent is None:
        pytest.skip("pids cgroups are used only when the grader is root")
    dead = _dead_pid()
    stale = parent / f"grading-jail-{dead}-0000"
    stale.mkdir()
    fresh = jail.make_pids_cgroup(8)
    try:
        assert not stale.exists() and fresh.exists()
        assert (fresh / "pids.max").read_text().strip() == "8"
    finally:
        jail.remove_cgroup(fresh)
    assert not fresh.exists()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_missing_bubblewrap_is_explained(monkeypatch):
    monkeypatch.setattr(jail, "BWRAP", "/nonexistent/bwrap")
    with pytest.raises(jail.SandboxUnavailable, match="apt-get install bubblewrap"):
        jail.check_available()


def test_blocked_user_namespaces_are_explained(monkeypatch):
    values = {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1"}
    monkeypatch.setattr(jail, "_read", lambda path: values.get(path))
    hint = jail._userns_hint()
    assert "apparmor_restrict_unprivileged_userns" in hint and "/etc/apparmor.d/bwrap" in hint
    values = {"/proc/sys/kernel/unprivileged_userns_clone": "0"}
    assert "sysctl kernel.unprivileged_userns_clone=1" in jail._userns_hint()


def test_bwrap_command_line():
    args = jail.bwrap_args(["python"], readonly=[REPO / "helpers"], limits=LIMITS,
                           files=[(7, "/scratch/nb.ipynb")], data=[])
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-net", "--die-with-parent",
                 "--new-session", "--disable-userns"):
        assert flag in args
    assert args[args.index("--uid") + 1] == "65534"
    assert ["--ro-bind", str(REPO / "helpers"), str(REPO / "helpers")] == args[
        args.index(str(REPO / "helpers")) - 1: args.index(str(REPO / "helpers")) + 2]
    assert "--nproc=64" in args and str(REPO / "grading") not in " ".join(args)


def test_outputs_are_capped_whatever_their_kind():
    nb = C.nbformat.v4.new_notebook()
    cell = C.nbformat.v4.new_code_cell("x")
    cell.outputs = [
        C.nbformat.v4.new_output("stream", name="stdout", text="s" * 50_000),
        C.nbformat.v4.new_output("error", ename="ValueError", evalue="e" * 50_000,
                                 traceback=["t" * 50_000] * 10),
        C.nbformat.v4.new_output("display_data", data={"text/plain": "d" * 50_000}),
    ]
    nb.cells.append(cell)
    C.cap_outputs(nb, 20_000)
    assert len(json.dumps(nb.cells[0].outputs)) < 40_000
    assert "[output cut" in nb.cells[0].outputs[-1]["text"]


# -- review flags (class 7) ----------------------------------------------------------------------
@pytest.mark.parametrize("code", [
    'import sys\ngetattr(sys, "set" + "trace")(None)',
    "import sys\nsys._getframe(1).f_locals",
    "import os\nos.kill(1, 9)",
    "x = (1).__class__.__mro__[-1].__subclasses__()",
    "class Yes(float):\n    def __eq__(self, other):\n        return True",
    "exec('print(1)')",
    "import numpy as np\nnp.allclose = lambda *a, **k: True",
])
def test_review_flags_kinds_of_operation(code):
    assert review.flags(code)


def test_an_indented_magic_hides_no_other_flag():
    """Magics are stripped as the grader runs the cell (indentation kept), so the code still
    parses and the other flags are still seen."""
    flagged = review.flags("import os\nfor i in range(3):\n    %time x = i\n    y = i\n")
    assert flagged == ["IPython magic or shell command", "imports os"]


def test_review_flags_leave_honest_code_alone():
    for code in [*M.RIGHT.values(), *M.WRONG.values(),
                 "import numpy as np\ndef f(x, k=2):\n    return np.maximum(0, x) ** k"]:
        assert review.flags(code) == [], code


# -- a batch beside honest and blank students, as root and as an ordinary user ------------------
def _run_batch(tmp: Path, mode: str, mark: str) -> dict:
    env = {**os.environ, "HOME": str(tmp), "OPENBLAS_NUM_THREADS": "1",
           "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
    cmd = [sys.executable, str(FIXTURE / "run_batch.py"), str(tmp), mark]
    if mode == "user" and os.geteuid() == 0:
        os.chown(tmp, 65534, 65534)
        cmd = ["unshare", "--mount", "--propagation", "private", "--", sys.executable,
               str(FIXTURE / "as_user.py"), "65534", "65534", "--", *cmd]
    r = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads((tmp / "outcomes.json").read_text())


MODES = ["root", "user"]


@pytest.fixture(scope="module", params=MODES)
def batch(request):
    mode = request.param
    if mode == "root" and os.geteuid() != 0:
        pytest.skip("the grader does not run as root here (the ordinary-user run covers it)")
    if mode == "user" and os.geteuid() == 0 and subprocess.run(
            ["unshare", "--mount", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a mount namespace to run the grader as uid 65534 here")
    # not under pytest's 0700 folder: uid 65534 must reach it in the ordinary-user run
    tmp = Path(tempfile.mkdtemp(prefix=f"grading-isolation-{mode}-"))
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    mark = f"{6000 + os.getpid() % 1000}.{time.monotonic_ns() % 10**6}"
    site = sorted(Path(sys.prefix).glob("lib/python3*/site-packages"))[0]
    pth_before = sorted(p.name for p in site.glob("*.pth"))
    outcomes = _run_batch(tmp, mode, mark)
    return dict(mode=mode, tmp=tmp, mark=mark, outcomes=outcomes, site=site,
                pth_before=pth_before)


EXPECTED = {**A.HONEST, **{name: spec[2] for name, spec in A.ATTACKS.items()}}


@pytest.mark.slow
@pytest.mark.xdist_group("grading_isolation")
@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_score(batch, student):
    got = batch["outcomes"][student]
    assert got["status"] == "graded", got
    assert got["score"] == EXPECTED[student], (batch["mode"], got)


@pytest.mark.slow
@pytest.mark.xdist_group("grading_isolation")
def test_nothing_outside_the_sandboxes_changed(batch):
    mark, tmp = batch["mark"], batch["tmp"]
    for d in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not (Path(d) / mark).exists()
    assert processes_with(mark) == []
    # (a digest would catch a colleague's edits made meanwhile: look for the attacks' mark)
    for d in ("grading", "helpers"):
        for p in (REPO / d).rglob("*.py"):
            assert mark not in p.read_text(), p
    assert sorted(p.name for p in batch["site"].glob("*.pth")) == batch["pth_before"]
    extra = tmp / "extra" / "helpers"
    assert mark not in "".join(p.read_text() for p in extra.glob("*.py"))
    db = sqlite3.connect(tmp / "course" / "gradebook.db")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    manual = db.execute("SELECT COUNT(*) FROM grade WHERE manual_score IS NOT NULL").fetchone()
    db.close()
    assert mark not in tables and manual[0] == 0
    assert "was modified while submissions ran" not in (tmp / "log.txt").read_text()


@pytest.mark.slow
@pytest.mark.xdist_group("grading_isolation")
def test_no_secret_reaches_an_attackers_output_and_outputs_are_capped(batch):
    auto = batch["tmp"] / "course" / "autograded"
    for name in ("steal_grades", "steal_solutions", "steal_classmates", "connect_neighbour"):
        nb = json.loads((auto / name / M.AID / f"{M.AID}.ipynb").read_text())
        outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
        assert "victim" not in outputs and "BEGIN SOLUTION" not in outputs, outputs[:2000]
        assert "solutions found: []" in outputs or name != "steal_solutions"
        assert "kernel files: 0 reached: []" in outputs or name != "connect_neighbour"
    big = auto / "big_errors" / M.AID / f"{M.AID}.ipynb"
    page = batch["tmp"] / "course" / "feedback" / "big_errors" / M.AID / f"{M.AID}.html"
    assert big.stat().st_size < 1_000_000 and page.stat().st_size < 1_000_000


@pytest.mark.slow
@pytest.mark.xdist_group("grading_isolation")
def test_attacks_are_flagged_and_honest_students_are_not(batch):
    out = batch["outcomes"]
    for name in A.ATTACKS:
        if name != "big_errors":  # an error is not an attack on the grader
            assert out[name]["suspicious"], name
    for name in A.HONEST:
        assert out[name]["suspicious"] == [], (name, out[name]["suspicious"])


# -- infrastructure failures (class 8) -----------------------------------------------------------
def _small_course(tmp: Path, students: list[str]) -> Course:
    """The fixture course with a correct submission collected from each of ``students``."""
    return M.collected_course(tmp, dict.fromkeys(students, "correct"))[0]


@pytest.mark.slow
def test_a_sandbox_that_fails_to_start_is_retried(tmp_path, monkeypatch):
    course = _small_course(tmp_path, ["ann", "bob"])
    real_start, calls = jail.start, []

    def flaky_start(*args, **kw):
        calls.append(1)
        if len(calls) in (2, 3):  # the 1st is autograde's check that the sandbox works
            raise OSError("injected: the sandbox did not start")
        return real_start(*args, **kw)

    monkeypatch.setattr(jail, "start", flaky_start)
    with redirect_stdout(io.StringIO()) as log:
        out = C.autograde(course, workers=1, backoff=0.01)
    assert {s: (o.status, o.score) for (s, _), o in out.items()} == {
        "ann": ("graded", 6), "bob": ("graded", 6)}, log.getvalue()
    assert "retrying" in log.getvalue()


@pytest.mark.slow
def test_a_submission_that_stays_ungraded_is_never_a_zero(tmp_path, monkeypatch):
    course = _small_course(tmp_path, ["ann", "broken"])
    real = C.grade_task

    def injected(task):
        if task["id"][0] == "broken":
            return {"id": task["id"], "status": "not_graded", "reason": "injected: no kernel",
                    "tests": {}, "events": [], "seconds": 0.0, "notebook": task["notebook"]}
        return real(task)

    monkeypatch.setattr(C, "grade_task", injected)
    with redirect_stdout(io.StringIO()) as log:
        out = C.autograde(course, workers=1, retries=2, backoff=0.01)
        wide, long = C.export(course)
        C.feedback(course)
    assert out[("broken", M.AID)].status == "not_graded"
    assert out[("ann", M.AID)].score == 6
    assert log.getvalue().count("retrying") == 2
    report = (course.root / "reports" / "autograde_report.txt").read_text()
    assert "broken / 01_fixture: NOT GRADED (injected: no kernel)" in report
    rows = {r.split(",")[0]: r.split(",")[1:] for r in wide.read_text().splitlines()}
    assert rows["broken"] == ["not graded"] * 5 and rows["ann"][-1] == "6"
    assert "broken,01_fixture,scale,test_scale,not graded" in long.read_text()
    db = sqlite3.connect(course.db_path)
    scores = db.execute(
        """SELECT grade.auto_score FROM grade
           JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
           JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
           WHERE submitted_assignment.student_id = 'broken'""").fetchall()
    db.close()
    assert scores and all(s[0] is None for s in scores)
    assert not (course.root / "feedback" / "broken").exists()
    assert C.not_graded(course) == [f"broken/{M.AID}"]

    # the command line says so and exits non-zero…
    monkeypatch.setenv("GRADING_SOURCE_DIR", str(course.source_dir))
    monkeypatch.setenv("GRADING_COURSE_ROOT", str(course.root))
    with redirect_stdout(io.StringIO()):
        assert cli.main(["autograde", "--workers", "1", "--retries", "0"]) == 1
    # …and once the sandbox works again, the next run grades exactly the ungraded one
    monkeypatch.setattr(C, "grade_task", real)
    with redirect_stdout(io.StringIO()):
        again = C.autograde(course, workers=1)
    assert list(again) == [("broken", M.AID)] and again[("broken", M.AID)].score == 6
    assert C.not_graded(course) == []
    with redirect_stdout(io.StringIO()):
        assert cli.main(["autograde", "--workers", "1"]) == 0


@pytest.mark.slow
def test_without_the_sandbox_autograde_refuses_unless_told(tmp_path, monkeypatch):
    course = _small_course(tmp_path, ["ann"])

    def unavailable(limits=None):
        raise jail.SandboxUnavailable("bwrap is missing (test)")

    monkeypatch.setattr(jail, "check_available", unavailable)
    with pytest.raises(C.GradingError, match="--no-sandbox"):
        C.autograde(course, workers=1)
    with redirect_stdout(io.StringIO()) as log:
        out = C.autograde(course, workers=1, sandbox=False)
    assert "WARNING: --no-sandbox" in log.getvalue()
    assert out[("ann", M.AID)].score == 6
