"""Bad inputs, table-driven: each case is an input and the error it must give (type or exit status 2, and the words
that name the problem and the fix), never a traceback from deep inside a library, never a silent result."""

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Dataset
from torch.utils.data import DataLoader
from transformers import AutoTokenizer, BertForSequenceClassification, BertModel

from tests.conftest import tiny_config
from xenc import BiEncoder, CrossEncoder, CrossEncoderTrainer, InputExample
from xenc.cli import main as cli
from xenc.cli import read_pairs
from xenc.data import tokenize_pairs
from xenc.data.mirror import read_nli, read_stsb
from xenc.train import main, parse_args

PAIRS = [["a man is eating", "a man eats food"], ["a dog runs", "a cat sits"]]
FAST = ["--max_train_samples", "16", "--max_eval_samples", "8", "--num_train_epochs", "1", "--disable_tqdm", "true"]
CSV_HEADER = "sentence1,sentence2,label\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_model_dir, tiny_tokenizer):
    """Folders: `one` (trained head, 1 label), `three` (3 labels), `base` (no head), `pickle` (weights as .bin)."""
    root = tmp_path_factory.mktemp("models")
    BertForSequenceClassification(tiny_config(3)).save_pretrained(root / "three")
    BertModel(tiny_config(1)).save_pretrained(root / "base")
    model = BertForSequenceClassification(tiny_config(1))
    (root / "pickle").mkdir()
    torch.save(model.state_dict(), root / "pickle" / "pytorch_model.bin")
    model.config.save_pretrained(root / "pickle")
    for name in ("three", "base", "pickle"):
        tiny_tokenizer.save_pretrained(root / name)
    return {"one": str(tiny_model_dir), **{name: str(root / name) for name in ("three", "base", "pickle")}}


def one(models):
    return CrossEncoder(models["one"], device="cpu")


def fit(models, examples, **kw):
    one(models).fit(DataLoader(examples, batch_size=2), show_progress_bar=False, **kw)


EX = [InputExample(texts=p, label=0.5) for p in PAIRS]

