"""Start one untrusted program (a learner's kernel) inside a bubblewrap sandbox.

:func:`start` runs ``argv`` under ``/usr/bin/bwrap`` with

- a private mount namespace that holds only: ``/usr`` and the few ``/etc`` files programs need
  (read-only), the Python interpreter and the venv (read-only, at their own paths), the paths the
  caller lists in ``readonly`` (read-only, at their own paths, e.g. ``helpers/`` and ``data/``),
  a fresh ``/proc`` and a minimal ``/dev``, size-capped tmpfs on ``/tmp``, ``/var/tmp``,
  ``/dev/shm`` and on :data:`SCRATCH`, into which the files of the caller's ``scratch`` folder are
  *copied* (nothing written inside ever reaches the host);
- its own pid namespace (killing the ``Popen`` kills everything inside: ``--die-with-parent``),
  no network (only a private loopback), its own IPC and UTS namespaces, a new session, no
  capabilities, no nested user namespaces;
- uid/gid 65534 inside bubblewrap's own user namespace, which maps it to the grader's uid
  outside (so, when the grader runs as root, to root: without any capability outside the
  namespaces, with ``no_new_privs``, and in a mount namespace where everything but its tmpfs is
  read-only; see grading/README.md for what that leaves);
- rlimits for CPU, address space, file size, core dumps and process count, set by
  ``/usr/bin/prlimit`` *inside* the namespaces before ``argv`` runs (so they cannot be raised).
  Since Linux 5.14, RLIMIT_NPROC is counted per (user namespace, uid): every sandbox has its own
  user namespace, so the process limit holds per sandbox, even though all run as the same uid
  (a test checks it: a fork bomb in one sandbox does not stop another from forking).

``sandbox=False`` (the instructor's explicit ``--no-sandbox``) runs ``argv`` directly, as the
grader's own user, with the same rlimits except the process count, in its own session.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Sequence
from pathlib import Path

from .settings import Limits

BWRAP = "/usr/bin/bwrap"
PRLIMIT = "/usr/bin/prlimit"
SCRATCH = Path("/scratch")  # the sandbox's working folder and HOME
SANDBOX_UID = 65534
SANDBOX_NAME = "nobody"

# files of /etc that ordinary programs read; nothing else of /etc exists inside
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "mime.types",
        "fonts", "nsswitch.conf")
_PASSWD = f"{SANDBOX_NAME}:x:{SANDBOX_UID}:{SANDBOX_UID}:learner:{SCRATCH}:/usr/sbin/nologin\n"
_GROUP = f"nogroup:x:{SANDBOX_UID}:\n"
_HOSTS = "127.0.0.1 localhost\n::1 localhost\n"


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start on this machine; the message says why and how to fix it."""


def interpreter_paths() -> list[Path]:
    """The folders the interpreter needs (installation, venv), outside /usr."""
    cands = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
             sysconfig.get_paths()["stdlib"]}
    paths = sorted({Path(os.path.realpath(p)) for p in cands if p})
    keep = [p for p in paths if not _under(p, Path("/usr")) and p != Path("/")]
    return [p for p in keep if not any(q != p and _under(p, q) for q in keep)]


def _under(path: Path, top: Path) -> bool:
    return path == top or top in path.parents


