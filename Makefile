PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,neuron]"
	touch $(STAMP)

# The flagship demo: the whole chain on a stenotic root, standing in extension against
# flexion (figures/chain.png; about 10 min on 2 cores), and the HH cable's travelling
# action potential (figures/travelling_ap.png).
demo: $(STAMP)
	$(VENV)/bin/neurosim figure travelling_ap --out figures
	$(VENV)/bin/neurosim run experiments/stenosis_standing_vs_flexion.toml --out results
	cp results/stenosis_standing_vs_flexion/stenosis_standing_vs_flexion.png figures/chain.png

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check neurosim tests benchmarks
	$(VENV)/bin/ruff format --check neurosim tests benchmarks

clean:
	rm -rf $(VENV) results .pytest_cache