# (id, call(models, tmp), exception, words)
LONG_QUERY = "what is the one long question that takes more than eight tokens"
API_CASES = [
    ("predict-a-string", lambda m, t: one(m).predict("a man"), TypeError, "list of \\[text_a, text_b\\] pairs"),
    ("encode-a-sentence", lambda m, t: one(m).encode(["a man"]), TypeError, "no sentence embedding.*BiEncoder"),
    ("predict-batch-size-float", lambda m, t: one(m).predict(PAIRS, batch_size=1.5), ValueError, "positive integers"),
    ("predict-batch-size-none", lambda m, t: one(m).predict(PAIRS, batch_size=None), ValueError, "positive integers"),
    (
        "predict-dataframe-3-columns",
        lambda m, t: one(m).predict(__import__("pandas").DataFrame({"a": ["x"], "b": ["y"], "c": ["z"]})),
        ValueError,
        "two text columns",
    ),  # fmt: skip
    (
        "token-keep-str",
        lambda m, t: CrossEncoder(m["one"], backend="openvino", token_keep="0.5"),
        TypeError,
        "not a string",
    ),  # fmt: skip
    (
        "calibration-none-text",
        lambda m, t: CrossEncoder(m["one"], backend="openvino", precision="int8", calibration_pairs=[("a", None)]),
        TypeError,
        r"calibration_pairs\[0\]\[1\]",
    ),  # fmt: skip
    (
        "guard-labels-length",
        lambda m, t: CrossEncoder(m["one"], backend="openvino", precision="int8", guard_pairs=(PAIRS, [0.1])),
        ValueError,
        "pairs but 1 labels; give one per pair",
    ),  # fmt: skip
    (
        "fit-mixed-labels",
        lambda m, t: one(m).fit(
            DataLoader(
                [InputExample(texts=["a", "b"], label=1), InputExample(texts=["a", "c"], label=[0, 1, 0])],
                batch_size=2,
            )
        ),
        ValueError,
        r"label\[1\] = \[0, 1, 0\]",
    ),  # fmt: skip
    (
        "fit-dict-items",
        lambda m, t: one(m).fit(DataLoader([{"texts": ["a", "b"], "label": 0.5}], batch_size=1)),
        TypeError,
        "fit takes InputExample",
    ),  # fmt: skip
    ("predict-three-texts", lambda m, t: one(m).predict([["a", "b", "c"]]), ValueError, "expected a pair"),
    ("predict-none-text", lambda m, t: one(m).predict([["a", None]]), TypeError, "both texts must be str"),
    ("predict-number-text", lambda m, t: one(m).predict([["a", 3]]), TypeError, "both texts must be str"),
    ("predict-empty-text", lambda m, t: one(m).predict([["a", ""]]), ValueError, "is empty"),
    ("predict-batch-size-0", lambda m, t: one(m).predict(PAIRS, batch_size=0), ValueError, "positive integers"),
    ("predict-prompt-name", lambda m, t: one(m).predict(PAIRS, prompt_name="query"), ValueError, "not found"),
    ("predict-pool", lambda m, t: one(m).predict(PAIRS, pool={}), ValueError, "predict_distributed"),
    ("default-prompt", lambda m, t: CrossEncoder(m["one"], default_prompt_name="q"), ValueError, "not found"),
    ("predict-windows", lambda m, t: one(m).predict(PAIRS, windows="mean"), ValueError, "windows="),
    ("rank-documents-str", lambda m, t: one(m).rank("q", "a doc"), TypeError, "list of str"),
    ("rank-top-k-negative", lambda m, t: one(m).rank("q", ["a", "b"], top_k=-1), ValueError, "top_k=-1"),
    ("rank-top-k-zero", lambda m, t: one(m).rank("q", ["a", "b"], top_k=0), ValueError, "positive integer"),
    ("rank-top-k-float", lambda m, t: one(m).rank("q", ["a", "b"], top_k=1.5), ValueError, "positive integer"),
    (
        "rank-three-labels",
        lambda m, t: CrossEncoder(m["three"]).rank("q", ["a"]),
        ValueError,
        r"rank\(\) only works for models with num_labels=1",
    ),
    ("precision-unknown", lambda m, t: CrossEncoder(m["one"], precision="int4"), ValueError, "precision='int4'"),
    ("token-keep-out-of-range", lambda m, t: CrossEncoder(m["one"], token_keep=1.5), ValueError, "a fraction in"),
    (
        "kwarg-unknown",
        lambda m, t: CrossEncoder(m["one"], colour="red"),
        TypeError,
        "unexpected keyword argument .colour.",
    ),
    ("max-length-0", lambda m, t: CrossEncoder(m["one"], max_length=0), ValueError, "takes 8 to 128 tokens"),
    ("max-length-negative", lambda m, t: CrossEncoder(m["one"], max_length=-5), ValueError, "max_length=-5"),
    ("max-length-over-model", lambda m, t: CrossEncoder(m["one"], max_length=4096), ValueError, "position table"),
    (
        "int8-without-calibration",
        lambda m, t: CrossEncoder(m["one"], backend="openvino", precision="int8"),
        ValueError,
        "needs calibration pairs",
    ),  # at construction, not at the first predict
    (
        "token-keep-without-guard",
        lambda m, t: CrossEncoder(m["one"], backend="openvino", token_keep=0.5),
        ValueError,
        "checked against fp32 before use",
    ),
    ("max-length-set-later", lambda m, t: setattr(one(m), "max_length", 4096), ValueError, "takes 8 to 128"),
    ("max-length-text", lambda m, t: CrossEncoder(m["one"], max_length="128"), ValueError, "max_length='128'"),
    ("bi-max-length-over-model", lambda m, t: BiEncoder(m["one"], max_length=4096), ValueError, "position table"),
    (
        "query-over-max-length",
        lambda m, t: CrossEncoder(m["one"], max_length=8).predict(
            [[LONG_QUERY, "a passage"]], truncation="only_second"
        ),
        ValueError,
        "Raise max_length",
    ),  # fmt: skip
    (
        "train-query-over-max-length",
        lambda m, t: tokenize_pairs(
            Dataset.from_dict({"sentence1": [LONG_QUERY], "sentence2": ["p"], "label": [1.0]}),
            AutoTokenizer.from_pretrained(m["one"]),
            max_length=8,
            truncation="only_second",
        ),
        ValueError,
        "longer than max_length=8",
    ),  # fmt: skip
    ("device-cuda-absent", lambda m, t: CrossEncoder(m["one"], device="cuda"), ValueError, "CUDA GPU"),
    ("device-unknown", lambda m, t: CrossEncoder(m["one"], device="banana"), ValueError, "not a device name"),
    ("model-path-missing", lambda m, t: CrossEncoder("./no/such/model"), FileNotFoundError, "not a folder"),
    (
        "folder-no-tokenizer",
        lambda m, t: CrossEncoder(_broken(m, t, "tokenizer")),
        FileNotFoundError,
        "no tokenizer files",
    ),
    (
        "folder-empty-config",
        lambda m, t: CrossEncoder(_broken(m, t, "config")),
        FileNotFoundError,
        "config.json is empty or broken",
    ),
    ("folder-no-weights", lambda m, t: CrossEncoder(_broken(m, t, "weights")), FileNotFoundError, "no weights"),
    (
        "reader-sts-out-of-scale",
        lambda m, t: read_stsb(_mirror(t, "stsb", "7.5")),
        ValueError,
        "score '7.5' on line\\(s\\) \\[3\\] is not a number in 0..5",
    ),
    ("reader-sts-not-a-number", lambda m, t: read_stsb(_mirror(t, "stsb", "n/a")), ValueError, "does not clip"),
    (
        "reader-nli-unknown-label",
        lambda m, t: read_nli(_mirror(t, "snli", "maybe"), "snli"),
        ValueError,
        "label 'maybe' on line\\(s\\) \\[3\\]",
    ),
    ("model-relative-missing", lambda m, t: CrossEncoder("runs/no/such/run"), FileNotFoundError, "not a Hub id"),
    ("model-hub-offline", lambda m, t: CrossEncoder("someone/no-such-model"), FileNotFoundError, "HF_HUB_OFFLINE"),
    ("pickle-weights", lambda m, t: CrossEncoder(m["pickle"]), OSError, "allow_pickle=True"),
    ("head-size-mismatch", lambda m, t: CrossEncoder(m["one"], num_labels=3), ValueError, "does not fit num_labels"),
    ("save-onto-a-file", lambda m, t: one(m).save_pretrained(_file(t)), FileExistsError, "is a file"),
    ("save-onto-a-model", lambda m, t: one(m).save_pretrained(m["three"]), FileExistsError, "already holds a model"),
    (
        "fit-label-out-of-range",
        lambda m, t: fit(m, [InputExample(texts=PAIRS[0], label=4.0)]),
        ValueError,
        "not a score in 0..1",
    ),
    ("fit-no-examples", lambda m, t: fit(m, []), ValueError, "no examples"),
    ("fit-onto-a-model", lambda m, t: fit(m, EX, output_path=m["three"]), FileExistsError, "overwrite_output_path"),
    ("fit-sgd", lambda m, t: fit(m, EX, optimizer_class=torch.optim.SGD), ValueError, "AdamW only"),
    ("fit-scheduler", lambda m, t: fit(m, EX, scheduler="bogus"), ValueError, "scheduler='bogus'"),
    ("fit-loss", lambda m, t: fit(m, EX, loss_fct=torch.nn.L1Loss()), ValueError, "L1Loss is not supported"),
    ("input-example-one-text", lambda m, t: InputExample(texts=["only"], label=1), ValueError, "expected a pair"),
    ("trainer-task", lambda m, t: CrossEncoderTrainer(task="sts-b"), ValueError, "Unknown task 'sts-b'"),
    ("trainer-head-size", lambda m, t: _trainer(m, "three", "sts"), ValueError, "needs a model with num_labels=1"),
    ("trainer-loss-task", lambda m, t: _trainer(m, "one", "sts", loss="ce"), ValueError, "does not fit task"),
]
TRAIN_CASES = [
    ("dataset-unknown", ["--dataset", "stsbb"], ValueError, "dataset='stsbb' is unknown"),
    ("dataset-retrieval", ["--dataset", "scifact"], ValueError, "retrieval corpus"),
    ("loss-task", ["--dataset", "stsb", "--loss", "ce"], ValueError, "does not fit task 'sts'"),
    ("max-length-short", ["--max_length", "4"], ValueError, "too short: a pair needs at least 8 tokens"),
    ("max-length-over-model", ["--max_length", "4096"], ValueError, "--max_length=4096: this model takes 8 to 128"),
    ("bi-max-length-over-model", ["--encoder", "bi", "--max_length", "4096"], ValueError, "takes 8 to 128"),
    ("negatives-0", ["--dataset", "trecqa", "--num_negatives", "0"], ValueError, "at least 1 negative"),
    ("teacher-without-loss", ["--dataset", "trecqa", "--teacher", "x"], ValueError, "need --teacher"),
    ("smoothing-bce", ["--label_smoothing_factor", "0.1"], ValueError, "applies to class losses"),
    ("output-holds-model", ["--output_dir", "{one}"], FileExistsError, "already holds a model"),
    ("foreign-checkpoints", ["--output_dir", "{ckpt}"], FileExistsError, "checkpoints of an earlier run"),
    ("resume-nothing", ["--resume_from_checkpoint", "true"], FileNotFoundError, "no complete checkpoint"),
    ("resume-not-checkpoint", ["--resume_from_checkpoint", "{tmp}"], FileNotFoundError, "no trainer_state.json"),
    ("resume-model-only", ["--resume_from_checkpoint", "{ckpt}/checkpoint-4"], ValueError, "no optimizer state"),
    ("base-pickle", ["--model", "{pickle}"], OSError, "allow_pickle"),
]
# (id, file contents (bytes) or None, command, words); every one exits with status 2 before anything is scored
CLI_CASES = [
    ("input-missing", None, ["predict", "--input", "{tmp}/none.csv"], "no such file"),
    ("input-empty", b"", ["predict"], "the file is empty"),
    ("input-not-utf8", CSV_HEADER.encode() + b"caf\xe9,a,0.5\n", ["predict"], "is not utf-8"),
    ("input-ragged", b"sentence1,sentence2\na,b\nc,d,e,f\n", ["predict"], "line 3 has 4 fields, the header 2"),
    ("input-short-row", b"sentence1,sentence2,label\na,b,0.5\nc,d\n", ["eval"], "line 3 has 2 fields, the header 3"),
    ("input-extra-field", b"sentence1\tsentence2\tlabel\na\tb\t0.5\tx\n", ["predict", "--sep", "\t"], "line 2 has 4"),
    ("input-header-only", b"sentence1,sentence2\n", ["predict"], "no rows"),
    ("input-empty-text", b"sentence1,sentence2\na,b\nc, \n", ["predict"], "empty sentence2 on line(s) [3]"),
    ("input-one-column", b"text\nhello\n", ["predict"], "need columns"),
    ("input-no-sentence2", b"sentence1,label\na man,entailment\n", ["predict"], "['sentence2'] missing"),
    ("output-is-input", b"sentence1,sentence2\na,b\n", ["predict", "--output", "{file}"], "is the input file"),
    ("output-folder-missing", b"s1,s2\na,b\n", ["predict", "--output", "{tmp}/no/x.csv"], "does not exist"),
    ("output-exists", b"s1,s2\na,b\n", ["predict", "--output", "{one}/config.json"], "exists; nothing was written"),
    ("untrained-head", b"s1,s2\na,b\n", ["predict", "--model", "{base}"], "no trained classification head"),
    ("int8-on-torch", b"s1,s2\na,b\n", ["predict", "--precision", "int8"], 'pass backend="openvino"'),
    ("precision-unknown", b"s1,s2\na,b\n", ["predict", "--precision", "int4"], "precision='int4' is unknown"),
    ("token-keep-on-torch", b"s1,s2\na,b\n", ["predict", "--token_keep", "0.5"], 'pass backend="openvino"'),
    ("device-cuda", b"s1,s2\na,b\n", ["predict", "--device", "cuda"], "CUDA GPU"),
    ("model-missing", b"s1,s2\na,b\n", ["predict", "--model", "./no/such/model"], "not a folder"),
    ("eval-no-label", b"sentence1,sentence2\na,b\nc,d\n", ["eval"], "no label column"),
    ("eval-label-text", (CSV_HEADER + "a,b,high\nc,d,0.1\ne,f,1\n").encode(), ["eval"], "line(s) [2] is not a number"),
    ("eval-label-nan", (CSV_HEADER + "a,b,0.2\nc,d,nan\ne,f,1\n").encode(), ["eval"], "line(s) [3] is not a number"),
    ("eval-label-empty", (CSV_HEADER + "a,b,0.2\nc,d,\ne,f,1\n").encode(), ["eval"], "is not a number"),
    ("eval-one-pair", (CSV_HEADER + "a,b,0.2\n").encode(), ["eval"], "at least 2"),
    ("eval-two-pairs", (CSV_HEADER + "a,b,0.2\nc,d,0.4\n").encode(), ["eval"], "always +-1"),
    ("eval-constant", (CSV_HEADER + "a,b,0.2\nc,d,0.2\ne,f,0.2\n").encode(), ["eval"], "constant labels"),
    ("eval-0-to-5", (CSV_HEADER + "a,b,4.5\nc,d,0.2\ne,f,1\n").encode(), ["eval"], "labels span 0.2..4.5"),
    (
        "eval-nli-name",
        (CSV_HEADER + "a,b,maybe\nc,d,entailment\n").encode(),
        ["eval", "--model", "{three}"],
        "'maybe' is not a known label",
    ),  # fmt: skip
    ("eval-nli-id", (CSV_HEADER + "a,b,5\nc,d,0\n").encode(), ["eval", "--model", "{three}"], "class id 5"),
]


