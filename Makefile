# pns-hwcost: see README.md. All targets set up what they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest

.PHONY: setup report test sim test-all lint cells ops bench docs clean

setup:
	@bash scripts/setup.sh

## Main job: the hardware-cost report of partial network sharing.
report: setup
	$(PY) -m hwmodel.report

## CI test suite (fast subset; the exhaustive RTL sweep is `make sim`).
test: setup
	$(PYTEST) -m "not slow" -q

## Every RTL unit at full vector counts (exhaustive int8, >=100k random for the rest).
sim: setup
	$(PYTEST) tests/rtl -m "sim" -q --sim-full

## Everything, slow tests included.
test-all: setup
	$(PYTEST) -q --sim-full

## Regenerate the 45 nm cell library with ngspice (committed; cached by content hash).
cells: setup
	$(PY) -m hwmodel.cells build

## The op-cost table of every RTL unit, both energy paths.
ops: setup
	$(PY) -m hwmodel.ops

## Speed benchmarks (printed tables; see README): training, cells, SRAM, gate-level sim, accel.
bench: setup
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_gatelevel.py
	$(PY) benchmarks/bench_oplib.py
	$(PY) benchmarks/bench_sram.py
	$(PY) benchmarks/bench_accel.py

## Regenerate the measured tables of README.md (between docs markers) and the files in docs/
## (the SCALE-Sim cross-check needs its reference venv, made first).
docs: setup
	@bash scripts/scalesim_env.sh
	$(PY) scripts/docs.py

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf build sim_build .pytest_cache .ruff_cache
