# Two commands do everything on a fresh machine:
#   make quickstart   set up, then build the tiny model + data, train (SFT -> GRPO), evaluate
#   make test         set up, then lint and run the whole test suite (what CI runs)
# and, while working on the code:
#   make test-fast    lint and the tests that neither train or serve a model nor drive a browser
.PHONY: setup setup-java quickstart test test-fast lint

setup:
	bash scripts/setup.sh

# Java runs METEOR and the PTB tokenizer of the scene3d (ScanQA) caption metrics, and nothing else.
setup-java:
	bash scripts/setup_java.sh

quickstart: setup
	.venv/bin/vlmr quickstart --out runs/quickstart

lint: setup
	.venv/bin/ruff check .

test: lint setup-java
	bash scripts/setup_browser.sh
	.venv/bin/python -m pytest

test-fast: lint
	.venv/bin/python -m pytest -m "not slow and not browser"
