# lanfeed: `make run` opens the desktop app, `make serve` runs a headless node,
# `make test` runs every test. Each target installs what it needs first, so a
# fresh Debian 12 machine only needs Go, Node/npm and root (or sudo).

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
GO           ?= go
GOBIN        := $(shell $(GO) env GOPATH)/bin
WAILS_VERSION := v2.11.0
WAILS        := $(GOBIN)/wails
STATICCHECK_VERSION := 0.8.2
STATICCHECK  := $(GOBIN)/staticcheck
NFPM_VERSION := v2.45.2
NFPM         := $(GOBIN)/nfpm
GOFMT        := $(shell $(GO) env GOROOT)/bin/gofmt
# Linux builds use WebKitGTK 4.1 (Debian 12's); the tag selects it.
TAGS         := webkit2_41
# Debian packages: cgo/webkit for the window, Xvfb + imagemagick + tesseract
# for the desktop test, Chromium for the browser tests, iproute2 and curl for
# the discovery tests in network namespaces (avahi-daemon: beside Avahi);
# for make package and its checks: nsis (makensis, the Windows installer),
# p7zip-full (7z lists the installer), lintian (the .deb), rpm (rpm -qip),
# rpmlint (with cpio), file, desktop-file-utils and appstream (the menu entry,
# the metainfo).
APT_PACKAGES := build-essential python3 pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev \
                xvfb xauth imagemagick tesseract-ocr chromium fonts-dejavu-core iproute2 curl avahi-daemon \
                nsis p7zip-full lintian rpm rpmlint cpio file desktop-file-utils appstream
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The version both binaries report (`lanfeedd version`, `lanfeed --version`,
# GET /api/info), stamped into lanfeed/internal/version at link time, and the
# packages' version: from git tags (scripts/version.sh; README "Versions").
# Computed once, before any build step touches the tree.
ifeq ($(origin VERSION),undefined)
VERSION      := $(shell scripts/version.sh 2>/dev/null || echo 0.0.0)
endif
COMMIT       ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE   ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS      := -X lanfeed/internal/version.Version=$(VERSION) \
                -X lanfeed/internal/version.Commit=$(COMMIT) \
                -X lanfeed/internal/version.Date=$(BUILD_DATE)
STAMP        := .make
ARGS         ?=

.PHONY: all run serve soak fuzz test test-go vet-go lint-go test-web test-e2e test-socketio deps-socketio test-desktop test-package bench bench-smoke deps-bench build build-web lanfeedd package deps deps-apt deps-web deps-wails deps-staticcheck deps-nfpm dev clean

all: build

## ---- set-up ------------------------------------------------------------

deps: deps-apt deps-web deps-wails deps-nfpm

# Installs only the Debian packages that are missing.
deps-apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# npm ci whenever the lock file changed since the last install.
deps-web: frontend/node_modules/.package-lock.json
frontend/node_modules/.package-lock.json: frontend/package-lock.json frontend/package.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

deps-wails:
	@if ! [ -x $(WAILS) ] || ! $(WAILS) version 2>/dev/null | grep -q '$(WAILS_VERSION)'; then \
	  echo "installing the Wails CLI $(WAILS_VERSION)"; \
	  $(GO) install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION); \
	fi

# `staticcheck -version` prints "staticcheck 2026.2.2 (0.8.2)".
deps-staticcheck:
	@if ! [ -x $(STATICCHECK) ] || ! $(STATICCHECK) -version 2>/dev/null | grep -qF '($(STATICCHECK_VERSION))'; then \
	  echo "installing staticcheck $(STATICCHECK_VERSION)"; \
	  $(GO) install honnef.co/go/tools/cmd/staticcheck@v$(STATICCHECK_VERSION); \
	fi

# A `go install`ed nFPM says "dev" for its own version; the module version
# is in its build info (`go version -m`: "mod github.com/goreleaser/nfpm/v2 v2.45.2 h1:...").
deps-nfpm:
	@if ! [ -x $(NFPM) ] || ! $(GO) version -m $(NFPM) 2>/dev/null | grep -qE '^\s+mod\s+github.com/goreleaser/nfpm/v2\s+$(NFPM_VERSION)\s'; then \
	  echo "installing nFPM $(NFPM_VERSION)"; \
	  $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION); \
	fi

