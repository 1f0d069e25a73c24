# kcred: `make demo` runs the whole flow against built-in emulators and a real
# registry; `make test` runs every test. Both work on a fresh machine with Go.
# Each long step prints one line saying what it does.

export GOTOOLCHAIN := local
GO ?= go
ISOLATED := scripts/isolated
# Inside the loopback-only namespace nothing can be downloaded: modules are
# fetched first, outside it.
OFFLINE := GOPROXY=off GOFLAGS=-mod=readonly
# The version every role prints (plugin.version); a tree without git history
# (a source tarball) says devel.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
# Static (no cgo: the binary is copied onto nodes of any libc) and
# reproducible: no paths, no build ID, no VCS stamp (the version says the
# commit), so the bytes depend only on the source, the Go version and VERSION.
# The link strips debug information (-s -w), so the compiler is told not to
# write it (-dwarf=false): a cold build takes a fifth less CPU.
COMPILE := CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -gcflags=all=-dwarf=false
BUILD := $(COMPILE) -ldflags='-s -w -buildid= -X github.com/kcred/kcred/plugin.version=$(VERSION)'
# The same for bin/ but with Go's build ID kept: it is how go build sees that
# bin/kcred is up to date, so a warm make demo or make build links nothing.
DEVBUILD := $(subst -buildid= ,,$(BUILD))
# Release files: dist/kcred-OS-ARCH[.exe] for each of PLATFORMS.
DIST ?= dist
PLATFORMS ?= linux/amd64 linux/arm64 windows/amd64
# cyclonedx-gomod, from the nested module tools/ so the product module does
# not require it.
SBOM := $(GO) tool -modfile=tools/go.mod cyclonedx-gomod

.PHONY: all build deps judge lint test test-unit test-kubelet test-sdkpin test-deploy fuzz demo bench binaries release image clean
.PHONY: node-deps test-node test-node-if-able demo-node

all: build

build:
	@echo "building kcred ($(VERSION)) into bin/"
	@$(DEVBUILD) -o bin/kcred ./cmd/kcred

# Modules are fetched here, outside the namespace.
deps:
	@echo "fetching modules"
	@$(GO) mod download
	@cd test/sdkpin && $(GO) mod download
	@cd test/deploy && $(GO) mod download
	@cd test/node && $(GO) mod download

# The real kubelet (k8s.io/kubernetes) as the judge of the simulator's
# fidelity, compiled here, outside the namespace and before the timed run:
# its cold build takes minutes and would count against the test timeout.
judge:
	@echo "compiling the kubelet judge (first time: several minutes)"
	@cd test/kubelet && $(GO) mod download && out="$$(mktemp -d)" && \
		$(GO) test -c -o "$$out/" ./... ; status=$$?; rm -rf "$$out"; exit $$status

lint:
	@echo "checking gofmt and go vet"
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) vet ./...
	@cd test/kubelet && $(GO) vet ./...
	@cd test/sdkpin && $(GO) vet ./...
	@cd test/deploy && $(GO) vet ./...
	@cd test/node && $(GO) vet ./...

test: deps judge lint fuzz
	@scripts/count-results $(MAKE) --no-print-directory test-unit test-kubelet test-sdkpin test-deploy test-node-if-able

test-unit:
	@echo "running the unit and end-to-end tests in a loopback-only network namespace"
	@$(ISOLATED) env $(OFFLINE) $(GO) test -count=1 -timeout 30m ./...

# A nested module so the product module never links k8s.io/kubernetes. Run
# alone, `make judge test-kubelet`.
test-kubelet:
	@echo "running the kubelet judge's tests in a loopback-only network namespace"
	@cd test/kubelet && ../../$(ISOLATED) env $(OFFLINE) $(GO) test -count=1 -timeout 20m ./...

# Checks that the reason go.mod pins the ECR SDK services still holds.
test-sdkpin:
	@echo "checking that the ECR SDK releases named in test/sdkpin/go.mod still build schemas at init (the go.mod pin)"
	@cd test/sdkpin && ../../$(ISOLATED) env $(OFFLINE) $(GO) test -count=1 ./...

# deploy/'s kustomize overlays rendered and checked; a nested module so the
# product module never requires kustomize.
test-deploy:
	@echo "rendering and checking deploy/'s kustomize overlays"
	@cd test/deploy && ../../$(ISOLATED) env $(OFFLINE) $(GO) test -count=1 ./...

# The live node (test/node): the real kubelet, containerd built from its Go
# module and Debian's runc pull static pods through kcred, in their own
# network, mount and PID namespaces (test/node/node-ns: a test killed
# before its cleanup, or timed out, leaves no daemon running). Binaries are
# built (and runc installed) outside the namespaces, where modules can be
# fetched.
NODE_BIN := $(CURDIR)/bin/node
NODE_NS := $(CURDIR)/test/node/node-ns

node-deps:
	@command -v runc >/dev/null || { echo "installing runc (Debian's package)"; export DEBIAN_FRONTEND=noninteractive; apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends runc; }
	@echo "building the kubelet, containerd and kcred into bin/node (first time: several minutes)"
	@cd test/node && $(GO) mod download && $(GO) run ./cmd/kcred-node build $(NODE_BIN)

test-node: node-deps
	@echo "running the live node test in its own network, mount and PID namespaces"
	@cd test/node && $(NODE_NS) env $(OFFLINE) KCRED_NODE_BIN=$(NODE_BIN) $(GO) test -count=1 -timeout 20m ./...

