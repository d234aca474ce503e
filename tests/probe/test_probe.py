"""Probes on frozen features: they learn separable features, split by patient, subsample by patient, round-trip
through their folder without pickle, and turn bad label files into clear errors (library and CLI)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.probe import (
    FeaturesInfo, FeaturesWriter, ProbeCfg, evaluate, feature_row, fit_head, join_labels, load_head, low_data,
    patient_splits, read_features, run_eval, run_train, save_head,
)
from mri_search.store.layout import CollectionMeta
from mri_search.store.payload import PAYLOAD_FIELDS

runner = CliRunner()
HIDDEN, EMBED = 12, 8
CLASSES = ("brain", "knee", "spine")


def _meta(model_id: str = "m" * 12) -> CollectionMeta:
    return CollectionMeta(model_id=model_id, model_name="tiny", embed_dim=EMBED, salt_check="s")


def write_features(path, n_patients=30, per_patient=3, seed=0, model_id="m" * 12, separable=True):
    """A features file whose ``pooled`` column separates three classes (class mean + noise) and whose
    ``token_mean`` holds an age-like number on its first axis. Returns ``{series_key: (class, age, patient)}``."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (len(CLASSES), HIDDEN))
    truth, rows = {}, []
    for p in range(n_patients):
        cls = p % len(CLASSES)
        age = float(20 + (p * 7) % 60)
        for s in range(per_patient):
            key = f"p{p}s{s}"
            pooled = (centres[cls] if separable else 0) + rng.normal(0, 1, HIDDEN)
            tm = rng.normal(0, 0.1, HIDDEN)
            tm[0] = age / 10 + rng.normal(0, 0.05)
            payload = {k: None for k in PAYLOAD_FIELDS} | {"series_key": key, "patient_key": f"pat{p}",
                                                           "study_key": f"st{p}"}
            rows.append(feature_row(key, payload, {"image": rng.normal(0, 1, EMBED), "report": None},
                                    {"pooled": pooled, "token_mean": tm}))
            truth[key] = (CLASSES[cls], age, f"pat{p}")
    with FeaturesWriter(path, _meta(model_id), FeaturesInfo(HIDDEN, 8, False, "m", "tiny")) as w:
        w.write(rows)
    return truth


