# Quick start:  make demo   (set up, trace examples/shop, open the report)
#               make test   (set up 3.11/3.12/3.13, Chromium, run every test)
export PYENV_VERSION ?= 3.11:3.12:3.13

.PHONY: demo test ui bench

demo:
	bash scripts/setup.sh 3.11
	.venv-3.11/bin/skeleton run examples/shop/app.py

test:
	bash scripts/test.sh

ui:
	bash report-ui/scripts/build.sh

bench:
	bash bench/setup.sh && .venv-3.12/bin/python bench/run.py
