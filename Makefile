# Every target that needs the environment depends on the setup stamp, so a fresh clone needs
# nothing but `make test` (or `make demo`): scripts/setup.sh runs first, once, and again when
# the lock file, pyproject.toml or the script itself changes.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-done
LINTED := $(wildcard src tests bench)

# anvil lives in .tools (see scripts/setup.sh); tests and the demo find it on PATH
export PATH := $(CURDIR)/.tools/bin:$(PATH)

.DEFAULT_GOAL := help
.PHONY: help setup test lint gas bench demo clean distclean

help:
	@echo "make setup      install uv, the Python environment, anvil and bubblewrap (scripts/setup.sh)"
	@echo "make test       run the test suite (what CI runs)"
	@echo "make lint       ruff check, ruff format --check, mypy"
	@echo "make gas        measure contract gas into bench/results/gas.json"
	@echo "make bench      every benchmark into bench/results/*.json and SUMMARY.md (< 30 min)"
	@echo "make demo       the whole network on this machine running factorial, sudoku and wordcloud"
	@echo "make clean      remove caches and build outputs; distclean also removes .venv and .tools"

setup:
	bash scripts/setup.sh

$(STAMP): scripts/setup.sh pyproject.toml uv.lock
	bash scripts/setup.sh

test: $(STAMP)
	$(PY) -m pytest -q -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy

gas: $(STAMP)
	$(PY) -m bench.gas

bench: $(STAMP)
	$(PY) -m bench

demo: $(STAMP)
	$(VENV)/bin/nuage demo

clean:
	find . -path ./.venv -prune -o -path ./.tools -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist

distclean: clean
	rm -rf $(VENV) .tools