def _system_args() -> list[str]:
    """/usr read-only, the merged-/usr symlinks as on the host, and a few /etc files."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    for name in _ETC:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def _tmpfs(dest: str, size: int, perms: str = "1777") -> list[str]:
    return ["--perms", perms, "--size", str(int(size)), "--tmpfs", dest]


def _scratch_files(scratch: Path) -> list[tuple[Path, str]]:
    """(host file, path inside) for every regular file under ``scratch`` (symlinks skipped)."""
    out = []
    for path in sorted(scratch.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out.append((path, str(SCRATCH / path.relative_to(scratch))))
    return out


def rlimit_args(limits: Limits, processes: bool = True) -> list[str]:
    """The prlimit options for ``limits`` (soft = hard: nothing inside can raise them)."""
    cpu = int(limits.cpu_seconds)
    args = [f"--cpu={cpu}:{cpu}", f"--as={int(limits.memory_bytes)}",
            f"--fsize={int(limits.file_bytes)}", "--core=0"]
    if processes:
        args.append(f"--nproc={int(limits.processes)}")
    return args


def bwrap_args(
    argv: Sequence[str],
    *,
    readonly: Sequence[Path],
    limits: Limits,
    files: Sequence[tuple[int, str]],
    data: Sequence[tuple[int, str]],
) -> list[str]:
    """The whole bubblewrap command line.

    ``files``: (fd, path inside SCRATCH) copied into the scratch tmpfs; ``data``: (fd, path) of
    small read-only files made from bytes (passwd, group, hosts)."""
    args = [BWRAP, "--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID),
            "--gid", str(SANDBOX_UID), "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    args += _system_args()
    for fd, dest in data:
        args += ["--ro-bind-data", str(fd), dest]
    # /proc read-only: in a user namespace made by root, the sandbox's uid is root outside, and
    # the kernel lets root's uid write global sysctls (/proc/sys/kernel/core_pattern…) by
    # ownership alone; bubblewrap itself leaves /proc/sys writable
    args += ["--proc", "/proc", "--remount-ro", "/proc", "--dev", "/dev"]
    for dest in ("/tmp", "/var/tmp", "/dev/shm"):
        args += _tmpfs(dest, limits.tmpfs_bytes)
    # after the tmpfs mounts, so that a read-only path under /tmp is not covered by them
    for path in [*interpreter_paths(), *readonly]:
        p = os.path.realpath(path)
        args += ["--ro-bind", p, p]
        if str(path) != p:  # also reachable under the name the caller used
            args += ["--symlink", p, str(path)]
    args += _tmpfs(str(SCRATCH), limits.tmpfs_bytes)
    made = {str(SCRATCH)}
    for fd, dest in files:
        for parent in reversed(Path(dest).parents):
            if str(parent) not in made and _under(parent, SCRATCH):
                args += ["--perms", "1777", "--dir", str(parent)]
                made.add(str(parent))
        args += ["--perms", "0666", "--file", str(fd), dest]
    # bubblewrap's own root and /dev are tmpfs without a size limit, owned by the sandbox's
    # uid: read-only once everything is mounted (the capped tmpfs above stay writable)
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    args += ["--chdir", str(SCRATCH), "--", PRLIMIT, *rlimit_args(limits), "--", *argv]
    return args


def sandbox_env(env: dict[str, str]) -> dict[str, str]:
    """The program's whole environment: ``env`` over a few defaults."""
    base = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
        "HOME": str(SCRATCH),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "USER": SANDBOX_NAME,
        "LOGNAME": SANDBOX_NAME,
    }
    return {**base, **env}


def _data_fd(text: str) -> int:
    """A pipe's read end holding ``text`` (small: fits in the pipe buffer)."""
    r, w = os.pipe()
    try:
        os.write(w, text.encode())
    finally:
        os.close(w)
    return r


class Jailed(subprocess.Popen):
    """The sandbox's bubblewrap process (and, as root, the pids cgroup holding the sandbox)."""

    cgroup: Path | None = None


# -- the process limit when the grader is root ---------------------------------------------------
CGROUP_ROOT = Path("/sys/fs/cgroup")


def pids_cgroup_parent() -> Path | None:
    """Where per-sandbox pids cgroups can be made (cgroup v2 or v1's pids hierarchy), or None."""
    v2 = CGROUP_ROOT / "cgroup.controllers"
    if v2.exists():
        own = _read("/proc/self/cgroup") or ""
        rel = next((ln.split("::", 1)[1] for ln in own.splitlines() if ln.startswith("0::")), "/")
        parent = CGROUP_ROOT / rel.lstrip("/")
        ctl = _read(str(parent / "cgroup.controllers")) or ""
        return parent if "pids" in ctl.split() else None
    v1 = CGROUP_ROOT / "pids"
    return v1 if (v1 / "cgroup.procs").exists() else None


