# The README's commands. PYTHON may point at a virtual environment's interpreter.
PYTHON ?= python3
PIP = $(PYTHON) -m pip
TORCHATTACKS = torchattacks==3.5.1
SYSTEM_PACKAGES = dataset-fashion-mnist chromium
STUDIES = fashion_mnist   # configs/NAME.toml -> precomputed/NAME

.PHONY: app test test-fast install install-dev system-deps study docs lint

app: install          ## install, then start the app on the shipped results
	$(PYTHON) -m streamlit run app.py

test: system-deps install-dev   ## install everything, then run every test
	$(PYTHON) -m pytest

test-fast:            ## the unit lane without real data (seconds; no install)
	$(PYTHON) -m pytest tests/unit -m "not real_data" -q

install:
	$(PIP) install -q -e '.[app]'
	$(PIP) install -q --no-deps $(TORCHATTACKS)

install-dev:
	$(PIP) install -q -e '.[dev]'
	$(PIP) install -q --no-deps $(TORCHATTACKS)

system-deps:          ## Debian packages: Fashion-MNIST and chromium (for the browser tests)
	@if ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	fi

study: install        ## regenerate the shipped results (resumable: rerun after an interruption)
	for name in $(STUDIES); do $(PYTHON) -m engine run configs/$$name.toml --out precomputed/$$name || exit 1; done

docs:                 ## rewrite the generated documents (SUMMARY.md, docs/findings.md, docs/config.md, the README's verdicts)
	PYTHONPATH=. $(PYTHON) scripts/update_docs.py

lint:                 ## ruff, mypy on engine/ and ui/, and the import contract (engine layers; no streamlit/plotly in the engine)
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy engine ui
	$(PYTHON) -c "from importlinter.cli import lint_imports_command; lint_imports_command()"
