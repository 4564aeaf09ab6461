# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp files make a second `make` skip the install unless pyproject.toml, setup.py or a
# module that setup.py compiles with mypyc (news/compiled.py lists them) changed: the install
# compiles those again, since Python imports the compiled file in preference to the source.
# Our own modules are compiled to bytecode once here: an editable install leaves them to be
# compiled at every start where PYTHONDONTWRITEBYTECODE is set (as in the Dockerfile and
# some shells).
NATIVE := news/compiled.py news/text.py news/sentence.py news/classify.py news/item.py \
	news/gazetteer.py news/language.py
$(VENV)/.installed: pyproject.toml setup.py $(NATIVE) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q bot coopwatch handlers news storage
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.py $(NATIVE) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q bot coopwatch handlers news storage
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/coopwatch run

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The everyday loop: everything but the tests marked slow (crash, fault, subprocess, browser,
# scale, type checker), in two processes. `make test` still runs everything.
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not slow" -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check bot coopwatch handlers news storage tests bench
	$(BIN)/ruff format --check bot coopwatch handlers news storage tests bench
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff format bot coopwatch handlers news storage tests bench
	$(BIN)/ruff check --fix bot coopwatch handlers news storage tests bench

bench: $(VENV)/.installed-test
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache build *__mypyc.*.so news/*.so