def make_pids_cgroup(limit: int) -> Path:
    """A fresh cgroup allowing at most ``limit`` processes (threads included).

    Needed when the grader runs as root: the kernel never applies RLIMIT_NPROC to processes
    whose real uid is root, which is what bubblewrap's sandbox uid maps to in that case."""
    parent = pids_cgroup_parent()
    if parent is None or not os.access(parent, os.W_OK):
        raise SandboxUnavailable(
            "the grader runs as root, where the kernel ignores the per-sandbox process limit "
            "(RLIMIT_NPROC), and no writable pids cgroup was found under /sys/fs/cgroup to "
            "limit processes instead. Run the grader as an ordinary user (recommended), or "
            "mount the cgroup filesystem read-write (in Docker: --cgroupns=private and a "
            "writable /sys/fs/cgroup).")
    if (parent / "cgroup.subtree_control").exists():  # v2: our children need the controller
        _enable_pids(parent)
    _remove_stale(parent)
    path = parent / f"grading-jail-{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    (path / "pids.max").write_text(str(int(limit)))
    return path


def _remove_stale(parent: Path) -> None:
    """Remove the sandbox cgroups left by a grader that was killed (its pid is gone)."""
    for old in parent.glob("grading-jail-*-*"):
        try:
            pid = int(old.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if not Path(f"/proc/{pid}").exists():
            remove_cgroup(old, timeout=1.0)


def _enable_pids(parent: Path) -> None:
    ctl = parent / "cgroup.subtree_control"
    if "pids" not in (_read(str(ctl)) or "").split():
        try:
            ctl.write_text("+pids")
        except OSError as exc:
            raise SandboxUnavailable(f"cannot enable the pids controller in {parent}: {exc}") \
                from None


def _join_cgroup(procs_file: str | None = None) -> None:
    """preexec_fn: make the child the first the kernel's OOM killer picks, and move it into its
    cgroup (if any) before bubblewrap runs (raw syscalls only).

    Without the first, a sandbox that spreads its memory over many processes, each smaller than
    the grader's worker, made the OOM killer kill the *worker*: a broken process pool, and every
    classmate graded beside it NOT GRADED. Raising one's own oom_score_adj needs no privilege;
    lowering it again does, and /proc is read-only inside."""
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)
    except OSError:
        pass
    if procs_file is None:
        return
    fd = os.open(procs_file, os.O_WRONLY)
    try:
        os.write(fd, str(os.getpid()).encode())
    finally:
        os.close(fd)


def remove_cgroup(path: Path, timeout: float = 10.0) -> None:
    """Kill whatever is left in the cgroup and remove it."""
    deadline = time.monotonic() + timeout
    while path.exists():
        for pid in (_read(str(path / "cgroup.procs")) or "").split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        try:
            path.rmdir()
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


def start(
    argv: Sequence[str],
    *,
    scratch: Path,
    readonly: Sequence[Path],
    limits: Limits,
    env: dict[str, str],
    sandbox: bool = True,
) -> subprocess.Popen:
    """Start ``argv`` in a fresh sandbox (a :class:`Jailed` process); stdin, stdout and stderr are binary pipes."""
    if not sandbox:
        return _start_unsandboxed(argv, scratch=Path(scratch), limits=limits, env=env)
    if not os.path.exists(BWRAP):
        raise SandboxUnavailable(_missing_bwrap_message())
    fds: list[int] = []
    try:
        files = []
        for host, dest in _scratch_files(Path(scratch)):
            fd = os.open(host, os.O_RDONLY)
            fds.append(fd)
            files.append((fd, dest))
        data = []
        for text, dest in ((_PASSWD, "/etc/passwd"), (_GROUP, "/etc/group"),
                           (_HOSTS, "/etc/hosts")):
            fd = _data_fd(text)
            fds.append(fd)
            data.append((fd, dest))
        cmd = bwrap_args(argv, readonly=[Path(p) for p in readonly], limits=limits,
                         files=files, data=data)
        cgroup = make_pids_cgroup(limits.processes) if os.geteuid() == 0 else None
        try:
            proc = Jailed(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=sandbox_env(env), pass_fds=fds, cwd="/", start_new_session=True,
                preexec_fn=functools.partial(_join_cgroup,
                                             str(cgroup / "cgroup.procs") if cgroup else None),
            )
        except BaseException:
            if cgroup:
                remove_cgroup(cgroup)
            raise
        proc.cgroup = cgroup
        return proc
    finally:
        for fd in fds:
            os.close(fd)


