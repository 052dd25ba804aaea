.PHONY: generate check-generated vet test fuzz bench

# generate regenerates api/ from openapi.yaml and overlay.yaml (see gen.go),
# then tidies go.mod and go.sum of every module for what the new code
# imports: internal/tracing's too, which builds api through the wrapper.
generate:
	go generate ./...
	go mod tidy
	cd internal/tracing && go mod tidy

# check-generated fails when api/, or go.mod or go.sum of a module, differ
# from what make generate produces. It regenerates in a scratch copy of the
# tree, so it works before a commit and changes nothing here.
check-generated:
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	tar --exclude=./.git -cf - . | tar -xf - -C "$$scratch" && \
	$(MAKE) --no-print-directory -C "$$scratch" generate >"$$scratch.log" 2>&1 \
		|| { cat "$$scratch.log"; rm -f "$$scratch.log"; exit 1; }; rm -f "$$scratch.log"; \
	diff -r api "$$scratch/api" && diff go.mod "$$scratch/go.mod" && diff go.sum "$$scratch/go.sum" \
		&& diff internal/tracing/go.mod "$$scratch/internal/tracing/go.mod" \
		&& diff internal/tracing/go.sum "$$scratch/internal/tracing/go.sum" \
		|| { echo "api/, go.mod or go.sum differ from make generate's output: run make generate and commit them"; exit 1; }

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
