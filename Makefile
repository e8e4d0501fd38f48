# The README's commands. `make run` sets up and starts the app; `make test` sets up and runs
# every test. Both work on a fresh machine.
PY := .venv/bin/python
PORT ?= 8501

.PHONY: setup setup-test run test test-server gate lint format bench eval eval-suite

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

run: setup
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: setup-test
	$(PY) -m ruff check rag pages tests bench app.py
	$(PY) -m pytest

# The store-touching tests again, against a `chroma run` server started on loopback (and
# stopped afterwards, also on failure).
test-server: setup-test
	$(PY) -m tests.servers.chroma -- $(PY) -m pytest -m server_store

# The evaluation gate (evals/gate.json): a small golden subset of every development corpus,
# held to committed thresholds; fails naming the cases that regressed against the reference.
gate: setup
	$(PY) -m rag eval gate --corpora ../shared/corpora

lint:
	$(PY) -m ruff check rag pages tests bench app.py
	$(PY) -m ruff format --check rag pages tests bench app.py

format:
	$(PY) -m ruff format rag pages tests bench app.py
	$(PY) -m ruff check --fix rag pages tests bench app.py

bench: setup-test
	$(PY) -m bench

eval: setup
	$(PY) -m rag eval --dataset evals/samples.jsonl --docs rag/samples

# Retrieval per development corpus (../shared/corpora), baseline and leave-one-corpus-out weights.
eval-suite: setup
	$(PY) -m rag eval --suite evals/suite.json --corpora ../shared/corpora --tune
