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
	.venv/bin/policyqa eval --json eval/out/dev.json
	.venv/bin/policyqa eval --gold eval/holdout.jsonl --json eval/out/holdout.json
	.venv/bin/policyqa eval --gold eval/holdout2.jsonl --json eval/out/holdout2.json
	.venv/bin/policyqa eval --gold eval/holdout3.jsonl --json eval/out/holdout3.json
	.venv/bin/policyqa eval --gold eval/holdout4.jsonl --json eval/out/holdout4.json
	.venv/bin/policyqa eval --gold eval/holdout5.jsonl --json eval/out/holdout5.json

bench:
	.venv/bin/python bench/bench_query.py