def _file(tmp: Path) -> str:
    (tmp / "a-file").write_text("not a folder")
    return str(tmp / "a-file")


def _mirror(tmp: Path, name: str, odd: str) -> Path:
    """A tiny mirror whose `name` files have a good row (line 2) and a row labelled `odd` (line 3)."""
    root = tmp / "mirror"
    (root / name).mkdir(parents=True)
    for stem in ("train", "dev", "test"):
        if name == "stsb":
            text = "genre\tdataset\tyear\tsid\tscore\tsentence1\tsentence2\n"
            text += f"g\td\t2012\t1\t4.0\ta man\ta dog\ng\td\t2012\t2\t{odd}\ta cat\ta car\n"
        else:
            text = f"premise\thypothesis\tlabel\na man\ta dog\tEntailment\na cat\ta car\t{odd}\n"
        (root / name / f"{stem}.tsv").write_text(text)
    return root


def _broken(models, tmp: Path, what: str) -> str:
    """A copy of the one-label model folder with its tokenizer files, its config or its weights gone or empty."""
    folder = tmp / f"broken-{what}"
    shutil.copytree(models["one"], folder)
    if what == "tokenizer":
        for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
            (folder / name).unlink(missing_ok=True)
    elif what == "config":
        (folder / "config.json").write_text("")  # a process killed while writing it
    else:
        (folder / "model.safetensors").unlink()
    return str(folder)