def _start_unsandboxed(argv, *, scratch: Path, limits: Limits, env: dict[str, str]):
    """--no-sandbox: the program runs as the grader's user (rlimits only)."""
    cmd = [PRLIMIT, *rlimit_args(limits, processes=False), "--", *argv]
    full_env = {**sandbox_env(env), "HOME": str(scratch), "TMPDIR": str(scratch)}
    return subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=full_env, cwd=str(scratch), start_new_session=True, preexec_fn=_join_cgroup,
    )


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Kill the sandbox and everything in it, and reap it.

    Sandboxed: bubblewrap is the session leader; killing its session kills bubblewrap, whose
    death kills the pid namespace's init (``--die-with-parent``) and with it every process of the
    namespace. Unsandboxed: the program's session is killed (a process that left the session
    survives: one more reason to keep the sandbox)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    if isinstance(proc, Jailed) and proc.cgroup is not None:
        remove_cgroup(proc.cgroup)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


# -- availability ------------------------------------------------------------------------------
def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _missing_bwrap_message() -> str:
    return (f"the sandbox tool bubblewrap is not installed ({BWRAP} is missing). Install it: "
            "`sudo apt-get install bubblewrap` (Debian/Ubuntu; `dnf install bubblewrap` on Fedora), "
            "or run `make test`, which installs it.")


def _userns_hint() -> str:
    """What blocks user namespaces on this machine, and the command that unblocks them."""
    if _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1":
        return ("AppArmor forbids unprivileged user namespaces "
                "(kernel.apparmor_restrict_unprivileged_userns = 1, as on Ubuntu 24.04). Either "
                "give bwrap a profile that allows them: write /etc/apparmor.d/bwrap containing\n"
                "    abi <abi/4.0>,\n    include <tunables/global>\n"
                "    profile bwrap /usr/bin/bwrap flags=(unconfined) {\n      userns,\n    }\n"
                "and run `sudo systemctl reload apparmor`; or allow them for every program: "
                "`sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`.")
    if _read("/proc/sys/kernel/unprivileged_userns_clone") == "0":
        return ("unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = "
                "0). Enable them: `sudo sysctl kernel.unprivileged_userns_clone=1`.")
    if _read("/proc/sys/user/max_user_namespaces") == "0":
        return ("user namespaces are disabled (user.max_user_namespaces = 0). Enable them: "
                "`sudo sysctl user.max_user_namespaces=15000`.")
    return ("user namespaces seem to be blocked (a container without them, a seccomp profile, or "
            "an old kernel). In Docker, run the grader with `--security-opt seccomp=unconfined "
            "--security-opt apparmor=unconfined`, or grade on a machine or VM where "
            "`bwrap --unshare-user --ro-bind / / true` works.")


def check_available(limits: Limits | None = None) -> None:
    """Raise :class:`SandboxUnavailable` unless a sandbox really starts and runs a program."""
    if not os.path.exists(BWRAP):
        raise SandboxUnavailable(_missing_bwrap_message())
    if not os.path.exists(PRLIMIT):
        raise SandboxUnavailable(f"{PRLIMIT} is missing: install util-linux "
                                 "(`sudo apt-get install util-linux`).")
    limits = limits or Limits()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="jail-check-") as tmp:
        try:
            proc = start([sys.executable, "-I", "-S", "-c", "pass"], scratch=Path(tmp),
                         readonly=[], limits=limits, env={})
            _out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            stop(proc)
            raise SandboxUnavailable("a test sandbox did not finish in 120 s") from None
        except OSError as exc:
            raise SandboxUnavailable(f"bubblewrap could not be started: {exc}") from None
    if proc.returncode != 0:
        text = err.decode("utf-8", "replace").strip()
        hint = _userns_hint() if ("namespace" in text or "Operation not permitted" in text
                                  or "uid map" in text) else ""
        raise SandboxUnavailable(
            f"the sandbox does not start on this machine: bwrap says {text!r}. {hint}".strip())

