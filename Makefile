# The two commands a newcomer needs:  make run   |   make test
.PHONY: setup run test lint bench eval
export OMP_NUM_THREADS ?= 1

setup:
	./scripts/setup.sh

run: setup
	.venv/bin/policyqa serve

lint:
	.venv/bin/ruff check src tests bench
	.venv/bin/mypy

test: setup lint
	.venv/bin/python -m pytest -q

eval:
	.venv/bin/policyqa eval --json eval/out/dev.json --report eval/out/dev
	for set in holdout holdout2 holdout3 holdout4 holdout5 holdout6 holdout7 holdout8; do \
	  .venv/bin/policyqa eval --gold eval/$$set.jsonl --json eval/out/$$set.json \
	    --report eval/out/$$set || exit 1; done
	mkdir -p eval/figures && cp eval/out/holdout8/*.png eval/figures/  # shown in the README (the newest blind set)

bench:
	.venv/bin/python bench/bench_query.py
