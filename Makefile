# The two commands: `make run` and `make test`. Everything else is a step they use.
VENV_DIR ?= .venv
export VENV_DIR
APP_PY := $(VENV_DIR)/app/bin/python

.PHONY: run test install build validate publish eval bench lint clean

install:  ## create or update the two virtual environments (skipped when the lock files are unchanged)
	@scripts/bootstrap.sh

build: install  ## convert the embedding model, build the FAQ index and train Rasa, each only if needed
	$(APP_PY) -m bot build

validate: install  ## every content check, Rasa's own validator included; exit 1 on errors
	$(APP_PY) -m bot validate

publish: install  ## swap the running stack (make run) to the newest release, without downtime
	$(APP_PY) -m bot publish

run: install  ## build what changed, start Rasa (5005) and the action server (5055); Ctrl-C stops both
	$(APP_PY) -m bot run

test: install  ## the whole test suite, integration tests included
	$(APP_PY) -m bot build
	$(APP_PY) -m pytest -q

eval: install  ## figures per language on both dev sets (held-out halves)
	$(APP_PY) -m bot eval data/eval/dev.tsv --split holdout
	$(APP_PY) -m bot eval data/eval/dev-wild.tsv --split holdout

bench: install  ## latency and memory of the running stack; long messages; edit -> live times (bench/publish.py)
	$(APP_PY) bench/latency.py
	$(APP_PY) bench/long_messages.py
	$(APP_PY) bench/publish.py

lint: install
	$(VENV_DIR)/app/bin/ruff check bot actions tests bench

clean:
	rm -rf models/faq_index models/rasa models/build models/releases models/reports logs
