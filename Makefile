# Two commands do everything on a fresh machine:
#   make quickstart   set up, then build the tiny model + data, train (SFT -> GRPO), evaluate
#   make test         set up, then lint and run the test suite (what CI runs)
.PHONY: setup quickstart test lint

setup:
	bash scripts/setup.sh
	bash scripts/setup_java.sh

quickstart: setup
	.venv/bin/vlmr quickstart --out runs/quickstart

lint: setup
	.venv/bin/ruff check .

test: lint
	bash scripts/setup_browser.sh
	.venv/bin/python -m pytest
