"""Every notebook runs top to bottom in smoke mode (tiny model, a few steps) into a temporary folder."""

import json
import math
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, tmp_path: Path, **parameters) -> Path:
    """Execute a notebook in smoke mode into tmp_path (never over the committed file); returns its output_dir."""
    out = tmp_path / "run"
    pm.execute_notebook(
        NOTEBOOKS / name,
        tmp_path / "executed.ipynb",
        parameters={"output_dir": str(out), "reproduce_dir": str(tmp_path / "none"), "smoke": True, **parameters},
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    return out


def solutions_pass(executed: Path) -> bool:
    """The last code cell runs the solutions through every exercise's check: all print "correct"."""
    cells = json.loads(executed.read_text())["cells"]
    last = next(c for c in reversed(cells) if c["cell_type"] == "code")
    printed = "".join("".join(o.get("text", "")) for o in last["outputs"])
    return printed.count("correct") >= 3 and "not yet" not in printed


@pytest.mark.notebooks
def test_01_sts_regression_smoke(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    pm.execute_notebook(
        NOTEBOOKS / "01_sts_regression.ipynb",
        tmp_path / "executed.ipynb",
        parameters={
            "model": str(tiny_model_dir),
            "bi_encoder": str(tiny_model_dir),
            "output_dir": str(out),
            "reproduce_dir": str(tmp_path / "none"),
            "smoke": True,
        },  # fmt: skip
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    summary = json.loads((out / "results.json").read_text())
    keys = ["bi_encoder_spearman", "untrained_spearman", "fit_test_spearman", "test_spearman", "test_pearson",
            "mse_test_spearman", "fusion_test_spearman"]  # fmt: skip
    assert all(math.isfinite(summary[k]) for k in keys), summary
    assert summary["provenance"]["n_train_fit"] == 16 and summary["provenance"]["commit"]
    assert summary["provenance"]["mode"] == "learner"  # the default a learner gets
    assert solutions_pass(tmp_path / "executed.ipynb")
    shares = summary["attention_share"]  # per layer, before and after training: shares of attention in 0..1
    assert len(shares) == 2 and all(0 <= s <= 1 for layer in shares.values() for s in layer)
    table = pd.read_csv(out / "results.csv")
    assert table["spearman"].notna().all() and table["run"].str.startswith("this notebook").sum() == 6
    assert table["run"].str.startswith("published: ").sum() == 7  # xenc.published's STSb rows
    for figure in ("architectures", "data", "learning_curve", "test_scatter", "attention_pair", "attention_share"):
        assert (out / "figures" / f"{figure}.png").exists(), figure


@pytest.mark.notebooks
def test_05_cross_teaches_bi_smoke(tiny_base_dir, tmp_path):
    out = tmp_path / "run"
    pm.execute_notebook(
        NOTEBOOKS / "05_cross_teaches_bi.ipynb", tmp_path / "executed.ipynb", cwd=str(NOTEBOOKS),
        parameters={"base": str(tiny_base_dir), "output_dir": str(out), "smoke": True}, kernel_name="python3",
        progress_bar=False,
    )  # fmt: skip
    summary = json.loads((out / "results.json").read_text())
    rows = ["bi-encoder, zero-shot", "bi-encoder, trained here", "cross-encoder, trained here",
            "bi-encoder, gold + silver"]  # fmt: skip
    assert list(summary["live"]) == rows and all(math.isfinite(summary["live"][r]["spearman"]) for r in rows)
    assert summary["silver_pairs"] > 0 and summary["provenance"]["n_train"] == 16
    assert (out / "student" / "modules.json").exists() and (out / "figures" / "silver_labels.png").exists()
    assert summary["provenance"]["mode"] == "learner" and solutions_pass(tmp_path / "executed.ipynb")
    assert set(summary["samplers"]) == {"random", "bm25", "bi-encoder", "gold pairs (for reference)"}
    assert all(0 <= row["mean teacher score"] <= 1 for row in summary["samplers"].values())
    assert list(summary["first_stage"]) == ["bi-encoder, zero-shot", "bi-encoder, trained on SciFact claims"]
    assert all(0 <= row["recall@100"] <= 1 for row in summary["first_stage"].values())
    assert (out / "first-stage" / "modules.json").exists()


@pytest.mark.notebooks
def test_02_nli_classification_smoke(tiny_base_dir, tmp_path):
    out = run_notebook("02_nli_classification.ipynb", tmp_path, model=str(tiny_base_dir))
    summary = json.loads((out / "results.json").read_text())
    keys = ["fit_test_accuracy", "test_accuracy", "test_macro_f1", "ood_accuracy", "majority_accuracy", "temperature",
            "ece_before", "ece_after", "threshold", "sts_only_spearman", "sts_after_nli_spearman"]  # fmt: skip
    assert all(math.isfinite(summary[k]) for k in keys), summary
    assert summary["temperature"] > 0 and summary["provenance"]["n_train"] == 16
    assert summary["provenance"]["mode"] == "learner" and solutions_pass(tmp_path / "executed.ipynb")
    table = pd.read_csv(out / "results.csv")
    assert table["value"].notna().all() and table["run"].str.startswith("this notebook").sum() == 8
    assert table["model"].str.contains("bi-encoder, sick-e-bi recipe").sum() == 1  # the same-budget bi-encoder
    assert (out / "nli_bi" / "modules.json").exists()  # saved as a sentence-transformers folder
    assert table["run"].str.startswith("published: ").sum() == 6  # SBERT's two STSb rows, 3 MNLI, 1 SNLI
    for figure in ("confusion_matrix", "reliability"):
        assert (out / "figures" / f"{figure}.png").exists(), figure
    assert json.loads((out / "nli" / "config.json").read_text())["label2id"] == {  # the SNLI stage's model
        "entailment": 0, "neutral": 1, "contradiction": 2}  # fmt: skip


@pytest.mark.notebooks
def test_03_bi_vs_cross_reranking_smoke(tiny_model_dir, tiny_base_dir, tmp_path):
    tiny = str(tiny_model_dir)
    out = run_notebook("03_bi_vs_cross_reranking.ipynb", tmp_path, model=tiny, bi_encoder=tiny, sts_model=tiny,
                       trecqa_rerankers=f"{tiny}={tmp_path}/trecqa", trecqa_bi_encoders=tiny, epochs=f"{tiny}=1",
                       scifact_bi_encoders=f"{tiny}=fp32,{tiny_base_dir}=bf16",
                       scifact_starts=f"{tiny}={tiny_base_dir}",  # a reranker trained from another model
                       scifact_rerankers=f"{tiny}={tmp_path}/scifact", learning_rates=f"{tiny}=1e-4",
                       dev_ks="2,3", rerank_ks="2,4", latency_queries=2, max_length=64, precision="fp32")  # fmt: skip
    summary = json.loads((out / "results.json").read_text())
    assert summary["bi_rate"] > 0 and summary["ce_rate"] > 0 and math.isfinite(summary["all_pairs_agreement"])
    name = Path(tiny).name
    assert set(summary["trecqa"]) == {
        "BM25",
        f"bi-encoder {name}",
        f"cross-encoder {name}",
        "cross-encoder STSb cross-encoder, no TrecQA training",
    }
    assert summary["provenance"]["mode"] == "learner" and solutions_pass(tmp_path / "executed.ipynb")
    top100 = summary["scifact_top100"]  # the bi-encoder's top 100, re-ranked: recall@100 cannot change
    assert len({round(row["recall@100"], 9) for row in list(top100.values())[:2]}) == 1
    assert all(0 <= row["test MAP"] <= 1 for row in summary["trecqa"].values())
    assert set(summary["scifact_by_k"]) == {"2", "4"} and summary["provenance"]["test_queries"] == 8
    assert summary["scifact_chosen"][name]["k"] in (2, 3)
    assert (out / "smoke-models" / "scifact" / "scores.json").exists()  # trained and cached in its own output_dir
    assert not (tmp_path / "scifact").exists() and not (tmp_path / "trecqa").exists()  # never where a full run looks
    table = pd.read_csv(out / "results.csv")
    ours = table[table["run"].str.startswith("this notebook")]
    # TrecQA methods, first stages, reranker alone and fused, the top 100 re-ranked
    assert len(ours) == 4 + 5 + 2 + 1 and ours["value"].between(0, 1).all()
    assert f"hybrid: BM25 + bi-encoder {name}" in set(ours["system"])  # beside the hybrid of all three
    weights = summary["scifact_hybrid_weights"]["hybrid"]
    assert len(weights) == 3 and sum(weights.values()) == pytest.approx(1)
    assert ours["run"].str.contains("; model ").sum() == 1 + 2 + 1  # the trained rows name the model they loaded
    assert table["run"].str.startswith("published: ").sum() == 4  # TrecQA MAP / MRR, SciFact x2
    assert set(summary["fast_paths"]) == {"torch fp32", "torch bf16", "OpenVINO fp32", "OpenVINO int8, guarded"}
    assert summary["fastest"] in summary["fast_paths"]
    for figure in ("cost_vs_n", "trecqa_per_question", "scifact_learning_curves", "ndcg_latency_vs_k",
                   "scifact_quality_vs_latency", "funnel"):  # fmt: skip
        assert (out / "figures" / f"{figure}.png").exists()


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_committed_notebooks_hold_results_not_run_noise(path):
    """`make run-notebook` silences load reports and strips progress bars: what is committed is results."""
    notebook = json.loads(path.read_text())
    outputs = [o for cell in notebook["cells"] for o in cell.get("outputs", [])]
    text = "\n".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    for noise in ("<progress", "LOAD REPORT", "Writing model shards", "Loading weights", "it/s]", "TqdmWarning"):
        assert noise not in text, f"{path.name}: {noise!r} in a committed output"
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    assert "widgets" not in notebook["metadata"]
    sources = "".join("".join(cell["source"]) for cell in notebook["cells"])
    assert "PLACEHOLDER" not in sources and "READING_" not in sources, "a reading or the run time is missing"
    ids = [cell.get("id") for cell in notebook["cells"]]
    assert None not in ids and len(set(ids)) == len(ids), "every cell needs its own id (nbformat 4.5)"
