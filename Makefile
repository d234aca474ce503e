# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest-xdist workers for `make test` (one per build core; whole test files go to one worker, so each
# module-scoped archive fixture is generated once)
TEST_WORKERS ?= 2
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test install lint clean

$(STAMP): pyproject.toml
	@echo ">> creating the virtual environment in $(VENV) and installing mri-search (about 3 minutes the first time)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(BIN)/python -c "import mri_search, torch, pydicom, nibabel" && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@echo ">> generating a small synthetic MRI archive (DICOM + NIfTI + reports) in demo_out/archive"
	$(BIN)/mri-search synth demo_out/archive --studies 12 --seed 7 --format both --workers 2 --overwrite
	@echo ">> summarising what was written"
	$(BIN)/mri-search synth-summary demo_out/archive
	@echo ">> drawing the phantom gallery to demo_out/preview/gallery.png"
	$(BIN)/mri-search synth demo_out/preview --preview --seed 7 --workers 2 --overwrite
	@echo ">> indexing the archive with the shipped model into an embedded Qdrant (demo_out/qdrant) and Parquet"
	$(BIN)/mri-search index demo_out/archive --db demo_out/qdrant --parquet demo_out/index.parquet --no-progress
	@echo ">> text query: the five best series, one per study"
	$(BIN)/mri-search query "axial T2 of the neck with a mass in the left tonsil" --db demo_out/qdrant --top-k 5 \
		--group-by study
	@echo ">> image query: the series most like the archive's first T2w NIfTI, thumbnails in demo_out/thumbs"
	$(BIN)/mri-search query --image "$$(ls demo_out/archive/nifti/*/*/anat/*_T2w.nii.gz | head -n 1)" \
		--db demo_out/qdrant --top-k 5 --thumbnails demo_out/thumbs
	@echo ">> done: see demo_out/"
	@echo ">> to browse the demo index: $(BIN)/mri-search serve --db demo_out/qdrant   (then open http://127.0.0.1:8000/)"

lint: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP)
	$(BIN)/ruff check --select F --output-format concise mri_search pretrain indexer benchmarks tests
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf demo_out .pytest_cache
