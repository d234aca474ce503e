#!/usr/bin/env bash
# How mri_search/model/default/ was made (issues 4 and 8): the exact commands, in order. Run from the repository
# root with the project's venv active and HF_HUB_OFFLINE=1. Times are for 2 CPU cores shared with other jobs.
set -euo pipefail
D=${D:-runs}   # where archives and runs go (not committed)

# 1. Data. Training archive: generator seed 11, all regions (300 studies, 1,526 series, 268 patients).
#    Benchmark archives use other seeds (101: all regions; 202: head and neck), so they share no patient with it.
mri-search synth $D/train300 --studies 300 --seed 11 --format nifti --workers 2
mri-search synth $D/eval60 --studies 60 --seed 101 --format nifti --workers 2
mri-search synth $D/benchhn --studies 140 --seed 202 --regions head_neck --format nifti --workers 2

# 2. Stage 1: self-supervised two-view contrastive learning on the training archive's series (reports unused);
#    ~34 min. pretrain splits by patient (split seed 0): 1,286 training / 240 validation series.
mri-search pretrain vision $D/train300 --out $D/s1-con600 --method contrastive --steps 600 --batch-size 8 \
    --lr 1e-4 --warmup 30 --eval-every 200 --ckpt-every 100 --workers 2

# 3. Stage 2: report-guided CLIP alignment from the stage-1 encoder (same split), report tower frozen (the preset's
#    default, chosen by the benchmark: docs/pretrain_results.md); ~21 min. --resume continues a stopped run.
mri-search pretrain align $D/train300 --out $D/s2-con600-frozen-300 --init $D/s1-con600 --steps 300 \
    --batch-size 16 --lr 1e-4 --warmup 15 --eval-every 100 --ckpt-every 50 --workers 2 --text-tune frozen

# 4. Ship: weights stored as float16; loading rebuilds float32.
mri-search pretrain export $D/s2-con600-frozen-300 --out mri_search/model/default --dtype float16

# 5. The comparisons the card reports: the same stage 2 without stage 1 (random image tower), and the previously
#    shipped model (git show b613585:mri_search/model/default/... into $D/old-default).
mri-search pretrain align $D/train300 --out $D/s2-only-frozen-300 --steps 300 --batch-size 16 --lr 1e-4 \
    --warmup 15 --eval-every 100 --ckpt-every 50 --workers 2 --text-tune frozen

# 6. Measure on the held-out archives with every baseline, then write the card and the README table from it.
mri-search bench --model mri_search/model/default --archive $D/eval60 --split all --fit-archive $D/train300 \
    --hn-archive $D/benchhn --compare old_default=$D/old-default --compare s2_only_frozen_300=$D/s2-only-frozen-300 \
    --out $D/bench-default --workers 2
python -m benchmarks.model_card --model mri_search/model/default --bench $D/bench-default \
    --recipe docs/default_model_recipe.sh --stage1 $D/s1-con600 --stage2 $D/s2-con600-frozen-300 \
    --out mri_search/model/default/MODEL_CARD.md --readme README.md
