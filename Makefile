# The two commands: `make run` and `make test` (see README.md).
BUILD ?= build
ASAN_BUILD ?= build-asan
CONFIG ?= examples/yardstick.yaml
JOBS ?= $(shell nproc)

.PHONY: all deps build run test test-asan clean format bench

all: build

deps:
	bash scripts/deps.sh all

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: deps build
	bash scripts/run.sh $(BUILD)/yardstick $(CONFIG)

# Every test through CTest: the Release build, then the whole suite again
# under AddressSanitizer + UndefinedBehaviorSanitizer.
test: build
	cd $(BUILD) && ctest --output-on-failure -j 2
	$(MAKE) test-asan

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DYS_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2

bench: build
	bash bench/probe_throughput.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