def write_labels(path, rows, header=("series_key", "label")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture()
def files(tmp_path):
    feats = tmp_path / "features.parquet"
    truth = write_features(feats)
    cls = write_labels(tmp_path / "region.csv", [(k, v[0]) for k, v in truth.items()])
    age = write_labels(tmp_path / "age.csv", [(k, v[1]) for k, v in truth.items()])
    return feats, cls, age, truth


def test_features_file_round_trip_and_is_a_points_file(files):
    from mri_search.store.parquet import read_points

    feats, _, _, truth = files
    f = read_features(feats, "pooled")
    assert f.x.shape == (len(truth), HIDDEN) and f.series_keys == list(truth)
    assert f.patient_keys == [v[2] for v in truth.values()]
    assert read_features(feats, "image").x.shape == (len(truth), EMBED)
    pts = list(read_points(feats))  # the index's reader takes it too
    assert len(pts) == len(truth) and len(pts[0].vectors["image"]) == EMBED


def test_a_probe_on_separable_features_learns(files):
    feats, cls, age, _ = files
    data = join_labels(read_features(feats, "pooled"), cls, "classification")
    ev = evaluate(data, ProbeCfg(task="region", fractions=(0.1, 1.0), repeats=2))
    full = ev.fractions["1"]["metrics"]
    assert full["auc"] > 0.99 and full["accuracy"] > 0.95 and full["balanced_accuracy"] > 0.95
    assert ev.baseline["accuracy"] < 0.5  # three balanced classes: the blind guess is far below
    assert ev.fractions["0.1"]["n_train"] < ev.fractions["1"]["n_train"]
    mlp = evaluate(data, ProbeCfg(task="region", head="mlp", hidden=16, max_iter=300))
    assert mlp.fractions["1"]["metrics"]["accuracy"] > 0.9
    reg = join_labels(read_features(feats, "token_mean"), age, "regression")
    ev = evaluate(reg, ProbeCfg(task="age", kind="regression", folds=3))
    assert ev.fractions["1"]["metrics"]["mae"] < 2.0 < ev.baseline["mae"]  # years: far better than the median
    assert ev.n_test == len(reg.y)  # cross-validation scores every series once


def test_noise_features_score_chance(tmp_path):
    feats = tmp_path / "f.parquet"
    truth = write_features(feats, separable=False, n_patients=60)
    cls = write_labels(tmp_path / "l.csv", [(k, v[0]) for k, v in truth.items()])
    ev = evaluate(join_labels(read_features(feats), cls, "classification"), ProbeCfg(folds=5))
    assert 0.3 < ev.fractions["1"]["metrics"]["auc"] < 0.7


def test_saved_heads_reproduce_scikit_learn(files):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    feats, cls, _, _ = files
    data = join_labels(read_features(feats), cls, "classification")
    head = fit_head(data.x, data.y, ProbeCfg())
    x64 = data.x.astype(np.float64)
    xs = StandardScaler().fit(x64).transform(x64)
    ref = LogisticRegression(max_iter=2000, random_state=0).fit(xs, data.y)
    np.testing.assert_allclose(head.predict_proba(data.x), ref.predict_proba(xs), atol=1e-9)
    for kind, y in (("classification", (data.y == "knee").astype(str)), ("regression", np.arange(len(data.y)))):
        for h in ("linear", "mlp"):
            cfg = ProbeCfg(kind=kind, head=h, hidden=8, max_iter=50)
            fitted = fit_head(data.x, y, cfg)
            loaded, _ = load_head(save_head(fitted, feats.parent / f"{kind}-{h}", {"feature": "pooled"}))
            np.testing.assert_array_equal(loaded.predict(data.x), fitted.predict(data.x))
    from sklearn.neural_network import MLPRegressor

    yr = np.arange(len(data.y), dtype=float)
    mlp = fit_head(data.x, yr, ProbeCfg(kind="regression", head="mlp", hidden=8, max_iter=50))
    ref = MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(xs, (yr - yr.mean()) / yr.std())
    np.testing.assert_allclose(mlp.predict(data.x), ref.predict(xs) * yr.std() + yr.mean(), atol=1e-9)


def test_auc_by_hand():
    from mri_search.probe import classification_metrics

    # a two-class probe: one AUC, of the second class (0.9 > 0.2 counts, 0.1 < 0.2 does not)
    m = classification_metrics(["no", "yes", "yes"], np.array([[0.8, 0.2], [0.1, 0.9], [0.9, 0.1]]), ["no", "yes"])
    assert m["auc"] == 0.5 and m["accuracy"] == pytest.approx(2 / 3)
    # several classes: macro one-vs-rest over the test classes; "b", unknown to the probe, scores chance
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8]])
    m = classification_metrics(["a", "a", "b", "b"], proba, ["a", "c"])
    assert m["auc"] == 0.75 and m["accuracy"] == 0.5 and m["balanced_accuracy"] == 0.5


def test_splits_and_low_data_keep_patients_whole(files):
    feats, cls, _, _ = files
    data = join_labels(read_features(feats), cls, "classification")
    groups = np.array(data.groups)
    for folds in (0, 4):
        splits = patient_splits(data.y, data.groups, "classification", 0.2, folds, seed=1)
        assert len(splits) == (folds or 1)
        for tr, te in splits:
            assert not set(groups[tr]) & set(groups[te])
        if folds:  # every series tested once
            assert sorted(np.concatenate([te for _, te in splits]).tolist()) == list(range(len(data.y)))
    train = patient_splits(data.y, data.groups, "classification", seed=1)[0][0]
    subsets = [low_data(train, data.y, data.groups, f, "classification", np.random.default_rng(3))
               for f in (0.01, 0.1, 0.5, 1.0)]
    assert len(set(data.y[subsets[0]])) >= 2  # grown until two classes
    for small, big in zip(subsets, subsets[1:]):
        assert set(small) <= set(big)  # nested
    for s in subsets:  # whole patients only
        for p in set(groups[s]):
            assert set(np.flatnonzero(groups == p)) & set(train) <= set(s)
    assert len(subsets[2]) >= 0.5 * len(train) and len(subsets[3]) == len(train)


