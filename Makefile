# A thin wrapper around CMake (as Neovim's Makefile is): every rule here is a
# command a person could type; the build itself lives in CMakeLists.txt.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_TYPE ?= RelWithDebInfo

.PHONY: all deps build build-asan test test-faults test-asan unit-asan run bench fuzz clean

all: build

deps:
	@bash .ci/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(CMAKE_TYPE) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DDF_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

# Every test under AddressSanitizer, UBSan and LeakSanitizer (unit, end to
# end and peers; tests/lib/sanitized.sh fails a shell test when any process
# it started reports), then again in the normal build, the binaries a user
# and Google's tools meet, except the long fault-injection and hostile-input
# tests (FAULT_TESTS), which ran sanitized: `make test-faults` runs them on
# the normal build. Both passes run even if the first fails.
FAULT_TESTS = e2e/test_(disconnects|hostile|shell_stall|reflash_faults)$$

test: build build-asan
	@status=0; \
	(cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)) || status=1; \
	(cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -E '$(FAULT_TESTS)') || status=1; \
	exit $$status

# The fault-injection and hostile-input tests on the normal build.
test-faults: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -R '$(FAULT_TESTS)'

# Only the sanitized run.
test-asan: build-asan
	@cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

# Only the unit tests, sanitized (quick).
unit-asan: build-asan
	@cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS) -L unit

run: build
	@bash tests/e2e/make-run.sh $(BUILD)/bin

bench: build
	@bash bench/run.sh $(BUILD)/bin

fuzz: deps
	@bash tests/fuzz/run.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
