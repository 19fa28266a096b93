"""sentence-transformers' `fit` example scripts (our equivalents in tests/st_scripts/) run on xenc and on the peer,
the two versions differing in their import lines only."""

import os
import re
import runpy
import sys
from pathlib import Path

import pytest
from transformers import BertModel

from tests.conftest import tiny_config

SCRIPTS = Path(__file__).parent / "st_scripts"
ST_MODULES = {  # name imported from xenc -> the sentence-transformers module it comes from there
    "CrossEncoder": "sentence_transformers.cross_encoder",
    "InputExample": "sentence_transformers",
    **{
        name: "sentence_transformers.cross_encoder.evaluation"
        for name in (
            "CECorrelationEvaluator",
            "CESoftmaxAccuracyEvaluator",
            "CEF1Evaluator",
            "CEBinaryClassificationEvaluator",
            "CERerankingEvaluator",
        )
    },  # fmt: skip
}
EXPECTED = {  # script -> keys of the evaluator results it prints last, in both libraries
    "training_stsbenchmark.py": {"sts-test_pearson", "sts-test_spearman"},
    "training_nli.py": {"AllNLI-dev_f1_macro", "AllNLI-dev_f1_micro", "AllNLI-dev_f1_weighted"},
    "training_duplicates.py": {"mrpc-dev_accuracy", "mrpc-dev_f1", "mrpc-dev_average_precision"},
    "training_rerank.py": {"train-eval_mrr@10"},
}


def as_sentence_transformers(source: str) -> str:
    """The script with its `from xenc import ...` line swapped for sentence-transformers' imports; nothing else."""
    lines = []
    for line in source.splitlines():
        if line.startswith("from xenc import "):
            names = line.removeprefix("from xenc import ").split(", ")
            lines += [f"from {ST_MODULES[name]} import {name}" for name in names]
        else:
            assert "xenc" not in line, f"xenc outside the import line: {line}"
            lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, tiny_tokenizer) -> str:
    """A tiny pretrained-encoder stand-in without a head: each script gives it the head its task needs."""
    folder = tmp_path_factory.mktemp("tiny-base")
    config = tiny_config(1)
    config.max_position_embeddings = 512  # the re-ranking script asks for max_length 256
    BertModel(config).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return str(folder)


def run_script(path: Path, out: Path, base: str, monkeypatch, capsys) -> str:
    """Run the script as `python path out` would, in this process (no second interpreter start-up per script)."""
    env = {"XENC_DATA_DIR": str(Path(os.environ["XENC_DATA_DIR"]).resolve()), "EXAMPLE_MODEL": base,
           "EXAMPLE_LIMIT": "48", "EXAMPLE_EPOCHS": "1",
           # sentence-transformers 6.2's CrossEncoder.fit saves a best model only from step evaluations (its epoch-end
           # evaluations never reach its save callback), so the scripts here also evaluate every 4 steps
           "EXAMPLE_EVAL_STEPS": "4"}  # fmt: skip
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.setattr(sys, "argv", [str(path), str(out)])
        patch.chdir(out.parent)  # sentence-transformers writes checkpoints/ into the working dir
        capsys.readouterr()
        runpy.run_path(str(path), run_name="__main__")
        return capsys.readouterr().out


@pytest.mark.heavy
@pytest.mark.filterwarnings("ignore:.*no classification head")  # expected: each script puts a new head on a base
@pytest.mark.filterwarnings("ignore:'pin_memory' argument")  # sentence-transformers' DataLoader on a CPU machine
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_script_runs_on_both_libraries_with_only_imports_changed(
    script, tmp_path, tiny_base, monkeypatch, capsys
):
    source = (SCRIPTS / script).read_text()
    peer = tmp_path / f"st_{script}"
    peer.write_text(as_sentence_transformers(source))
    assert "xenc" not in peer.read_text()
    for name, path in (("xenc", SCRIPTS / script), ("st", peer)):
        out = tmp_path / name
        printed = run_script(path, out, tiny_base, monkeypatch, capsys)
        keys = set(re.findall(r"'([^']+)':", printed.strip().splitlines()[-1]))
        assert EXPECTED[script] <= keys, (name, keys)
        assert (out / "model.safetensors").exists(), name
        assert list((out / "eval").glob("*.csv")), f"{name}: no evaluator CSV in output/eval"
