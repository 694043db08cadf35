# Stopline's entry points. `make run` and `make test` work on a fresh Debian/Ubuntu machine: they
# install what is missing first (scripts/setup), then build. CI runs `make test` (.ci/run).

CARGO ?= cargo
# Debug builds: dependencies are optimised (see [profile.dev.package."*"]), our crates build fast.
APP := target/debug/stopline-desktop
CLI := target/debug/stopline
# Where `cargo install` puts tools such as tauri-driver (scripts/setup installs it).
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

.PHONY: run test setup ui build lint check-layering test-rust test-ui test-e2e bindings bench fuzz soak clean hub package package-test package-sizes

run:
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "make run: no display found (DISPLAY and WAYLAND_DISPLAY are unset)."; \
	  echo "Stopline is a desktop app: run this from a graphical session."; \
	  echo "Without one, build the CLI with 'cargo build -p stopline-cli' and run 'target/debug/stopline --help'."; \
	  exit 1; \
	fi
	@$(MAKE) --no-print-directory build
	$(APP)

setup:
	@scripts/setup

# Release packages (.deb and .rpm) with the Tauri bundler, in target/release/bundle/: the desktop
# app, the `stopline` CLI, the desktop entry and icons, AppStream metainfo, and the hub's systemd
# unit (installed disabled). The commit is the repository's; set STOPLINE_COMMIT to name another.
package: ui
	$(CARGO) build --locked --release -p stopline-cli
	mkdir -p target/package
	sed 's#/usr/local/bin/stopline#/usr/bin/stopline#g' deploy/stopline-hub.service > target/package/stopline-hub.service
	cd src-tauri && ../ui/node_modules/.bin/tauri build --ci --bundles deb,rpm
	@ls -l target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm

# The .deb installed in a fresh Debian 12 root (debootstrap), checked as a person would use it:
# versions, first use, serve, the app to its queue under Xvfb (a screenshot in
# target/package-test), the desktop entry, upgrade and removal. Needs root. CI runs it after
# `make test` (scripts/package-test says what it checks).
package-test: package
	scripts/package-test

# Binary and .deb sizes of the tuned release profile against Cargo's untuned defaults (and, with
# FAT=1, fat LTO with one codegen unit), built in target/sizes/ (docs/performance.md#packages).
package-sizes: package
	scripts/package-sizes $(if $(FAT),--fat)

# A throwaway team hub: PostgreSQL in target/hub, migrated, and `stopline hub` on
# 127.0.0.1:9178 with the demo workspace until Ctrl-C (docs/hub.md).
hub: setup
	$(CARGO) build --locked -p stopline-cli
	scripts/hub

# The UI is embedded into the desktop binary at compile time, so it is built first.
ui: setup
	cd ui && npm run build --silent

build: ui
	$(CARGO) build --locked -p stopline-desktop -p stopline-cli

test: ui lint check-layering test-rust test-ui test-e2e
	@echo "make test: all checks passed"

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# Only src-tauri may depend on Tauri: the domain never knows it is in a desktop app.
check-layering:
	@scripts/check-layering

test-rust: ui
	$(CARGO) test --workspace --locked

test-ui: setup
	cd ui && npm run typecheck --silent && npm test --silent

# The real app in real WebKit (tauri-driver + WebKitWebDriver under Xvfb); screenshots go to
# target/e2e-artifacts. Uses the binaries test-rust built, with the UI embedded.
test-e2e: build
	tests/e2e/run

# Benchmarks: separate from tests, never asserting times. Figures go to docs/performance.md.
# Fuzzes the parsers of untrusted input, 10 minutes a target (FUZZ_SECONDS to change); needs
# the nightly toolchain. Not part of `make test`.
fuzz: setup
	scripts/fuzz

bench: setup
	$(CARGO) bench --locked -p stopline-core --bench config_check
	$(CARGO) bench --locked -p stopline-engine --bench alert_storm
	$(CARGO) bench --locked -p stopline-engine --bench report
	$(CARGO) bench --locked -p stopline-cli --bench page_latency
	$(CARGO) bench --locked -p stopline-cli --bench contact_latency
	$(CARGO) bench --locked -p stopline-cli --bench cli_during_storm
	$(CARGO) bench --locked -p stopline-hub --bench intake
	$(CARGO) bench --locked -p stopline-cli --bench hub_streams
	$(CARGO) bench --locked -p stopline-cli --bench team_sync
	$(CARGO) bench --locked -p stopline-cli --bench replica_year
	cd ui && npm run build --silent
	$(CARGO) build --release --locked -p stopline-desktop -p stopline-cli
	scripts/bench-desktop
	tests/e2e/run bench

# The crash test run longer: 200 kill -9 of the engine mid-storm instead of make test's 20.
soak: setup
	STOPLINE_SOAK_ROUNDS=200 $(CARGO) test --locked -p stopline-cli --test cli durability::sigkill_during_a_storm -- --nocapture

# Regenerates ui/src/bindings.ts from the Rust transport types; commit the result.
bindings: ui
	UPDATE_BINDINGS=1 $(CARGO) test --locked -p stopline-desktop --lib typescript_bindings

clean:
	$(CARGO) clean
	rm -rf ui/dist
