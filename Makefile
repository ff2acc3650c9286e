# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup models sample demo test lint bench clean

setup: $(STAMP) models sample

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "posetrack needs Python >= 3.11 (set PYTHON=python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# fetch and convert the default models into the user cache (re-used offline afterwards)
models: $(STAMP)
	$(BIN)/posetrack models fetch

# the sample clip the demo plays when no webcam opens
sample: $(STAMP)
	$(BIN)/python -c 'from posetrack.samples import sample_path; sample_path("sports2d-demo.mp4")'

# the demo game: webcam 0 if it opens, else the sample clip (needs a display; see README)
demo: setup
	$(BIN)/posetrack-demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/track_vs_mediapipe.py

clean:
	rm -rf $(VENV) out
