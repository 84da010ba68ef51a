# The two set-up commands of the README. Each installs missing packages, configures and builds.
#   make run    the main job: the embedded cluster (coordinator, healer, 3 replicas in one
#               process) healing the recalibration drift scenario, narrated
#   make test   build and run every test through CTest
#   make sim    the experiment: reflex-sim on the seed scenario, printing its table
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: run sim test build deps clean
run: build
	$(BUILD)/bin/reflex-cluster --scenario recalibration

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
