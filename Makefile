# The two set-up commands of the README. Each installs missing packages, configures and builds.
#   make sim    run the main job: reflex-sim on the seed scenario, printing its table
#   make test   build and run every test through CTest
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: sim test build deps clean
sim: build
	$(BUILD)/bin/reflex-sim --scenario seed --out $(BUILD)/sim-seed

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 900

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j$(JOBS)

deps:
	bash deploy/install-deps.sh

clean:
	rm -rf $(BUILD)
