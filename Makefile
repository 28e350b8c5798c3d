# The two commands a new user runs, on a fresh Debian 12 machine with Python 3.11:
#   make demo   install what is missing, build, generate the sample data, run the main jobs
#   make test   the same set-up, then the C++ (ctest) and Python (pytest) suites
# Each step leaves a stamp in .make/, so re-running is quick when nothing changed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CADENCE := $(VENV)/bin/cadence
STAMP := .make
NPROC := $(shell nproc 2>/dev/null || echo 2)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export CMAKE_BUILD_PARALLEL_LEVEL := $(NPROC)

APT_PACKAGES := build-essential cmake ninja-build pkg-config python3-venv python3-dev \
  libsndfile1-dev libflac-dev libsoxr-dev libgtest-dev fluidsynth timgm6mb-soundfont
BUILD_DEPS := "scikit-build-core>=0.10" "nanobind>=2.0" "cmake>=3.22" ninja
CORE_SOURCES := $(shell find src bindings tests/cpp -name '*.cpp' -o -name '*.h' -o -name CMakeLists.txt) CMakeLists.txt
SAMPLE_SOURCES := $(wildcard python/cadence/sample/*.py)

.PHONY: demo test setup build ctest pytest sanitize clean
.DEFAULT_GOAL := demo

setup: $(STAMP)/apt $(STAMP)/venv

$(STAMP)/apt: Makefile
	@mkdir -p $(STAMP)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

$(STAMP)/venv: $(STAMP)/apt pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(BUILD_DEPS)
	@touch $@

# Editable install: the Python sources are used in place; the extension builds incrementally
# in build/<wheel tag>/ (see pyproject.toml).
$(STAMP)/build: $(STAMP)/venv $(CORE_SOURCES) pyproject.toml
	$(PY) -m pip install -q --no-build-isolation -e ".[test]"
	@touch $@

build: $(STAMP)/build

# The core alone, without Python, as a downstream C++ user would build it.
ctest: $(STAMP)/venv
	PATH=$(abspath $(VENV))/bin:$$PATH cmake -S . -B build/core -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	PATH=$(abspath $(VENV))/bin:$$PATH cmake --build build/core
	PATH=$(abspath $(VENV))/bin:$$PATH ctest --test-dir build/core --output-on-failure -j $(NPROC)

pytest: $(STAMP)/build
	$(PY) -m pytest -q

test: ctest pytest

sanitize: $(STAMP)/venv
	PATH=$(abspath $(VENV))/bin:$$PATH cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCADENCE_SANITIZE=ON >/dev/null
	PATH=$(abspath $(VENV))/bin:$$PATH cmake --build build/sanitize
	PATH=$(abspath $(VENV))/bin:$$PATH ctest --test-dir build/sanitize --output-on-failure -j $(NPROC)

demo/drums/e-gmd-v1.0.0.csv: $(STAMP)/build $(SAMPLE_SOURCES)
	$(CADENCE) sample drums demo/drums --force

demo/gait.parquet: $(STAMP)/build $(SAMPLE_SOURCES)
	$(CADENCE) sample gait demo/gait.parquet

demo: demo/drums/e-gmd-v1.0.0.csv demo/gait.parquet
	$(CADENCE) sample summary demo/drums
	$(CADENCE) sample summary demo/gait.parquet
	$(CADENCE) gait features demo/gait.parquet -o demo/gait-features.parquet
	$(CADENCE) gait validate demo/gait.parquet --ranges docs/gait_ranges_example.yaml --list 10
	$(CADENCE) gait report demo/gait.parquet -o demo/gait-report \
	  --features hip_flexion_angle_ipsi_rad,knee_flexion_angle_ipsi_rad,ankle_dorsiflexion_angle_ipsi_rad,knee_flexion_moment_ipsi_Nm_kg
	@rm -rf demo/drums-index demo/drums-clips
	$(CADENCE) drums prepare demo/drums demo/drums-index
	$(CADENCE) drums prepare demo/drums demo/drums-clips --layout clips --clip 5.0
	$(CADENCE) drums inspect demo/drums-index
	$(CADENCE) drums verify demo/drums-clips
	$(PY) -c "from cadence import drums; ds = drums.open('demo/drums-index'); x = ds[0]; \
	  print(f'read back: {len(ds)} records; record 0 = {x[\"record_id\"]}, window {x[\"audio\"].shape}, classes {x[\"classes\"].tolist()}')"

clean:
	rm -rf build $(STAMP) demo
