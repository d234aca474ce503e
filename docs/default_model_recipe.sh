#!/usr/bin/env bash
# How mri_search/model/default/ was made (issue 8): the exact commands, in order. Run from the repository root
# with the project's venv active and HF_HUB_OFFLINE=1. Times are for 2 CPU cores shared with other jobs.
set -euo pipefail
D=${D:-runs}   # where archives and runs go (not committed)

# 1. Data. Training archive: generator seed 11, all regions (300 studies, 1,526 series, 268 patients).
#    Benchmark archives use other seeds (101: all regions; 202: head and neck), so they share no patient with it.
mri-search synth $D/train300 --studies 300 --seed 11 --format nifti --workers 2
mri-search synth $D/eval60 --studies 60 --seed 101 --format nifti --workers 2
mri-search synth $D/benchhn --studies 140 --seed 202 --regions head_neck --format nifti --workers 2

# 2. Stage 1: self-supervised MAE on the training archive's series (reports unused); ~6 min.
#    pretrain splits by patient (split seed 0): 1,286 training / 240 validation series.
mri-search pretrain vision $D/train300 --out $D/s1-mae --method mae --steps 120 --lr 1e-4 --warmup 15 \
    --batch-size 8 --eval-every 40 --ckpt-every 40 --workers 2

# 3. Stage 2: report-guided CLIP alignment from the stage-1 encoder (same split); --resume continues a stopped run.
#    (--text-tune last: the shipped model tuned the report tower's last 2 layers, the preset default until session 4)
mri-search pretrain align $D/train300 --out $D/default-s2 --init $D/s1-mae --steps 300 --batch-size 16 --lr 1e-4 \
    --warmup 15 --eval-every 100 --ckpt-every 50 --workers 2 --text-tune last

# 4. Ship: weights stored as float16 (32 MB); loading rebuilds float32.
mri-search pretrain export $D/default-s2 --out mri_search/model/default --dtype float16

# 5. Measure on the held-out archives with every baseline, then write the card and the README table from it.
mri-search bench --model mri_search/model/default --archive $D/eval60 --split all --fit-archive $D/train300 \
    --hn-archive $D/benchhn --out $D/bench-default --workers 2
python -m benchmarks.model_card --model mri_search/model/default --bench $D/bench-default \
    --recipe docs/default_model_recipe.sh --stage1 $D/s1-mae --stage2 $D/default-s2 \
    --out mri_search/model/default/MODEL_CARD.md --readme README.md
