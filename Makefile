# Quick start:  make demo   (set up the newest Python, trace examples/shop, open the report)
#               make test   (set up 3.11/3.12/3.13, Chromium, run every test)
export PYENV_VERSION ?= 3.11:3.12:3.13

.PHONY: demo test ui bench

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

ui:
	bash scripts/ui.sh

bench:
	bash bench/setup.sh && .venv-3.12/bin/python bench/run.py