test-node-if-able:
	@if [ -e /sys/fs/cgroup/cgroup.controllers ]; then \
		echo "test-node skipped: the live node supports cgroup v1 and hybrid layouts only, and this machine has pure cgroup v2"; \
	elif [ "$$(id -u)" = 0 ] && $(NODE_NS) true 2>/dev/null; then \
		$(MAKE) --no-print-directory test-node; \
	else echo "test-node skipped: the live node needs root and unshare --net --mount --pid (run make test-node as root)"; fi

demo-node: node-deps
	@cd test/node && $(NODE_NS) env $(OFFLINE) $(GO) run ./cmd/kcred-node demo $(NODE_BIN)

fuzz:
	@echo "fuzzing every parser ($${FUZZTIME:-2000x} inputs each)"
	@$(ISOLATED) env $(OFFLINE) FUZZTIME=$${FUZZTIME:-2000x} scripts/fuzz-smoke

# Only what the demo links is fetched and compiled: not the judge, not the
# test-only modules. On a cold machine the standard library packages that
# kcred's own code names (listed offline, before any module is fetched) are
# compiled while the modules download: the cache then has them for the build
# (its errors are the build's to report).
DEMO := ./cmd/kcred ./cmd/kcred-demo
demo:
	@echo "fetching modules and building kcred and the demo (first time: about 2 minutes)"
	@std="$$(CGO_ENABLED=0 GOPROXY=off $(GO) list -e -deps -f '{{if .Standard}}{{.ImportPath}}{{end}}' $(DEMO) 2>/dev/null)"; \
		{ [ -z "$$std" ] || $(COMPILE) $$std >/dev/null 2>&1; } & \
		CGO_ENABLED=0 $(GO) list -deps $(DEMO) >/dev/null; fetched=$$?; wait $$!; [ $$fetched = 0 ]
	@$(DEVBUILD) -o bin/ $(DEMO)
	@echo "running the demo in a loopback-only network namespace"
	@$(ISOLATED) env $(OFFLINE) bin/kcred-demo --kcred bin/kcred

# The upstream ECR plugin is built from the module proxy (outside the
# namespace, never committed) for BenchmarkUpstreamECR; without it that one
# benchmark skips.
UPSTREAM_ECR := $(CURDIR)/bin/upstream/ecr-credential-provider

bench: deps
	@echo "building the upstream ECR plugin to compare with (bench/upstream-ecr)"
	@bench/upstream-ecr $(UPSTREAM_ECR) >/dev/null 2>&1 || { rm -f $(UPSTREAM_ECR); echo "  not built (no module proxy?): BenchmarkUpstreamECR will skip"; }
	@echo "running the benchmarks in a loopback-only network namespace (about 6 minutes)"
	@up=; [ -x $(UPSTREAM_ECR) ] && up=$(UPSTREAM_ECR); \
		$(ISOLATED) env $(OFFLINE) KCRED_UPSTREAM_ECR=$$up $(GO) test -run '^$$' -bench . -benchtime 20x -timeout 40m ./bench/

# The release binaries only; cmd/kcred's TestReleaseReproducible runs this
# twice and compares the bytes.
binaries:
	@echo "building kcred $(VERSION) for $(PLATFORMS) into $(DIST)/"
	@mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		GOOS=$$os GOARCH=$$arch $(BUILD) -o $(DIST)/kcred-$$os-$$arch$$ext ./cmd/kcred || exit 1; \
	done

# Offline once the modules are fetched (make deps; tools/ is fetched here).
# The SBOM lists the modules linked into each binary, from its build info,
# with the licences cyclonedx-gomod detects in the module cache (reported as
# evidence, as the tool does: a detector's finding, not an assertion).
# GOSUMDB=off: its look-ups of modules already in the cache, verified when
# they were fetched, would otherwise need the network.
release: binaries
	@echo "writing an SBOM per binary (CycloneDX, licences detected by cyclonedx-gomod; first time: compiling it)"
	@cd tools && $(GO) mod download
	@log="$$(mktemp)"; for f in $(DIST)/kcred-*-*; do \
		case "$$f" in *.json) continue;; esac; \
		GOPROXY=off GOSUMDB=off $(SBOM) bin -json -licenses -noserial -notimestamp -version $(VERSION) -output "$$f.cdx.json" "$$f" 2>"$$log" || { cat "$$log"; rm -f "$$log"; exit 1; }; \
	done; rm -f "$$log"
	@cd $(DIST) && sha256sum kcred-* > SHA256SUMS
	@echo "$(DIST)/: $$(cd $(DIST) && ls kcred-* SHA256SUMS | tr '\n' ' ')"

# The container image, without a container engine: internal/image puts each
# Linux binary, the Mozilla CA bundle and a non-root default user on an empty
# base; the index (amd64 + arm64) is written as an OCI image layout, and
# pushed to PUSH (a reference, credentials from the docker config) if set.
image:
	@$(MAKE) --no-print-directory binaries PLATFORMS="linux/amd64 linux/arm64"
	@echo "assembling the multi-arch image (linux/amd64, linux/arm64) into $(DIST)/image"
	@$(GO) run ./cmd/kcred-image --dist $(DIST) --out $(DIST)/image --version $(VERSION) $(if $(PUSH),--push $(PUSH))

clean:
	rm -rf bin dist