## ---- build -------------------------------------------------------------

# The web UI bundle, embedded by both the desktop app and lanfeedd.
build-web: deps-web
	cd frontend && npm run build

lanfeedd: build-web
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o build/bin/lanfeedd ./cmd/lanfeedd

# The desktop app for this OS. The Makefile builds the frontend (-s: wails
# does not run npm again); bindings are not generated (-skipbindings): the
# frontend reaches the window.go globals through its transport module, whose
# types test-go and test-web hold to the Go services (TestBindingsContract);
# -m: no `go mod tidy` at build time.
# -buildmode=pie with full RELRO: the hardening Debian's binaries have
# (lintian asks for it); the window is a cgo program, so it links with gcc.
build: deps-apt deps-wails build-web
	GOFLAGS="-buildmode=pie" CGO_LDFLAGS="-Wl,-z,relro -Wl,-z,now" \
	  $(WAILS) build -tags $(TAGS) -skipbindings -m -s -ldflags "$(LDFLAGS)"

# Installable packages, into build/package/: lanfeed and lanfeedd as .deb
# and .rpm (nFPM) and the Windows installer (NSIS); see README "Install".
package: deps-apt deps-wails deps-nfpm build lanfeedd
	LDFLAGS="$(LDFLAGS)" VERSION="$(VERSION)" bash scripts/build-windows.sh --installer
	VERSION="$(VERSION)" NFPM=$(NFPM) bash scripts/package.sh

## ---- the two user commands ---------------------------------------------

run: build
	./build/bin/lanfeed $(ARGS)

serve: lanfeedd
	./build/bin/lanfeedd serve $(ARGS)

# Development: live-reloading window (see README). deps-web installs the
# npm packages only when the lock file changed, so wails.json has no
# frontend:install (Wails ran `npm ci` on every start: over 2 minutes); -s:
# no `npm run build` either, the window loads the UI from Vite. wails.json
# names the assetdir, which Wails hands the app in its environment; without
# it, Wails' dev runtime parses the app's own flags (ARGS) with its flag set
# and prints "flag provided but not defined: -listen" and its usage.
dev: deps-apt deps-web deps-wails
	$(WAILS) dev -tags $(TAGS) -skipbindings -m -s $(if $(ARGS),-appargs "$(ARGS)")

## ---- tests -------------------------------------------------------------

# Every test: Go (vet, gofmt, staticcheck, race), the frontend's unit tests,
# end-to-end tests in Debian's Chromium against lanfeedd, the desktop window
# under Xvfb, and the packages (with the Windows cross-build and installer).
test: deps
	$(MAKE) test-go test-web test-e2e test-socketio test-desktop test-package bench-smoke

test-go: build-web vet-go lint-go
	$(GO) test -race -count=1 ./...

# go vet for every OS the desktop app ships on, test files included, so that
# a file whose build constraint is missing or misspelt fails here and not on
# someone's Mac. Windows and macOS are vetted without cgo (no cross C
# toolchain here). That still covers the root package: without `wails
# build`'s production tag, Wails compiles its no-window stub, so main.go is
# type-checked against the same options API; the real macOS window needs cgo
# on a Mac, and the Windows one is built by scripts/build-windows.sh. bench/
# is left out there: it is a Linux-only harness (taskset, /proc, rlimits).
CROSS_GOOS := windows darwin
vet-go:
	$(GO) vet ./...
	@for os in $(CROSS_GOOS); do \
	  echo "go vet (GOOS=$$os CGO_ENABLED=0)"; \
	  pkgs=$$(GOOS=$$os CGO_ENABLED=0 $(GO) list ./... | grep -v '^lanfeed/bench/'); \
	  GOOS=$$os CGO_ENABLED=0 $(GO) vet $$pkgs; \
	done

