# tvmkafka: build, test and run.  `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
KAFKA_PORT ?= 19092
KAFKA := deploy/kafka-local/kafka.sh
WITH_BROKER := deploy/kafka-local/with-broker.sh
CACHE := .cache
VENV := $(CACHE)/venv
PYTHON := $(abspath $(VENV))/bin/python
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.buildVersion=$(VERSION)
TEST_TIMEOUT ?= 40m
PKGS ?= ./...
FUZZTIME ?= 20s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Minimizing a newly interesting input may take up to 60s by default, longer
# than FUZZTIME: bounded, so the time goes to fuzzing.
FUZZMINIMIZETIME ?= 5s

export KAFKA_PORT
export TVMKAFKA_TEST_PYTHON := $(PYTHON)

.PHONY: help build lint test test-short mutate deps go-deps kafka-jars py-deps kafka-up kafka-down kafka-logs fuzz bench bench-e2e bench-peer demo clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/$$(KAFKA_PORT)/$(KAFKA_PORT)/g' | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/tvmkafka
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/tvmkafka ./cmd/tvmkafka

demo: ## run the connector end to end on an in-process simulator and Kafka broker (no set-up)
	$(GO) run ./cmd/tvmkafka demo

# go test -json through a summariser: the usual output (failing tests, each
# package's ok/FAIL line), then tests passed/failed/skipped per package and the
# total time. PKGS narrows it to some packages.
lint: ## staticcheck (pinned), which CI runs too
	$(GO) run $(STATICCHECK) ./...

test: deps ## vet, then every test with -race, against a real Kafka broker (started and stopped as needed), and a summary
	$(GO) vet $(PKGS)
	set -o pipefail; $(WITH_BROKER) $(GO) test -race -json -timeout $(TEST_TIMEOUT) $(PKGS) | python3 .ci/gotest-summary

test-short: ## unit tests only: no Kafka (not even the in-process fake), no Python
	$(GO) test -short ./...

mutate: go-deps kafka-jars ## break each promise in .ci/mutations on purpose and check a test catches it (MUTATIONS=name... for some)
	$(WITH_BROKER) python3 .ci/mutate $(MUTATIONS)

deps: go-deps kafka-jars py-deps ## fetch everything the tests need (cached)

go-deps:
	$(GO) mod download

# Maven 3.8 writes ANSI resets (ESC[0m) even with -B -q -Dstyle.color=never;
# they are stripped so CI logs stay plain text.
kafka-jars: ## fetch the broker jars from Maven Central into .cache/kafka
	set -o pipefail; $(KAFKA) fetch 2>&1 | sed 's/\x1b\[[0-9;]*m//g'

py-deps: $(VENV)/.installed ## Python cross-check tools (pyTenable, fastavro, confluent-kafka) in .cache/venv

$(VENV)/.installed: .ci/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r .ci/requirements.txt
	touch $@

kafka-up: ## start a single-node Kafka (KRaft) on 127.0.0.1:$(KAFKA_PORT); returns when it accepts clients
	$(KAFKA) up

kafka-down: ## stop the broker started by kafka-up
	$(KAFKA) down

kafka-logs: ## tail of the broker log
	$(KAFKA) logs 100

fuzz: ## run every fuzz target for FUZZTIME each; red only when a target found a failing input
	@set -eo pipefail; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; log=$$(mktemp); \
	    if ! $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg 2>&1 | tee $$log; then \
	      if grep -qx ' *context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
	        echo "fuzz $$pkg $$f: time was up with no failing input (Go's coordinator reports its own deadline as a failure at times)"; \
	      else rm -f $$log; exit 1; fi; \
	    fi; rm -f $$log; \
	  done; done

bench: ## micro-benchmarks (no network): decoding, transcoding, rendering, batching
	$(GO) test -run '^$$' -bench . -skip 'EndToEnd|DumpTopics' -benchmem ./...

bench-e2e: deps ## end to end with the real broker: source (100k and 1M findings: records/s, CPU/record, peak RSS) and sink (100k assets: assets/s, CPU/asset, peak RSS, requests, request fill)
	$(WITH_BROKER) $(GO) test ./connector/source ./connector/sink -run '^$$' -bench 'VulnsEndToEnd|SinkEndToEnd' -benchtime 1x -timeout 30m

bench-peer: deps ## tvmkafka side by side with a pyTenable + confluent-kafka pipeline (vulns, assets, compliance, sink): CPU/record, records/s, peak RSS, ratios
	$(WITH_BROKER) $(GO) test ./cmd/tvmkafka/peerbench -run '^$$' -bench PeerEndToEnd -benchtime 1x -timeout 60m

clean: ## remove build output and local caches (broker jars, virtualenv)
	rm -rf bin $(CACHE)