def _trainer(models, name: str, task: str, **kw):
    model = BertForSequenceClassification.from_pretrained(models[name])
    return CrossEncoderTrainer(model=model, task=task, **kw)


@pytest.mark.parametrize(("call", "error", "words"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_api(call, error, words, models, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the untrained-head warning of some cases is not what they test
        with pytest.raises(error, match=words):
            call(models, tmp_path)


@pytest.mark.parametrize(("flags", "error", "words"), [c[1:] for c in TRAIN_CASES], ids=[c[0] for c in TRAIN_CASES])
def test_train(flags, error, words, models, tmp_path):
    ckpt = tmp_path / "ckpt"
    (ckpt / "checkpoint-4").mkdir(parents=True)
    (ckpt / "checkpoint-4" / "trainer_state.json").write_text(json.dumps({}))  # saved with --save_only_model
    values = {"tmp": tmp_path, "ckpt": ckpt, **models}
    argv = ["--model", models["one"], "--output_dir", str(tmp_path / "out"), *FAST]
    with pytest.raises(error, match=words):
        main(*parse_args(argv + [f.format(**values) for f in flags]))
    assert (ckpt / "checkpoint-4" / "trainer_state.json").exists()  # nothing of another run was touched


@pytest.mark.parametrize(("content", "command", "words"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli(content, command, words, models, tmp_path, capsys):
    data = tmp_path / "pairs.csv"
    if content is not None:
        data.write_bytes(content)
    values = {"tmp": tmp_path, "file": data, **models}
    argv = [a.format(**values) for a in command]
    if "--model" not in argv:
        argv += ["--model", models["one"]]
    if "--input" not in argv:
        argv += ["--input" if argv[0] == "predict" else "--data", str(data)]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(SystemExit) as stop:
        cli(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and words in err and "Traceback" not in err, err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before  # no file written or changed


def test_enough_cases():
    assert len(API_CASES) + len(TRAIN_CASES) + len(CLI_CASES) >= 60


def test_a_save_cut_short_leaves_no_folder_that_loads_and_keeps_other_files(models, tmp_path, monkeypatch):
    out = tmp_path / "model"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    model = one(models)
    model.save_pretrained(out, overwrite=True)
    assert CrossEncoder(str(out)).predict(PAIRS).shape == (2,)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process stops after the weights, before the tokenizer

    monkeypatch.setattr(type(model.tokenizer), "save_pretrained", killed)
    with pytest.raises(KeyboardInterrupt):
        model.save_pretrained(out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and not list(tmp_path.glob(".model.saving*"))
    assert (out / "config.json").exists()  # the staging folder was dropped: the earlier save is intact
    assert CrossEncoder(str(out)).predict(PAIRS).shape == (2,)


def test_a_save_killed_while_moving_files_in_leaves_a_folder_that_refuses_to_load(models, tmp_path, monkeypatch):
    out = tmp_path / "model"
    one(models).save_pretrained(out)
    real, moved = os.replace, []

    def replace(src, dst):
        if moved:  # the first file is in place, then the process dies
            raise KeyboardInterrupt
        moved.append(dst)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        one(models).save_pretrained(out, overwrite=True)
    monkeypatch.undo()
    with pytest.raises(FileNotFoundError, match="no config.json"):  # never a mix of two saves
        CrossEncoder(str(out))


def test_a_cut_pair_is_scored_as_the_tokenizer_truncates_it_and_a_full_one_is_not_counted(models):
    model = CrossEncoder(models["one"], max_length=16, device="cpu")
    words = "a man is playing a guitar on the stage tonight with his old friend".split()
    exact = next(" ".join(words[:n]) for n in range(1, len(words) + 1)
                 if len(model.tokenizer("a dog", " ".join(words[:n]))["input_ids"]) == 16)  # fmt: skip
    pairs = [["a man", " ".join(words * 3)], ["a dog", exact]]
    scores = model.predict(pairs)
    assert model.last_truncated == 1  # the pair of exactly max_length tokens was not cut
    enc = model.tokenizer(*map(list, zip(*pairs)), truncation=True, max_length=16, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = torch.sigmoid(model.model.eval()(**enc).logits).squeeze(-1).numpy()
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_readers_accept_any_letter_case_and_skip_only_snli_no_gold_rows(tmp_path):
    data = read_nli(_mirror(tmp_path, "snli", "-"), "snli")  # "-": SNLI's pairs without a gold label
    assert data["test"]["label"] == [0]  # "Entailment" read as entailment; the "-" row is the one left out


def test_predict_counts_and_reports_the_pairs_it_truncates(models, caplog):
    model = CrossEncoder(models["one"], max_length=16, device="cpu")
    long = " ".join(["a man is playing a guitar"] * 10)
    with caplog.at_level("WARNING"):
        model.predict([["a man", long], ["a dog", "a cat"], ["a man", long]])
    assert model.last_truncated == 2 and "2 of 3 pairs were longer than max_length=16" in caplog.text
    model.predict(PAIRS)
    assert model.last_truncated == 0
    model.predict([["a man", long]])
    with pytest.raises(TypeError):
        model.predict([["a man", long], ["a dog", 3]])  # a failed call reports no count of its own
    assert model.last_truncated == 0


def test_predict_refuses_an_output_that_is_the_input_through_a_link(models, tmp_path, capsys):
    data = tmp_path / "pairs.csv"
    data.write_text("sentence1,sentence2,label\na,b,0.5\n")
    os.link(data, tmp_path / "hard.csv")
    (tmp_path / "soft.csv").symlink_to(data)
    for link in ("hard.csv", "soft.csv"):
        argv = ["predict", "--model", models["one"], "--input", str(data), "--output", str(tmp_path / link)]
        with pytest.raises(SystemExit) as stop:
            cli([*argv, "--overwrite"])
        assert stop.value.code == 2 and "is the input file" in capsys.readouterr().err
    assert data.read_text() == "sentence1,sentence2,label\na,b,0.5\n"  # labels kept


def test_an_overwriting_save_removes_the_weights_it_replaces(models, tmp_path):
    out = tmp_path / "model"
    one(models).save_pretrained(out)
    (out / "pytorch_model.bin").write_bytes(b"an older save's pickle")
    (out / "notes.txt").write_text("mine")
    one(models).save_pretrained(out, overwrite=True)
    assert not (out / "pytorch_model.bin").exists() and (out / "notes.txt").read_text() == "mine"
    assert CrossEncoder(str(out)).predict(PAIRS).shape == (2,)


def test_eval_ranks_candidate_lists_and_refuses_a_retrieval_set(models, capsys):
    cli(["eval", "--model", models["one"], "--dataset", "trecqa", "--split", "validation"])
    printed = capsys.readouterr().out
    assert "map" in printed and "mrr@10" in printed and "spearman" not in printed  # 0/1 labels get MAP, not Spearman
    with pytest.raises(SystemExit) as stop:
        cli(["eval", "--model", models["one"], "--dataset", "scifact"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "retrieval set" in err and "Traceback" not in err


def test_a_trailing_separator_on_every_row_reads_the_pairs_unshifted(tmp_path):
    data = tmp_path / "pairs.tsv"
    data.write_text("sentence1\tsentence2\tlabel\na man\ta dog\t0.5\t\nc\td\t0.1\t\n")
    df = read_pairs(str(data))
    assert df["sentence1"].tolist() == ["a man", "c"] and df["label"].tolist() == ["0.5", "0.1"]


def test_predict_and_rank_take_tables_and_arrays(models):
    import pandas as pd

    model = one(models)
    expected = model.predict(PAIRS)
    frame = pd.DataFrame({"sentence2": [b for _, b in PAIRS], "sentence1": [a for a, _ in PAIRS]})
    np.testing.assert_allclose(model.predict(frame), expected, atol=1e-6)  # by name, whatever the order
    np.testing.assert_allclose(model.predict(np.array(PAIRS)), expected, atol=1e-6)
    ranked = model.rank(PAIRS[0][0], np.array([PAIRS[0][1], "the market fell"]))
    assert sorted(r["corpus_id"] for r in ranked) == [0, 1]


def test_a_reranker_refuses_training_data_without_a_relevant_candidate(models, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror" / "trecqa"
    mirror.mkdir(parents=True)
    rows = "qtext,label,atext\n" + "".join(f"question {q},0,answer {q}{i}\n" for q in range(3) for i in range(3))
    relevant = rows.replace(",0,answer 00", ",1,answer 00")  # dev and test have one relevant answer
    for split in ("train", "dev", "test"):
        (mirror / f"{split}.csv").write_text(rows if split == "train" else relevant)
    monkeypatch.setenv("XENC_DATA_DIR", str(tmp_path / "mirror"))
    flags = ["--model", models["one"], "--dataset", "trecqa", "--output_dir", str(tmp_path / "out")]
    with pytest.raises(ValueError, match="no candidate is relevant"):
        main(*parse_args(flags))


def test_predict_reads_pickle_weights_only_when_asked(models, tmp_path, capsys):
    data = tmp_path / "pairs.csv"
    data.write_text("sentence1,sentence2\na man,a dog\n")
    with pytest.raises(SystemExit) as stop:
        cli(["predict", "--model", models["pickle"], "--input", str(data)])
    assert stop.value.code == 2 and "xenc eval / predict: --allow_pickle" in capsys.readouterr().err
    cli(["predict", "--model", models["pickle"], "--input", str(data), "--allow_pickle", "--allow_untrained_head"])
    assert "a man" in capsys.readouterr().out


def test_a_truncated_weights_file_is_named(models, tmp_path, capsys):
    folder = shutil.copytree(models["one"], tmp_path / "cut")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(OSError, match="cut short or changed. Fix: save or download the model again"):
        CrossEncoder(str(folder))
    with pytest.raises(SystemExit) as stop:
        cli(["eval", "--model", str(folder), "--dataset", "stsb"])
    assert stop.value.code == 2 and "cut short" in capsys.readouterr().err


def test_fit_reads_an_iterable_dataset(models, tmp_path):
    from torch.utils.data import IterableDataset

    class Stream(IterableDataset):
        def __iter__(self):
            yield from (InputExample(texts=list(pair), label=0.5) for pair in PAIRS)

    model = CrossEncoder(models["one"])
    model.fit(DataLoader(Stream(), batch_size=2), epochs=1, show_progress_bar=False, output_path=str(tmp_path / "m"))
    assert CrossEncoder(str(tmp_path / "m")).predict(PAIRS).shape == (2,)


@pytest.mark.parametrize(("model", "dataset", "words"), [
    ("three", "stsb", "holds 0..1 scores, but the model has 3 class outputs"),
    ("one", "sick-e", "holds class labels, but the model gives one score per pair"),
])  # fmt: skip
def test_eval_names_a_head_made_for_the_other_kind_of_label(model, dataset, words, models, capsys):
    with pytest.raises(SystemExit) as stop:
        cli(["eval", "--model", models[model], "--dataset", dataset, "--split", "validation"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and words in err and "Fix:" in err


@pytest.mark.parametrize("tolerance", ["0.005", None, float("nan"), True])
def test_a_quality_tolerance_that_is_not_a_number_is_refused_at_construction(tiny_model_dir, tolerance):
    with pytest.raises(TypeError, match="quality_tolerance=.*pass a number"):
        CrossEncoder(str(tiny_model_dir), quality_tolerance=tolerance)
