# Two-command setup: `make demo` and `make test` work in a fresh clone (they run scripts/bootstrap.sh first,
# which creates .venv, installs streamgate with its test extras and makes sure Redis answers).
#
#   make demo    run the end-to-end demo (embedded broker, simulator, workers)
#   make test    the full test suite against a real broker and Redis; .ci/run runs exactly this
#   make lint    ruff + mypy --strict + import-linter (the layer rules)
#   make bench   the throughput/latency benchmark
#   make bench-peers  streamgate and the LiteLLM proxy side by side (optional: installs a pinned LiteLLM in its
#                own venv, .streamgate/peers/litellm, from hashed requirements; BENCH_PEERS_ARGS e.g. --rates 100,200)
#
# PYTEST_ARGS passes extra pytest arguments, e.g. `make test PYTEST_ARGS='-k broker -x'`.

VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: bootstrap demo test lint bench bench-peers chaos clean

bootstrap:
	@bash scripts/bootstrap.sh

demo: bootstrap
	$(BIN)/streamgate demo

test: bootstrap
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: bootstrap  # ruff, mypy --strict and the layer contracts (import-linter); fails if any fails
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/mypy --strict --config-file pyproject.toml || status=1; \
	$(BIN)/lint-imports --config pyproject.toml || status=1; \
	exit $$status

bench: bootstrap
	$(BIN)/streamgate bench

PEER_VENV := .streamgate/peers/litellm
BENCH_PEERS_ARGS ?=

$(PEER_VENV)/bin/litellm: bench/litellm-requirements.txt
	rm -rf $(PEER_VENV) && python3.11 -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet --require-hashes --no-deps -r bench/litellm-requirements.txt
	touch $@

bench-peers: bootstrap $(PEER_VENV)/bin/litellm
	$(BIN)/streamgate bench --peers $(BENCH_PEERS_ARGS)

clean:
	rm -rf $(VENV) .streamgate .pytest_cache .mypy_cache .ruff_cache

chaos: bootstrap  # the chaos suite (tests/chaos: crashes, rebalances, provider/Redis/broker faults, fuzzing; ~15 min)
	$(BIN)/python -m pytest -q -m chaos tests/chaos $(PYTEST_ARGS)
