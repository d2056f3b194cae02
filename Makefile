# The two set-up commands of README.md: `make demo` (main job) and `make test` (all tests).
# Both install what they need first (scripts/install-deps.sh is idempotent).
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test unit demo clean format

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Every test: unit, integration and privileged suites. Skipped tests print why.
test: build
	bash scripts/run-tests.sh $(BUILD)

# Only the fast, unprivileged unit tests.
unit: build
	ctest --test-dir $(BUILD) -L unit --output-on-failure -j $(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD)

format:
	git ls-files '*.cpp' '*.h' '*.c' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