# gofmt over every Go file outside node_modules and hidden directories, then
# staticcheck with its default checks (no staticcheck.conf: none is off).
lint-go: deps-staticcheck
	@unformatted=$$(find . \( -name node_modules -o -name '.?*' \) -prune -o -name '*.go' -print0 | xargs -0 -r $(GOFMT) -l); \
	if [ -n "$$unformatted" ]; then printf 'gofmt -l: not formatted (run gofmt -w):\n%s\n' "$$unformatted"; exit 1; fi
	$(STATICCHECK) ./...

test-web: deps-web
	cd frontend && npm run typecheck && npm run lint && npm test

test-e2e: lanfeedd
	cd frontend && LANFEEDD=$(CURDIR)/build/bin/lanfeedd npm run e2e

# The stock socket.io client (pinned in test/socketio) against lanfeedd's
# /socket.io/ endpoint, in every transport mode, and a page in Chromium.
deps-socketio: test/socketio/node_modules/.package-lock.json
test/socketio/node_modules/.package-lock.json: test/socketio/package-lock.json test/socketio/package.json
	cd test/socketio && npm ci --no-audit --no-fund
	@touch $@

test-socketio: lanfeedd deps-apt deps-socketio
	cd test/socketio && LANFEEDD=$(CURDIR)/build/bin/lanfeedd npm test

test-desktop: build lanfeedd
	bash scripts/test-desktop.sh

# The packages make package built: lintian, rpm -qip, rpmlint, the NSIS
# installer's contents and the versions everywhere; under CI (CI=true) or
# with LANFEED_INSTALL_TEST=1 it also installs the .deb on this machine,
# opens the app from its menu entry under Xvfb and removes it again.
test-package: package
	VERSION="$(VERSION)" bash scripts/test-package.sh

# Long variants of the reliability tests (crash loop x200, 1,000-peer
# reconnect storm, ...); figures go to docs/SECURITY.md. About 10 minutes.
soak:
	$(GO) test ./reliability -run . -soak -count=1 -timeout 60m -v
	$(GO) test ./realtime -run 'TestFloods_FlooderDoesNotSlowOthers$$' -count=5 -timeout 10m -v

# Coverage-guided fuzzing of post validation, the post encoder, the websocket
# message path and the REST handlers; the seed corpora (testdata/fuzz) already run in make test.
FUZZTIME ?= 10m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzValidatePost$$'  -fuzztime $(FUZZTIME) ./feed
	$(GO) test -run '^$$' -fuzz '^FuzzPostJSON$$'      -fuzztime $(FUZZTIME) ./feed
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMessage$$' -fuzztime $(FUZZTIME) ./realtime
	$(GO) test -run '^$$' -fuzz '^FuzzREST$$'          -fuzztime $(FUZZTIME) ./realtime

## ---- benchmarks --------------------------------------------------------

# The socket.io reference server's packages. better-sqlite3 has no reachable
# prebuilt binary, so node-gyp compiles it (about a minute) against the local
# Node headers (gcc, make and python3 come with deps-apt).
deps-bench: deps-apt bench/socketio/node_modules/.package-lock.json
bench/socketio/node_modules/.package-lock.json: bench/socketio/package-lock.json bench/socketio/package.json
	cd bench/socketio && npm_config_nodedir=$${npm_config_nodedir:-/usr} npm ci --no-audit --no-fund
	@touch $@

# The whole matrix against socket.io and the floor, the mesh scenarios and
# the web UI in Chromium (under an hour on a quiet machine); rewrites
# docs/BENCHMARKS.md (appending bench/ANALYSIS.md) and its charts in
# docs/img/. U1 needs lanfeedd with the web UI built in (lanfeedd), Chromium
# (deps-apt) and playwright-core (deps-web).
bench: lanfeedd deps-bench deps-web
	$(GO) run ./bench/cmd/bench -lanfeedd build/bin/lanfeedd $(ARGS)

# Correctness only: every event delivered, no peer dropped, on every server
# (the floor included); a follower catches up and passes live posts on, each
# exactly once; a small UI run shows every post and every change of a burst.
bench-smoke: lanfeedd deps-bench deps-web
	$(GO) run ./bench/cmd/bench -smoke -lanfeedd build/bin/lanfeedd

clean:
	rm -rf build/bin build/package frontend/node_modules
	find frontend/dist -mindepth 1 ! -name .gitkeep -delete
