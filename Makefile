# The two everyday commands: `make eval` (the main job) and `make test`. Each installs what it needs.
PYTHON ?= python3
STAMP := .install.stamp

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m pip install -q -r requirements.txt
	$(PYTHON) -m pip install -q --no-deps -e .
	$(PYTHON) -c 'import sys; from ttbringup.emu.card import compiled; sys.exit(compiled.main())'
	@touch $(STAMP)

.PHONY: install eval eval-both test test-all conformance bench
install: $(STAMP)

# Teacher-forcing eval of the four seed bringups and the five generated ones on the emulator against the bundled
# checkpoints.
eval: $(STAMP)
	$(PYTHON) scripts/eval_seeds.py

# The same with a card-numerics column beside top-1, top-5 and PCC (each model in exact and card mode, ~2x the time).
eval-both: $(STAMP)
	$(PYTHON) scripts/eval_seeds.py --numerics both

# The default suite: per-op, per-block, per-model and CLI tests (real-shape runs excluded).
test: $(STAMP)
	$(PYTHON) -m pytest -q

# The default suite plus the slow real-shape runs (the conformance lane has its own venv: `make conformance`).
test-all: $(STAMP)
	$(PYTHON) -m pytest -q -m "not conformance"

# Model files and emulator checked against the real ttnn 0.81.1 wheel in mock mode (own venv).
conformance:
	bash scripts/run_conformance.sh

bench: $(STAMP)
	$(PYTHON) benchmarks/run.py
