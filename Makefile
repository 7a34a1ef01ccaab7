# sparsec: the two commands the README starts with (`make demo`, `make test`) set up
# everything they need themselves (scripts/env.sh), so they work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ifeq ($(filter help clean,$(MAKECMDGOALS)),)
ENV := $(shell scripts/env.sh)
ifeq ($(ENV),)
$(error scripts/env.sh failed to set up the environment)
endif
endif
BIN = $(ENV)/bin
RUN = PATH="$(BIN):$$PATH"
export HYPOTHESIS_PROFILE ?= ci

.PHONY: help demo test lint lit pytest bench env clean

help:
	@echo "make demo   run the sparsec story end to end on a small program and a real model"
	@echo "make test   lint, lit/FileCheck tests and pytest (Hypothesis profile '$(HYPOTHESIS_PROFILE)')"
	@echo "make bench  side-by-side benchmarks (benchmarks/)"
	@echo "make env    print the virtual environment's path (building it if needed)"

env:
	@echo $(ENV)

demo:
	$(RUN) bash scripts/demo.sh

lint:
	$(BIN)/ruff check sparsec tests benchmarks scripts

lit:
	$(RUN) lit -sv tests/filecheck

pytest:
	$(RUN) pytest tests

# pytest runs last, so its summary line is the last thing `make test` prints.
test: lint lit pytest

bench:
	$(RUN) python benchmarks/run.py

clean:
	rm -rf build .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
