# tlsdissect — the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin/tlsdissect
# make install puts the binary, the man page and the bash completion
# under $(DESTDIR)$(PREFIX).
PREFIX ?= /usr/local
DESTDIR ?=
CONFORMANCE ?= $(TLSDISSECT_CONFORMANCE)

.PHONY: all build install uninstall docs demo test unit fuzz bench-go bench conformance captures fmt vet clean

all: build

# -buildvcs=auto stamps the git revision into the binary (tlsdissect
# -version) whatever GOFLAGS says, when git and a checkout are there; the
# -X stamp covers the cases Go's does not (a git worktree).
REV := $(shell git rev-parse HEAD 2>/dev/null)
build:
	./scripts/setup.sh
	$(GO) build -buildvcs=auto -ldflags "-X main.buildRevision=$(REV)" -o $(BIN) ./cmd/tlsdissect

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tlsdissect
	install -m 0644 docs/tlsdissect.1 $(DESTDIR)$(PREFIX)/share/man/man1/tlsdissect.1
	install -m 0644 scripts/completion.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tlsdissect
	install -m 0644 scripts/completion.zsh $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tlsdissect

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tlsdissect $(DESTDIR)$(PREFIX)/share/man/man1/tlsdissect.1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tlsdissect $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tlsdissect

# docs: regenerate the man page and the completion from the flags (a test
# fails when they are out of step).
docs:
	$(GO) test ./cmd/tlsdissect -run 'TestManPage|TestCompletion' -update

# demo: set up, build, and dissect a committed capture three ways.
demo: build
	$(BIN) -r testdata/captures/multi.pcap
	$(BIN) -r testdata/captures/tls12-ticket-resumed.pcap -F ladder
	$(BIN) -r testdata/captures/fail-version.pcap -F json

# test: set up and pass every test: format, vet, unit/golden/e2e tests,
# the pipeline under the race detector, each fuzz target briefly,
# every Go benchmark once, and (when
# TLSDISSECT_CONFORMANCE names the peer captures) the conformance scorecard.
test:
	./scripts/setup.sh test
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@echo "== go vet"; $(GO) vet ./...
	@echo "== go test"; TLSDISSECT_CONFORMANCE="$(CONFORMANCE)" $(GO) test -count=1 -timeout 20m ./...
	@echo "== race detector on the concurrent packages"; TLSDISSECT_CONFORMANCE="$(CONFORMANCE)" $(GO) test -race -count=1 ./pipeline ./capture
	@echo "== benchmarks (1x, to keep them compiling)"; $(GO) test -run='^$$' -bench=. -benchtime=1x ./... >/tmp/tlsdissect-bench.log || { cat /tmp/tlsdissect-bench.log; exit 1; }
	@echo "== fuzz"; FUZZTIME=$${FUZZTIME:-3s} ./scripts/fuzz.sh
	@echo "== all tests passed"

conformance: build
	$(GO) run ./cmd/tlsconformance -captures $${TLSDISSECT_CONFORMANCE:-../shared/captures} -bin $(BIN) -write testdata/conformance.md

captures:
	$(GO) run ./cmd/tlsgen -out testdata/captures

bench: build
	./scripts/bench.sh

clean:
	rm -rf bin
