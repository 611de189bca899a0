# A thin wrapper around CMake (as Neovim's Makefile is): every rule here is a
# command a person could type; the build itself lives in CMakeLists.txt.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_TYPE ?= RelWithDebInfo

.PHONY: all deps build test unit-asan run bench fuzz clean

all: build

deps:
	@bash .ci/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(CMAKE_TYPE) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Every test: unit, end to end, peers (Google's adb and fastboot) in the normal
# build, then the unit tests again under AddressSanitizer and UBSan.
test: build unit-asan
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

unit-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DDF_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	@cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS) -L unit

run: build
	@bash tests/e2e/make-run.sh $(BUILD)/bin

bench: build
	@bash bench/run.sh $(BUILD)/bin

fuzz: deps
	@bash tests/fuzz/run.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz
