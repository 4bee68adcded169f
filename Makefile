# Every module in the repository: the core library and the nested modules
# (tools and examples with dependencies of their own). `go test ./...` at
# the root does not enter nested modules, so each target walks them all.
MODULES := . $(patsubst %/go.mod,%,$(wildcard cmd/*/go.mod examples/*/go.mod))

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: test npm-deps lint bench bench-go benchmarks-md stress cover fuzz

# The test command README.md gives and CI runs: every module under the
# race detector, stress tests at reduced size (-short), and the benchmark
# command's quick mode with its correctness checks.
test: npm-deps
	@set -e; for m in $(MODULES); do \
		echo "== go test -race -short ./... in $$m"; \
		(cd $$m && go test -race -short -count=1 ./...); \
	done

# The gateway example's end-to-end tests run a real MCP server from npm,
# pinned by a committed lockfile.
NPM_LOCKS := $(wildcard examples/*/testdata/package-lock.json)
npm-deps: $(NPM_LOCKS:package-lock.json=node_modules/.package-lock.json)
%/node_modules/.package-lock.json: %/package-lock.json
	cd $* && npm ci --no-audit --no-fund

lint:
	@set -e; for m in $(MODULES); do \
		echo "== lint $$m"; \
		(cd $$m && test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }; \
		 go vet ./... && go run $(STATICCHECK) ./...); \
	done

# The main job: the load benchmark that reproduces the published tables.
bench:
	cd cmd/regbench && go run . -md ../../bench/report.md -svg ../../bench

# Go benchmarks of the hot paths, with baselines, for benchstat.
bench-go:
	go test -run '^$$' -bench . -count 6 . | tee bench/go-bench.txt
	go run $(BENCHSTAT) bench/go-bench.txt

# Regenerate BENCHMARKS.md from real runs (about 15 minutes; quiet machine).
benchmarks-md:
	cmd/regbench/gen-benchmarks.sh

# Full-size stress and race tests (10,000 goroutines).
stress:
	go test -race -count=1 -run 'Stress|Race|Linearizab|BugReport' -timeout 30m .

cover:
	go test -race -short -count=1 -coverprofile=coverage.out ./...
	go tool cover -func=coverage.out | tail -n 1

fuzz:
	go test -run '^$$' -fuzz FuzzOps -fuzztime 60s .
	go test -run '^$$' -fuzz FuzzIDs -fuzztime 60s .
