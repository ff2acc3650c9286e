# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup models demo test lint bench clean

setup: $(STAMP) models

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

# until the demo game lands: track the sample clip (no webcam needed) and draw the skeleton
demo: setup
	mkdir -p out
	$(BIN)/posetrack track sample:sports2d-demo.mp4 --out out/demo.jsonl --overlay out/demo.mp4
	@echo "wrote out/demo.mp4 (overlay) and out/demo.jsonl (pose stream)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python benchmarks/track_vs_mediapipe.py

clean:
	rm -rf $(VENV) out
