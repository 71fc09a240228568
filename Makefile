# DFX user interface. `make sim` and `make test` set up everything they need on a fresh machine.

PYTHON      ?= python3
VENV        ?= .venv
VPY         := $(VENV)/bin/python
STAMP       := $(VENV)/.deps-stamp
MODEL       ?= models/demo
PROMPT      ?= def 
TOKENS      ?= 16
CORES       ?= 1
BACKEND     ?= rtl
CORE        ?= u280
JOBS        ?= auto

.PHONY: deps system-deps test sim verilog bench resources bitstream demo-model clean help

help:
	@echo "make sim        generate text on the simulated hardware with the shipped demo model"
	@echo "make test       run the whole test suite (sets up .venv and simulators first)"
	@echo "make verilog    elaborate the gateware to Verilog under build/verilog"
	@echo "make bench      run the benchmarks, writing JSON under build/bench"
	@echo "make resources  Yosys synth_xilinx resource estimates, JSON under build/resources"
	@echo "make bitstream  Vivado (batch) bitstream for the Alveo U280 under build/vivado"
	@echo "make clean      remove build products and the virtual environment"

deps: $(STAMP)

# The simulators come from Debian; install them when missing (we need root or sudo for that).
system-deps:
	@if command -v iverilog >/dev/null 2>&1 && command -v verilator >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	echo "dfx: installing Icarus Verilog and Verilator from Debian (apt-get)"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; \
	else echo "dfx: error: iverilog/verilator are missing and I am not root (no sudo):" \
		"install the Debian packages 'iverilog' and 'verilator' by hand" >&2; exit 1; fi; \
	$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq iverilog verilator || { \
		echo "dfx: error: apt-get could not install iverilog/verilator;" \
			"install them by hand and run make again" >&2; exit 1; }

$(STAMP): pyproject.toml | system-deps
	@echo "dfx: installing the Python dependencies into $(VENV)"
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@# pip's own notes (e.g. about index locations of this machine's pip configuration) go to
	@# the log; on a failure its tail is shown.
	@{ $(VPY) -m pip install --quiet --upgrade pip && \
	   $(VPY) -m pip install --quiet -e '.[dev]'; } > $(VENV)/pip-install.log 2>&1 || { \
		tail -n 30 $(VENV)/pip-install.log >&2; \
		echo "dfx: error: pip could not install the dependencies (log: $(VENV)/pip-install.log)" >&2; \
		exit 1; }
	@touch $(STAMP)

test: deps
	$(VENV)/bin/pytest -n $(JOBS) -q tests

# `make sim` runs the demo model on the RTL of the DFX core, simulated whole in Verilator at the
# U280 parameters (CORE=u280: d=64, l=16, 32 HBM ports), every token checked against the ISA
# simulator. The first run builds the core's Verilator model (about 5 minutes on 2 cores; cached
# under build/coresim/). CORE=demo (d=64, l=8, 4 HBM ports) builds faster; CORES=N simulates a
# ring of N cores. BACKEND=isasim runs the ISA simulator (the bit-true model of the cores),
# BACKEND=reference the float reference; the reference backend has no cores (it refuses
# --cores): CORES goes only to the others.
sim: deps
	$(VENV)/bin/dfx generate --backend $(BACKEND) --model $(MODEL) \
		$(if $(filter reference,$(BACKEND)),,--cores $(CORES)) \
		$(if $(filter rtl,$(BACKEND)),--core $(CORE)) \
		--prompt "$(PROMPT)" --max-new-tokens $(TOKENS)

verilog: deps
	$(VENV)/bin/dfx verilog --out build/verilog

bench: deps
	$(VENV)/bin/dfx bench --out build/bench

resources: deps
	$(VENV)/bin/dfx resources --out build/resources
	$(VENV)/bin/dfx resources core --out build/resources

# Needs AMD Vivado on PATH; stops at once, naming it, when it is not there.
bitstream:
	@command -v vivado >/dev/null 2>&1 || { echo "dfx: error: \`vivado\` is not on PATH:" \
		"make bitstream needs AMD Vivado (source its settings64.sh first)" >&2; exit 1; }
	@$(MAKE) --no-print-directory deps
	$(VPY) -m dfx_hw.top.build --out build/vivado

# Retrain the shipped demo model (PyTorch CPU, offline tooling only; never needed at run time).
demo-model: deps
	$(VPY) -m pip install --quiet torch==2.13.0
	$(VPY) tools/train_demo.py --out $(MODEL)

clean:
	rm -rf build sim_build .pytest_cache .hypothesis $(VENV) *.egg-info
