"""environment.yml and requirements.txt describe the same pinned packages."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\[\]-]+)==([^\s]+)", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_requirements_and_environment_list_the_same_packages():
    req = pins((ROOT / "requirements.txt").read_text().splitlines())
    env = pins((ROOT / "environment.yml").read_text().splitlines())
    assert req, "requirements.txt pins nothing"
    assert req == env, f"only in requirements: {req.keys() - env.keys()}; only in env: {env.keys() - req.keys()}; differing: {[k for k in req.keys() & env.keys() if req[k] != env[k]]}"
    for needed in ("numpy", "matplotlib", "jupyterlab", "ipywidgets", "nbgrader",
                   "scikit-learn", "tensorflow-cpu"):
        assert needed in req, f"{needed} is not pinned"


def test_every_requirement_is_pinned():
    loose = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#") and "==" not in line]
    assert not loose, f"unpinned: {loose}"
