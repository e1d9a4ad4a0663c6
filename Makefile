# burrow: `make` builds bin/burrow, `make test` runs every test, `make demo`
# shows the image commands. Run as root, missing packages are installed and
# burrow itself runs as an unprivileged user; run as a user, the missing
# packages are named.

PREFIX ?= /usr/local
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export PATH := $(dir $(GO)):$(PATH)
# Only the overlay and vfs drivers are used; urfave/cli's markdown and man
# renderers are left out of the normal binary (`make docs` builds its own).
TAGS := exclude_graphdriver_btrfs exclude_graphdriver_zfs urfave_cli_no_docs osusergo netgo seccomp
VERSION ?= $(shell git describe --tags --exact-match 2>/dev/null || echo 0.1.0-dev)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS := -s -w -extldflags "-static" -X main.version=$(VERSION) -X main.commit=$(COMMIT)
export CGO_ENABLED := 1
empty :=
space := $(empty) $(empty)
comma := ,
export GOFLAGS := -tags=$(subst $(space),$(comma),$(TAGS))
DOCTAGS := $(subst urfave_cli_no_docs,burrow_docs,$(TAGS))

# Debian packages: to build, to run rootless with full id mapping, and the
# base image of the tests and the demo.
PACKAGES := gcc libc6-dev libseccomp-dev uidmap busybox-static xz-utils zstd util-linux passwd
# The other tools the integration tests check interoperability with: skopeo,
# a registry (distribution), umoci, and htpasswd for the registry's auth.
TEST_PACKAGES := skopeo docker-registry umoci apache2-utils

.PHONY: all build deps install test test-unit test-integration check demo clean bench docs

all: build

build: bin/burrow

bin/burrow: deps $(shell find . -name '*.go' -not -path './tests/*') go.mod go.sum
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/burrow .

deps:
	@test -x "$(GO)" || { echo "Go 1.26 is needed: not found at $(GO) nor on PATH (install it under /usr/local/go; Debian's golang package is too old)" >&2; exit 1; }
	@bash contrib/deps.sh $(PACKAGES)

install: build
	install -D -m 0755 bin/burrow $(DESTDIR)$(PREFIX)/bin/burrow
	install -D -m 0644 contrib/completion/burrow.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/burrow

check: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags '$(DOCTAGS)' ./commands
	$(GO) test -race ./...

test-unit: deps
	$(GO) vet ./...
	$(GO) vet -tags '$(DOCTAGS)' ./commands
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /tests)

test-integration: build
	@bash contrib/deps.sh $(TEST_PACKAGES)
	@bash tests/run.sh

test: test-unit test-integration

demo: build
	@bash contrib/demo.sh

# The command reference, generated from the command tree.
docs: deps
	$(GO) build -trimpath -tags '$(DOCTAGS)' -o bin/burrow-docs .
	@mkdir -p docs && bin/burrow-docs __docs docs

bench: build
	@bash bench/images.sh

clean:
	rm -rf bin