def test_train_then_eval_reproduces_the_test_figures(files, tmp_path):
    feats, cls, _, truth = files
    out = tmp_path / "probe"
    metrics = run_train(ProbeCfg(task="region", fractions=(0.1, 1.0), repeats=2), feats, cls, out)
    assert {p.name for p in out.iterdir()} == {"probe.json", "probe.safetensors", "metrics.json", "split.csv"}
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert set(metrics["fractions"]) == {"0.1", "1"} and metrics["classes"] == list(CLASSES)
    res = run_eval(out, feats, cls, predictions=tmp_path / "pred.csv", only="test")
    assert res["n_series"] == metrics["n_test"]
    for m, v in res["metrics"].items():
        assert v == pytest.approx(metrics["fractions"]["1"]["metrics"][m])
    with open(tmp_path / "pred.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == metrics["n_test"] and {r["prediction"] for r in rows} <= set(CLASSES)
    assert not (out / "model.pkl").exists()
    # features of another model are refused, naming both
    other = tmp_path / "other.parquet"
    write_features(other, model_id="o" * 12)
    with pytest.raises(ValueError, match="o{12}.*m{12}"):
        run_eval(out, other, cls)


def test_label_file_mistakes_are_clear(files, tmp_path):
    feats, cls, _, truth = files
    f = read_features(feats)
    keys = list(truth)

    def err(rows, kind="classification", header=("series_key", "label")):
        path = write_labels(tmp_path / "bad.csv", rows, header)
        with pytest.raises(ValueError) as e:
            join_labels(f, path, kind)
        return str(e.value)

    msg = err([(keys[0], "a"), ("nope1", "b"), (keys[1], "b"), ("nope2", "a")])
    assert "2 of 4 series keys are not in" in msg and "line 3 (nope1)" in msg and "line 5 (nope2)" in msg
    assert "--salt" in msg
    assert "line 3: empty label for series" in err([(keys[0], "a"), (keys[1], "")])
    assert "line 2: label 'old' is not a number" in err([(keys[0], "old")], kind="regression")
    assert "not a finite number" in err([(keys[0], "nan")], kind="regression")
    assert "only one class ('a')" in err([(k, "a") for k in keys])
    assert "must name the columns series_key and label (found: id, y)" in err([(keys[0], "a")], header=("id", "y"))
    assert "labelled again" in err([(keys[0], "a"), (keys[0], "b")])
    assert "from 1 patient" in err([(keys[0], "a"), (keys[1], "b")])
    with pytest.raises(ValueError, match="not found"):
        join_labels(f, tmp_path / "missing.csv", "classification")
    with pytest.raises(ValueError, match="no 'pooled' feature .*--feature image"):
        import pyarrow.parquet as pq

        t = pq.read_table(feats)
        pq.write_table(t.drop_columns(["pooled"]).replace_schema_metadata(t.schema.metadata), tmp_path / "x.parquet")
        read_features(tmp_path / "x.parquet", "pooled")


def test_probe_cli(files, tmp_path):
    feats, cls, age, _ = files
    out = tmp_path / "p"
    res = runner.invoke(app, ["probe", "train", "--features", str(feats), "--labels", str(cls), "--task", "region",
                              "--out", str(out), "--fractions", "0.1,1", "--repeats", "2"])
    assert res.exit_code == 0, res.output
    assert "auc" in res.output and "blind guess" in res.output
    res = runner.invoke(app, ["probe", "eval", "--probe", str(out), "--features", str(feats), "--labels", str(cls),
                              "--out", str(tmp_path / "m.json")])
    assert res.exit_code == 0 and json.loads((tmp_path / "m.json").read_text())["metrics"]["auc"] > 0.9
    res = runner.invoke(app, ["probe", "train", "--features", str(feats), "--labels", str(age), "--task", "age",
                              "--out", str(tmp_path / "a"), "--kind", "regression", "--feature", "token_mean",
                              "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["fractions"]["1"]["metrics"]["mae"] < 3
    bad = write_labels(tmp_path / "bad.csv", [("p0s0", "x"), ("zzz", "y")])
    for args, needle in (
        (["train", "--features", str(feats), "--labels", str(bad), "--task", "t", "--out", str(tmp_path / "b")],
         "not in"),
        (["train", "--features", str(feats), "--labels", str(age), "--task", "t", "--out", str(tmp_path / "b"),
          "--fractions", "0,1"], "--fractions"),
        (["train", "--features", str(tmp_path / "none.parquet"), "--labels", str(cls), "--task", "t", "--out",
          str(tmp_path / "b")], "mri-search embed"),
        (["train", "--features", str(feats), "--labels", str(cls), "--task", "t", "--out", str(tmp_path / "b"),
          "--head", "forest"], "--head"),
        (["eval", "--probe", str(tmp_path), "--features", str(feats), "--labels", str(cls)], "not a probe folder"),
        (["eval", "--probe", str(out), "--features", str(feats)], "--labels"),
    ):
        res = runner.invoke(app, ["probe", *args])
        assert res.exit_code == 2 and needle in res.output and "Traceback" not in res.output, (args, res.output)
    for cmd in (["embed", "--help"], ["probe", "train", "--help"], ["probe", "eval", "--help"]):
        assert runner.invoke(app, cmd).exit_code == 0
