# The two commands a newcomer needs:  make lab   and   make test
# Everything else here is what those two are built from.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888
NB     ?=
# The course's matrices are small: one BLAS thread each is fastest, and several threads per
# process fight badly when tests or kernels run side by side on a small machine.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: lab test check workspace fresh release collect autograde feedback export lint bench \
        site browser-deps sandbox-deps clean-venv

# Create .venv and install the pinned course environment plus helpers/grading (editable).
# Re-runs only when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# The learner's workspace: student notebooks copied once; never overwrites a learner's file.
workspace: $(STAMP)
	$(PY) -m grading workspace

# Set up, build the workspace, and open JupyterLab on 127.0.0.1.
lab: workspace
	cd workspace && ../$(PY) -m jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=. \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# Set up, then run the whole test suite (what CI runs).
test: $(STAMP) browser-deps sandbox-deps
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup

# Check one of your notebooks locally:  make check NB=02
check: $(STAMP)
	$(PY) -m grading check $(NB)

# A fresh copy of one notebook (your old one is kept with a timestamp):  make fresh NB=02
fresh: $(STAMP)
	$(PY) -m grading workspace --fresh $(NB)

# The instructor's round trip (see README): release, collect FROM=..., autograde, feedback, export.
release: $(STAMP)
	$(PY) -m grading release

collect: $(STAMP)
	$(PY) -m grading collect $(FROM)

autograde: $(STAMP) sandbox-deps
	$(PY) -m grading autograde

feedback: $(STAMP)
	$(PY) -m grading feedback

export: $(STAMP)
	$(PY) -m grading export

# The course as a static HTML site in build/site/ (solved notebooks executed, every explorer live
# with no server): open build/site/index.html, or copy the folder to any static host.
SITE_JOBS ?= 1
site: $(STAMP)
	$(PY) docs/site/build.py --out build/site --jobs $(SITE_JOBS)

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) bench/core_speed.py
	$(PY) bench/notebook_runtime.py
	$(PY) bench/grading_speed.py

# The browser tests need Debian's chromium; installed with apt when missing (needs root).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  (echo "Installing Debian's chromium for the browser tests (apt-get)..." && \
	   apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core) \
	  || echo "chromium could not be installed: the browser tests will be skipped"

# Grading runs learners' code inside bubblewrap (Debian package bubblewrap); installed with apt
# when missing (needs root). Without it, autograde refuses to grade (unless --no-sandbox).
sandbox-deps:
	@test -x /usr/bin/bwrap || \
	  (echo "Installing bubblewrap, the grading sandbox (apt-get)..." && \
	   apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap) \
	  || echo "bubblewrap could not be installed: grading refuses to run (see grading/README.md)"

clean-venv:
	rm -rf $(VENV)
