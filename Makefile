# The two commands users need: `make run` (serve the chat UI) and `make test` (the whole suite).
# Each sets up what is missing first, so both work on a fresh machine with Python and the package registries.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install install-cluster browser ocr index bench

run: install
	$(PY) -m rag.cli serve

test: install install-cluster browser ocr
	$(PY) -m pytest

install: $(STAMP)

# llama-cpp-python compiles llama.cpp on install. Its default native build uses every instruction set the CPU lists,
# and on a virtual machine that lists AMX it has not enabled, the first token dies in libggml-cpu (a general protection
# fault). The AVX2 build runs on any x86-64 CPU of the last decade, and is fast enough for the small local model. It is
# built without pip's cache, which may hold a native build from before. LLAMA_CMAKE_ARGS= restores the native build.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

# torch is pinned first: an unpinned torch (asked for by sentence-transformers) pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install --quiet --no-cache-dir "llama-cpp-python>=0.3"
	$(PY) -m pip install --quiet -e ".[local,test]"
	touch $(STAMP)

# The test suite also runs the store on Milvus (milvus-lite) and ingest on Ray; `make run` does not pull them.
CLUSTER_STAMP := $(VENV)/.installed-cluster
install-cluster: $(CLUSTER_STAMP)

$(CLUSTER_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[local,test,milvus,ray]"
	touch $(CLUSTER_STAMP)

# The UI tests drive Debian's Chromium (never a browser downloaded by a test tool).
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# OCR of scanned PDF pages (and its tests) uses Debian's Tesseract with its English model.
ocr:
	@command -v tesseract >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null; }

index: install
	$(PY) -m rag.cli index
