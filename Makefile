# Thin wrapper over CMake. `make demo` and `make check` install what a fresh
# Debian machine lacks, configure, build, and run.
BUILD   ?= build
ASAN    ?= build-asan
CLANG_BUILD ?= build-clang
FUZZ_BUILD  ?= build-fuzz
CLANG   ?= clang-14
PREFIX  ?= /usr/local
DESTDIR ?=
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DNNINIT_WERROR=ON

.PHONY: all deps build demo tour check check-clang sanitize fuzz fuzz-smoke format install bench bench-train clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) -j $(JOBS)

# The main job: the lab's whole suite on subsets (a few minutes on 2 cores),
# then where the report is.
LAB_OUT ?= lab-report
demo: build
	./$(BUILD)/nninit lab --quick --out $(LAB_OUT)
	@echo "open $(LAB_OUT)/index.html (also $(LAB_OUT)/results.md, $(LAB_OUT)/results.json)"

# A short tour of the CLI.
tour: build
	@mkdir -p demo-out
	./$(BUILD)/nninit schemes
	./$(BUILD)/nninit explain kaiming_normal --shape 64,3,7,7 --nonlinearity relu
	./$(BUILD)/nninit explain xavier_uniform --shape 256,784 --gain 1.6666666666666667
	./$(BUILD)/nninit fill trunc_normal --shape 256,784 --std 0.02 --a -0.04 --b 0.04 \
	    --seed 0 --key layers.0.weight -o demo-out/layers.0.weight.npy --stats
	./$(BUILD)/nninit probe --arch "784 -> [dense 256 tanh] x20 -> dense 10" --init "normal(std=0.01)" --input fashion
	./$(BUILD)/nninit train --arch "784 -> [dense 256 relu] x4 -> dense 10" --init "kaiming_normal(nonlinearity=relu)" \
	    --lr 0.01 --momentum 0.9 --epochs 1

check: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again, Python and browser tests included, built by clang
# with warnings as errors: clang's warnings differ from gcc's, and the fill
# kernels' FMA dispatch must link and give the same bits (tests pin them;
# ctest runs them on the portable kernels too, test_*_portable).
check-clang: deps
	cmake -S . -B $(CLANG_BUILD) $(CMAKE_FLAGS) -DCMAKE_C_COMPILER=$(CLANG)
	cmake --build $(CLANG_BUILD) -j $(JOBS)
	cd $(CLANG_BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps
	cmake -S . -B $(ASAN) $(CMAKE_FLAGS) -DNNINIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --output-on-failure -j $(JOBS)

# libFuzzer harnesses (fuzz/): the libraries instrumented for coverage, ASan
# and UBSan, each harness first replays fuzz/regressions/, then fuzzes for
# FUZZ_SECONDS from a copy of its seed corpus; fuzz/run.sh prints inputs
# run, coverage and crashes, and fails on any crash. fuzz-smoke is CI's 10 s
# per harness.
FUZZ_SECONDS ?= 60
FUZZ_C_FLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) $(CMAKE_FLAGS) -DCMAKE_C_COMPILER=$(CLANG) -DNNINIT_FUZZ=ON \
	    -DNNINIT_BUILD_TESTS=OFF -DNNINIT_BUILD_BENCH=OFF -DCMAKE_C_FLAGS="$(FUZZ_C_FLAGS)"
	cmake --build $(FUZZ_BUILD) --target fuzzers -j $(JOBS)
	bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

# Every .c and .h in the tree's style (.clang-format).
format:
	clang-format-14 -i $$(git ls-files '*.c' '*.h')

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	BUILD_DIR=$(BUILD) bash bench/run.sh

bench-train: build
	BUILD_DIR=$(BUILD) bash bench/bench_train.sh

clean:
	rm -rf $(BUILD) $(ASAN) $(CLANG_BUILD) $(FUZZ_BUILD) demo-out $(LAB_OUT)
