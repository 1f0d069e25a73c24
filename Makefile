# kcred: `make demo` runs the whole flow against built-in emulators and a real
# registry; `make test` runs every test. Both work on a fresh machine with Go.

export GOTOOLCHAIN := local
GO ?= go
ISOLATED := scripts/isolated
# Inside the loopback-only namespace nothing can be downloaded: modules are
# fetched first, outside it.
OFFLINE := GOPROXY=off GOFLAGS=-mod=readonly

.PHONY: all build deps lint test test-unit test-kubelet fuzz demo bench clean node-deps test-node test-node-if-able demo-node

all: build

# Static (no cgo): the binary is copied onto nodes of any libc.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/kcred ./cmd/kcred

# Modules are fetched here, outside the namespace. The real-kubelet judge is
# also compiled here: its cold build takes minutes and would otherwise count
# against the test timeout.
deps:
	$(GO) mod download
	cd test/kubelet && $(GO) mod download && $(GO) build ./...

lint:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd test/kubelet && $(GO) vet ./...
	cd test/node && $(GO) vet ./...

test: deps lint fuzz
	@scripts/count-results $(MAKE) --no-print-directory test-unit test-kubelet test-node-if-able

test-unit:
	$(ISOLATED) env $(OFFLINE) $(GO) test -count=1 ./...

# The real kubelet (k8s.io/kubernetes) as the judge of the simulator's
# fidelity; a nested module so the product module never links it.
test-kubelet:
	cd test/kubelet && ../../$(ISOLATED) env $(OFFLINE) $(GO) test -count=1 -timeout 20m ./...

# The live node (test/node): the real kubelet, containerd built from its Go
# module and Debian's runc pull static pods through kcred, in their own
# network and mount namespaces. Binaries are built (and runc installed)
# outside the namespace, where modules can be fetched.
NODE_BIN := $(CURDIR)/bin/node
NODE_NS := unshare --net --mount sh -c 'ip link set lo up && exec "$$@"' node

node-deps:
	@command -v runc >/dev/null || { apt-get update && apt-get install -y runc; }
	cd test/node && $(GO) mod download && $(GO) run ./cmd/kcred-node build $(NODE_BIN)

test-node: node-deps
	cd test/node && $(NODE_NS) env $(OFFLINE) KCRED_NODE_BIN=$(NODE_BIN) $(GO) test -count=1 -timeout 20m ./...

test-node-if-able:
	@if [ "$$(id -u)" = 0 ] && unshare --net --mount true 2>/dev/null; then \
		$(MAKE) --no-print-directory test-node; \
	else echo "test-node skipped: the live node needs root and unshare --net --mount (run make test-node as root)"; fi

demo-node: node-deps
	cd test/node && $(NODE_NS) env $(OFFLINE) $(GO) run ./cmd/kcred-node demo $(NODE_BIN)

fuzz:
	$(ISOLATED) env $(OFFLINE) FUZZTIME=$${FUZZTIME:-5s} scripts/fuzz-smoke

demo: deps
	$(ISOLATED) env $(OFFLINE) $(GO) run ./cmd/kcred-demo

bench: deps
	$(ISOLATED) env $(OFFLINE) $(GO) test -run '^$$' -bench . -benchtime 20x -timeout 40m ./bench/

clean:
	rm -rf bin
