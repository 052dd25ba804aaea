.PHONY: generate check-generated vet test fuzz bench

# generate regenerates api/ from openapi.yaml and overlay.yaml.
generate:
	go generate ./...

# check-generated fails when the committed api/ differs from what
# go generate produces.
check-generated: generate
	@git diff --exit-code --stat -- api/ && test -z "$$(git status --porcelain -- api/)" \
		|| { echo "api/ differs from go generate's output: run make generate and commit api/"; exit 1; }

# internal/tracing is a module of its own (OpenTelemetry stays out of the
# SDK's go.mod): ./... does not reach it.
vet:
	go vet ./...
	cd internal/tracing && go vet ./... && go mod tidy -diff
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.gen\.go$$'))" || { gofmt -l .; exit 1; }

test: check-generated vet
	go test -race -count=1 ./...
	cd internal/tracing && go test -race -count=1 ./...

FUZZTIME ?= 30s
FUZZ_TARGETS := FuzzCheckResponse FuzzTokenExpiry FuzzParseBaseURL FuzzFileStoreLoad

# fuzz runs each fuzz target for FUZZTIME; make test runs their seeds.
fuzz:
	@for target in $(FUZZ_TARGETS); do \
		go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./wrapper/ || exit 1; \
	done

BENCHCOUNT ?= 6

# bench runs every benchmark BENCHCOUNT times in one run, into bench.out;
# BENCHMARKS.md compares their medians as ratios.
bench:
	go test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./wrapper/ | tee bench.out
