# streamplug: the commands a developer and CI use.
#   make run   - build everything and run the gateway with its plugins on the embedded log
#   make test  - run the whole test suite (installs what it needs first)
#   make engagement - the support bot and crm-sync against local CRM/CPaaS doubles

CARGO ?= cargo
PLUGIN_PROFILE := plugin
PLUGIN_DIR := target/wasm32-wasip2/$(PLUGIN_PROFILE)
# The first-party plugins: the binary embeds them (host/build.rs), taking
# the components `make plugins` builds instead of building them again.
PLUGINS := recommend support-bot crm-sync customer-registry order-processor customer-view
export STREAMPLUG_PREBUILT_PLUGINS := $(CURDIR)/$(PLUGIN_DIR)
# Plugins and fixtures the tests load: the one list, which the tests read too.
TEST_PLUGINS := $(shell grep -v '^\#' tests/plugins.txt)

# Example plugins in Python (componentize-py, installed by scripts/setup-polyglot.sh).
PY_VENV := target/py-plugins
PY_SDK := $(wildcard sdk/python/streamplug/*.py)
PY_PLUGINS := $(PLUGIN_DIR)/fraud_flagger.wasm $(PLUGIN_DIR)/kv_probe_py.wasm
# ... and in JavaScript (componentize-js, installed from sdk/js/package-lock.json).
JS_SDK := $(wildcard sdk/js/streamplug/*.js)
JS_PLUGINS := $(PLUGIN_DIR)/cart_nudger.wasm $(PLUGIN_DIR)/kv_probe_js.wasm
COMPONENTIZE_JS := sdk/js/node_modules/.bin/componentize-js
# The WIT the guests build against, with its WASI HTTP dependencies.
WIT := $(wildcard wit/*.wit wit/deps/*.wit)

.PHONY: run test setup plugins test-plugins peer-plugins py-plugins js-plugins lint docs bench bench-check fuzz clean-data engagement

setup:
	@scripts/setup.sh

plugins: setup
	$(CARGO) build --target wasm32-wasip2 --profile $(PLUGIN_PROFILE) $(addprefix -p ,$(PLUGINS))

test-plugins: setup
	$(CARGO) build --target wasm32-wasip2 --profile $(PLUGIN_PROFILE) $(addprefix -p ,$(TEST_PLUGINS))

# The benchmark peers' builds of the checksum plugin: with the Extism PDK,
# and as a wasi:http component for `wasmtime serve`.
peer-plugins: setup
	$(CARGO) build --target wasm32-unknown-unknown --profile $(PLUGIN_PROFILE) -p fixture-checksum-extism
	$(CARGO) build --target wasm32-wasip2 --profile $(PLUGIN_PROFILE) -p fixture-checksum-http

py-plugins: $(PY_PLUGINS)

# One component per example: its app.py with the Python SDK, against wit/.
$(PLUGIN_DIR)/fraud_flagger.wasm: examples/fraud-flagger/app.py $(PY_SDK) $(WIT)
	@scripts/setup-polyglot.sh py
	@mkdir -p $(PLUGIN_DIR)
	$(PY_VENV)/bin/componentize-py -d wit -w plugin-http componentize app -p sdk/python -p examples/fraud-flagger -o $@

# The test fixture that drives the Python SDK's KV calls.
$(PLUGIN_DIR)/kv_probe_py.wasm: tests/polyglot/kv_probe.py $(PY_SDK) $(WIT)
	@scripts/setup-polyglot.sh py
	@mkdir -p $(PLUGIN_DIR)
	$(PY_VENV)/bin/componentize-py -d wit -w plugin componentize kv_probe -p sdk/python -p tests/polyglot -o $@

js-plugins: $(JS_PLUGINS)

# One component per example: its app.js with the JavaScript SDK, against wit/.
$(PLUGIN_DIR)/cart_nudger.wasm: examples/cart-nudger/app.js $(JS_SDK) $(WIT)
	@scripts/setup-polyglot.sh js
	@mkdir -p $(PLUGIN_DIR)
	$(COMPONENTIZE_JS) --wit wit --world-name plugin -d http fetch-event -o $@ examples/cart-nudger/app.js

# The test fixture that drives the JavaScript SDK's KV calls.
$(PLUGIN_DIR)/kv_probe_js.wasm: tests/polyglot/kv_probe.js $(JS_SDK) $(WIT)
	@scripts/setup-polyglot.sh js
	@mkdir -p $(PLUGIN_DIR)
	$(COMPONENTIZE_JS) --wit wit --world-name plugin -d http fetch-event -o $@ tests/polyglot/kv_probe.js

run: plugins
	$(CARGO) run -p streamplug -- serve --plugin-dir $(PLUGIN_DIR)

test: test-plugins py-plugins js-plugins
	@scripts/setup-test.sh
	$(CARGO) test --workspace
	$(MAKE) --no-print-directory bench-check
	@scripts/fuzz-run.sh $(TEST_FUZZ_SECONDS) $(FUZZ_TARGETS)

# The customer-engagement demo: recommend, support-bot and crm-sync on
# 127.0.0.1:8080 against local Salesforce and Infobip doubles.
engagement: setup
	$(CARGO) run -p streamplug-tests --bin engagement-demo

lint: plugins
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Regenerate the documents docs/ keeps from the code: the event reference,
# the OpenAPI documents of the public and admin APIs, the AsyncAPI document.
docs:
	$(CARGO) run -q -p streamplug -- schemas --markdown > docs/events.md
	$(CARGO) run -q -p streamplug -- openapi > docs/openapi.json
	$(CARGO) run -q -p streamplug -- openapi --admin > docs/admin-openapi.json
	$(CARGO) run -q -p streamplug -- asyncapi > docs/asyncapi.json
	$(CARGO) run -q -p streamplug -- schemas codegen --lang rust > sdk/src/vocabulary.rs
	$(CARGO) run -q -p streamplug -- schemas codegen --lang python > sdk/python/streamplug/vocabulary.py
	$(CARGO) run -q -p streamplug -- schemas codegen --lang ts > sdk/js/streamplug/vocabulary.d.ts
	$(CARGO) run -q -p streamplug -- schemas codegen --lang js > sdk/js/streamplug/vocabulary.js

# Coverage-guided fuzzing of the parsers that read what the internet sends
# (cargo-fuzz on nightly; fuzz/, bodies in wire/src/fuzzing.rs): each target
# for FUZZ_SECONDS from the committed corpus (fuzz/seeds) and the
# regressions (fuzz/regressions, which `cargo test` also replays).
# `make test` runs it briefly (TEST_FUZZ_SECONDS); docs/FUZZING.md has the
# long runs.
FUZZ_SECONDS ?= 20
TEST_FUZZ_SECONDS ?= 30
FUZZ_TARGETS = ingest_body ws_frame kafka_record resume_token jwt
fuzz:
	@scripts/fuzz-run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean-data:
	rm -rf data

# Everything in docs/BENCHMARKS.md: the criterion benches (dispatch steps,
# the plugin runtime, hot swap, one plugin in three languages), then the load
# harness against a release gateway and its baselines (JSON in target/bench).
bench: plugins test-plugins peer-plugins py-plugins js-plugins
	@scripts/setup-test.sh
	@scripts/setup-wasmtime-cli.sh
	@scripts/build-bench-plugins.sh
	$(CARGO) bench -p streamplug --bench dispatch --bench plugin_runtime --bench hot_swap --bench polyglot --bench auth --bench handoff
	$(CARGO) bench -p streamplug-wire --bench validation
	$(CARGO) bench -p streamplug-bench --bench extism_call
	$(CARGO) build --release -p streamplug -p streamplug-bench
	target/release/streamplug-bench run --kafka --json target/bench/load.json

# The benches and the load harness in quick mode (each criterion bench run
# once, one second per load scenario against a debug gateway): proves they
# work, measures nothing. Part of `make test`. The `wasmtime serve` peer runs
# only where the wasmtime CLI is installed (`make bench` builds it: ~10
# minutes on two cores, too long for every test run).
bench-check: test-plugins peer-plugins
	$(CARGO) test -p streamplug --bench dispatch --bench plugin_runtime --bench hot_swap --bench auth --bench handoff
	$(CARGO) test -p streamplug-bench --bench extism_call
	$(CARGO) test -p streamplug-wire --bench validation
	$(CARGO) build -p streamplug -p streamplug-bench
	target/debug/streamplug-bench run --quick --kafka
	target/debug/streamplug-bench flush --dir target --seconds 0.2
