# Two commands do all set-up: `make demo` and `make test`.
# The venvs are installed from the locks in requirements/ (every package pinned, with hashes):
# a fresh clone gets exactly what CI tested. `make lock` refreshes the locks on purpose.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/dev.txt
STAMP := $(VENV)/.locked
EDITABLE := $(VENV)/.editable
# MediaPipe's own pipeline, the tests' reference answer, in a venv of its own (it brings a second
# OpenCV distribution that must not reach the code under test); tests run it as a subprocess
REF_VENV := .venv-mediapipe
REF_LOCK := requirements/mediapipe.txt
REF_STAMP := $(REF_VENV)/.locked
# the lock covers Linux, macOS and Windows, CPython >= 3.11 (universal resolution); mediapipe
# 0.10.14, the reference, has wheels up to CPython 3.12 only
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

.PHONY: setup models sample demo test lint bench lock reference clean

setup: $(EDITABLE) models sample

# A new lock means a new venv: packages the old lock had and this one dropped must not linger.
$(STAMP): $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "posetrack needs Python >= 3.11 (set PYTHON=python3.11)"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	@echo "installing $(LOCK) into $(VENV) (pinned, hashes checked)"
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	touch $(STAMP)

# the project itself, editable, with the locked setuptools (no build isolation: nothing is
# resolved behind the lock's back); pip check fails if pyproject asks for what the lock lacks
$(EDITABLE): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(EDITABLE)

$(REF_STAMP): $(REF_LOCK)
	rm -rf $(REF_VENV)
	$(PYTHON) -m venv $(REF_VENV)
	@echo "installing $(REF_LOCK) into $(REF_VENV) (the MediaPipe reference, tests only)"
	$(REF_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r $(REF_LOCK)
	touch $(REF_STAMP)

reference: $(REF_STAMP)

# fetch and convert the default models into the user cache (re-used offline afterwards)
models: $(EDITABLE)
	$(BIN)/posetrack models fetch

# the sample clip the demo plays when no webcam opens
sample: $(EDITABLE)
	$(BIN)/python -c 'from posetrack.downloads.samples import sample_path; sample_path("sports2d-demo.mp4")'

# the demo game: webcam 0 if it opens, else the sample clip (needs a display; see README)
demo: setup
	$(BIN)/posetrack-demo

lint: $(EDITABLE)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup reference lint
	$(BIN)/pytest

bench: setup reference
	$(BIN)/python benchmarks/track_vs_mediapipe.py
	$(BIN)/python benchmarks/game_loop.py
	$(BIN)/python benchmarks/gpu_check.py

# Re-resolve the locks from pyproject.toml and requirements/*.in, keeping every pin that still
# fits (UPGRADE=1 moves everything to the newest allowed), then list the pins that changed.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml requirements/dev.in --extra dev $(LOCK_FLAGS) \
		$(if $(UPGRADE),--upgrade) --quiet -o $(LOCK)
	$(BIN)/uv pip compile requirements/mediapipe.in $(LOCK_FLAGS) \
		$(if $(UPGRADE),--upgrade) --quiet -o $(REF_LOCK)
	@git diff --no-color -U0 -- $(LOCK) $(REF_LOCK) | grep -E '^[-+][A-Za-z0-9]' \
		|| echo "no pin changed"

clean:
	rm -rf $(VENV) $(REF_VENV) out
